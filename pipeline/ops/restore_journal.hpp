// The restore journal (bsonpipe restore --resume): an append-only file recording which batches of
// which namespace are durably inserted, so an interrupted restore can continue where it stopped.
//
// File: 8 magic bytes "BPRJRNL1", then records [u32 length][u32 crc32c of payload][payload], each
// payload one BSON document {t: kind, ...}. The first record is the header (the restore's
// identity: input, filters, batch options). Every append is one write() followed by fdatasync(),
// so a record is either whole and checksummed or the torn tail of a killed run: a last record that
// is incomplete or fails its checksum is ignored (and truncated away before appending). A record
// that fails its checksum with whole records after it is corruption, not a torn write: refused.
//
// Every access goes through io::Storage: the header is published whole (create + commit). On the
// local file system records are then appended to the file and fdatasync'ed; a storage without
// append (object storage, the tests' fault-injecting wrapper) gets the whole journal rewritten
// and committed per record instead.
//
// Threading: append calls are serialised internally (any thread); the state is read-only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "formats/bson.hpp"
#include "formats/status.hpp"
#include "io/storage.hpp"

namespace bsonpipe::pipeline {

// What a journal says was done, as of the moment it was opened.
struct JournalState {
  formats::Bytes identity;        // the header's identity document
  std::set<std::string> started;  // target namespaces dropped/created, loading begun
  std::set<std::string> done;     // target namespaces loaded and indexed
  std::map<std::string, std::set<std::pair<std::int64_t, std::int64_t>>> batches;  // ns -> [begin, end)
  std::set<std::pair<std::int64_t, std::int64_t>> oplog_batches;                   // applied oplog ranges
  bool complete = false;                                                           // the run finished successfully
  bool torn_tail = false;         // a torn last record was found and ignored
  std::uint64_t records = 0;      // whole records after the header
  std::uint64_t valid_bytes = 0;  // length of the file up to the last whole record

  bool batch_done(const std::string& ns, std::int64_t begin, std::int64_t end) const;
  bool oplog_batch_done(std::int64_t begin, std::int64_t end) const { return oplog_batches.count({begin, end}) > 0; }
};

// Reads a journal file. Fails on a missing/unreadable file, bad magic, a missing header, or a
// corrupt record that is not the tail (the message names the file and the record's offset).
Result<JournalState> read_journal(const std::filesystem::path& path, io::Storage& storage = io::local_storage());

// The first key whose value differs between two identity documents ("" when equal), with both
// values rendered for a message.
std::string identity_difference(formats::DocView journal, formats::DocView now, std::string* journal_value,
                                std::string* now_value);

class RestoreJournal {
 public:
  // A fresh journal for `identity`, replacing any file at `path` (written to a temporary name,
  // synced and renamed, so a crash leaves either the old journal or the new empty one).
  static Result<std::unique_ptr<RestoreJournal>> create(const std::filesystem::path& path, formats::DocView identity,
                                                        io::Storage& storage = io::local_storage());
  // Continues an existing journal: reads it, refuses a different identity (a clear message naming
  // the differing option), truncates a torn tail and opens it for appending.
  static Result<std::unique_ptr<RestoreJournal>> resume(const std::filesystem::path& path, formats::DocView identity,
                                                        io::Storage& storage = io::local_storage());
  ~RestoreJournal();
  RestoreJournal(const RestoreJournal&) = delete;
  RestoreJournal& operator=(const RestoreJournal&) = delete;

  const JournalState& state() const { return state_; }
  const std::filesystem::path& path() const { return path_; }

  // Each appends one record and syncs it before returning. Any thread.
  Status record_started(const std::string& ns);
  Status record_batch(const std::string& ns, const std::string& source, std::int64_t begin, std::int64_t end,
                      std::uint64_t count);
  Status record_done(const std::string& ns);
  Status record_oplog_batch(std::int64_t begin, std::int64_t end, std::uint64_t count);
  Status record_complete();

 private:
  RestoreJournal() = default;
  Status append(formats::DocView payload);
  Status write_all(formats::ByteSpan bytes);
  Status sync();
  Status open_for_append();  // local file system: the fd records are appended to

  std::filesystem::path path_;
  io::Storage* storage_ = nullptr;
  int fd_ = -1;              // local file system only
  formats::Bytes contents_;  // other storage: the journal so far, rewritten per record
  std::mutex mu_;
  Status failed_;  // after a failed write the journal refuses further appends
  JournalState state_;
};

// Frames one record (length, crc32c, payload), as the file format above describes it.
formats::Bytes frame_journal_record(formats::DocView payload);
inline constexpr char kJournalMagic[8] = {'B', 'P', 'R', 'J', 'R', 'N', 'L', '1'};

}  // namespace bsonpipe::pipeline
