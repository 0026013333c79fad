#include "pipeline/ops/restore_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "formats/extjson.hpp"
#include "io/wire.hpp"

namespace bsonpipe::pipeline {

namespace fs = std::filesystem;
using formats::Builder;
using formats::Bytes;
using formats::ByteSpan;
using formats::DocView;

namespace {

constexpr std::size_t kMagicSize = sizeof(kJournalMagic);
constexpr std::size_t kMaxRecord = 1024 * 1024;

std::string errno_text() {
  return std::strerror(errno);
}

std::string get_string(DocView d, std::string_view key) {
  auto e = d.find(key);
  return e.valid() && e.type() == formats::BsonType::kString ? std::string(e.as_string()) : std::string();
}
std::int64_t get_int64(DocView d, std::string_view key) {
  auto e = d.find(key);
  if (!e.valid()) return -1;
  if (e.type() == formats::BsonType::kInt64) return e.as_int64();
  if (e.type() == formats::BsonType::kInt32) return e.as_int32();
  return -1;
}

std::string render(const formats::ElementView& e) {
  if (!e.valid()) return "(absent)";
  Builder b;
  b.append_element("v", e);
  Bytes doc = b.finish();
  std::string s = formats::extjson::to_json(DocView(doc));
  // {"v": X} -> X
  auto colon = s.find(':');
  if (colon != std::string::npos && s.size() > colon + 2) s = s.substr(colon + 1, s.size() - colon - 2);
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

bool storage_is_local(io::Storage& storage) {
  return &storage == &io::local_storage();
}

}  // namespace

bool JournalState::batch_done(const std::string& ns, std::int64_t begin, std::int64_t end) const {
  auto it = batches.find(ns);
  return it != batches.end() && it->second.count({begin, end}) > 0;
}

Bytes frame_journal_record(DocView payload) {
  Bytes out(8 + payload.size());
  auto len = static_cast<std::uint32_t>(payload.size());
  std::uint32_t crc = io::crc32c(payload.bytes());
  std::memcpy(out.data(), &len, 4);
  std::memcpy(out.data() + 4, &crc, 4);
  std::memcpy(out.data() + 8, payload.data(), payload.size());
  return out;
}

std::string identity_difference(DocView journal, DocView now, std::string* journal_value, std::string* now_value) {
  auto differs = [&](std::string_view key) {
    auto a = journal.find(key);
    auto b = now.find(key);
    bool same = a.valid() == b.valid() &&
                (!a.valid() || (a.type() == b.type() && a.value().size() == b.value().size() &&
                                std::memcmp(a.value().data(), b.value().data(), a.value().size()) == 0));
    if (same) return false;
    if (journal_value) *journal_value = render(a);
    if (now_value) *now_value = render(b);
    return true;
  };
  for (auto e : journal)
    if (differs(e.key())) return std::string(e.key());
  for (auto e : now)
    if (differs(e.key())) return std::string(e.key());
  return {};
}

Result<JournalState> read_journal(const fs::path& path, io::Storage& storage) {
  auto all = storage.read_all(path);
  if (!all) return Status{ErrorCode::kIo, "restore journal " + path.string() + ": cannot open it"};
  Bytes data = std::move(*all);
  auto bad = [&](const std::string& what, std::size_t at) {
    return Status{ErrorCode::kInvalidArgument, "restore journal " + path.string() + ": " + what,
                  static_cast<std::int64_t>(at)};
  };
  if (data.size() < kMagicSize || std::memcmp(data.data(), kJournalMagic, kMagicSize) != 0)
    return bad("not a bsonpipe restore journal (bad magic)", 0);
  JournalState st;
  std::size_t pos = kMagicSize;
  bool have_header = false;
  while (pos < data.size()) {
    std::size_t left = data.size() - pos;
    if (left < 8) {
      st.torn_tail = true;
      break;
    }
    std::uint32_t len = formats::load_u32(data.data() + pos);
    std::uint32_t crc = formats::load_u32(data.data() + pos + 4);
    if (len < 5 || len > kMaxRecord) {
      // A zero-filled tail is what some file systems leave after a crash mid-append.
      bool zeros = std::all_of(data.begin() + static_cast<std::ptrdiff_t>(pos), data.end(),
                               [](std::uint8_t c) { return c == 0; });
      if (!zeros) return bad("corrupt record length " + std::to_string(len), pos);
      st.torn_tail = true;
      break;
    }
    if (left - 8 < len) {
      st.torn_tail = true;  // the last append did not finish
      break;
    }
    ByteSpan payload(data.data() + pos + 8, len);
    if (io::crc32c(payload) != crc || formats::load_u32(payload.data()) != len) {
      if (pos + 8 + len == data.size()) {
        st.torn_tail = true;  // the last record, torn
        break;
      }
      return bad("checksum mismatch in a record followed by further records (the journal is corrupt)", pos);
    }
    DocView rec(payload);
    std::string t = get_string(rec, "t");
    if (!have_header) {
      if (t != "header") return bad("the first record is not a header", pos);
      auto id = rec.find("identity");
      if (!id.valid() || id.type() != formats::BsonType::kDocument) return bad("header without identity", pos);
      DocView idv = id.as_document();
      st.identity.assign(idv.data(), idv.data() + idv.size());
      have_header = true;
    } else {
      ++st.records;
      if (t == "start") {
        st.started.insert(get_string(rec, "ns"));
      } else if (t == "batch") {
        st.batches[get_string(rec, "ns")].insert({get_int64(rec, "b"), get_int64(rec, "e")});
      } else if (t == "done") {
        st.done.insert(get_string(rec, "ns"));
      } else if (t == "oplog") {
        st.oplog_batches.insert({get_int64(rec, "b"), get_int64(rec, "e")});
      } else if (t == "complete") {
        st.complete = true;
      } else {
        return bad("unknown record type '" + t + "'", pos);
      }
    }
    pos += 8 + len;
    st.valid_bytes = pos;
  }
  if (!have_header) {
    if (st.torn_tail || data.size() == kMagicSize) {
      // Killed while the fresh journal was being written: it says nothing was done.
      st.valid_bytes = 0;
      return bad("the journal has no header (torn while being created): run without --resume", kMagicSize);
    }
    return bad("the journal has no header", kMagicSize);
  }
  return st;
}

RestoreJournal::~RestoreJournal() {
  if (fd_ >= 0) ::close(fd_);
}

Status RestoreJournal::write_all(ByteSpan bytes) {
  if (fd_ < 0) {
    // Storage other than the local file system has no append: the journal is written anew
    // (published atomically by commit), so it is always whole.
    contents_.insert(contents_.end(), bytes.begin(), bytes.end());
    if (auto s = storage_->write_all(path_, contents_, true); !s)
      return {s.code(), "writing restore journal " + path_.string() + ": " + s.message()};
    return {};
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return {ErrorCode::kIo, "writing restore journal " + path_.string() + ": " + errno_text()};
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Status RestoreJournal::sync() {
  if (fd_ >= 0 && ::fdatasync(fd_) != 0)
    return {ErrorCode::kIo, "syncing restore journal " + path_.string() + ": " + errno_text()};
  return {};
}

Status RestoreJournal::open_for_append() {
  if (!storage_is_local(*storage_)) return {};  // rewritten through the storage instead
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd_ < 0) return {ErrorCode::kIo, "opening restore journal " + path_.string() + ": " + errno_text()};
  // Cut a torn tail off before appending after it.
  if (::ftruncate(fd_, static_cast<off_t>(state_.valid_bytes)) != 0 || ::lseek(fd_, 0, SEEK_END) < 0 ||
      ::fdatasync(fd_) != 0)
    return {ErrorCode::kIo, "truncating restore journal " + path_.string() + ": " + errno_text()};
  return {};
}

Result<std::unique_ptr<RestoreJournal>> RestoreJournal::create(const fs::path& path, DocView identity,
                                                               io::Storage& storage) {
  auto j = std::unique_ptr<RestoreJournal>(new RestoreJournal());
  j->path_ = path;
  j->storage_ = &storage;
  Bytes head(kJournalMagic, kJournalMagic + kMagicSize);
  Bytes rec = Builder().append_string("t", "header").append_document("identity", identity).finish();
  Bytes framed = frame_journal_record(DocView(rec));
  head.insert(head.end(), framed.begin(), framed.end());
  // Published whole (written under a temporary name, synced, renamed): a crash leaves either the
  // old journal or the new empty one.
  if (auto s = storage.write_all(path, head, true); !s)
    return Status{s.code(), "creating restore journal " + path.string() + ": " + s.message()};
  j->state_.identity.assign(identity.data(), identity.data() + identity.size());
  j->state_.valid_bytes = head.size();
  j->contents_ = std::move(head);
  if (auto s = j->open_for_append(); !s) return s;
  return j;
}

Result<std::unique_ptr<RestoreJournal>> RestoreJournal::resume(const fs::path& path, DocView identity,
                                                               io::Storage& storage) {
  auto st = read_journal(path, storage);
  if (!st) return st.status();
  std::string was, now;
  std::string key = identity_difference(DocView(st->identity), identity, &was, &now);
  if (!key.empty())
    return Status{ErrorCode::kInvalidArgument, "restore journal " + path.string() +
                                                   " was written for a different restore: '" + key + "' was " + was +
                                                   ", now " + now +
                                                   "; resume with the same dump and options, or run without --resume "
                                                   "to start over"};
  auto j = std::unique_ptr<RestoreJournal>(new RestoreJournal());
  j->path_ = path;
  j->storage_ = &storage;
  j->state_ = std::move(*st);
  if (storage_is_local(storage)) {
    if (auto s = j->open_for_append(); !s) return s;
  } else {
    // Keep the whole records only: the next rewrite drops a torn tail.
    auto all = storage.read_all(path);
    if (!all) return all.status();
    j->contents_.assign(all->begin(), all->begin() + static_cast<std::ptrdiff_t>(j->state_.valid_bytes));
  }
  return j;
}

Status RestoreJournal::append(DocView payload) {
  Bytes framed = frame_journal_record(payload);
  std::lock_guard lock(mu_);
  if (!failed_.is_ok()) return failed_;
  if (auto s = write_all(framed); !s) {
    failed_ = s;
    return s;
  }
  if (auto s = sync(); !s) {
    failed_ = s;
    return failed_;
  }
  return {};
}

Status RestoreJournal::record_started(const std::string& ns) {
  Bytes b = Builder().append_string("t", "start").append_string("ns", ns).finish();
  return append(DocView(b));
}

Status RestoreJournal::record_batch(const std::string& ns, const std::string& source, std::int64_t begin,
                                    std::int64_t end, std::uint64_t count) {
  Bytes b = Builder()
                .append_string("t", "batch")
                .append_string("ns", ns)
                .append_string("src", source)
                .append_int64("b", begin)
                .append_int64("e", end)
                .append_int64("n", static_cast<std::int64_t>(count))
                .finish();
  return append(DocView(b));
}

Status RestoreJournal::record_done(const std::string& ns) {
  Bytes b = Builder().append_string("t", "done").append_string("ns", ns).finish();
  return append(DocView(b));
}

Status RestoreJournal::record_oplog_batch(std::int64_t begin, std::int64_t end, std::uint64_t count) {
  Bytes b = Builder()
                .append_string("t", "oplog")
                .append_int64("b", begin)
                .append_int64("e", end)
                .append_int64("n", static_cast<std::int64_t>(count))
                .finish();
  return append(DocView(b));
}

Status RestoreJournal::record_complete() {
  Bytes b = Builder().append_string("t", "complete").finish();
  return append(DocView(b));
}

}  // namespace bsonpipe::pipeline
