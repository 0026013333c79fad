// Internal to bsonpipe verify: the state one run shares (options, storage, report, problem cap)
// and the one-pass file scan (size, XXH3-128, decompression, document validation) every check uses.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "formats/bson.hpp"
#include "formats/dump_layout.hpp"
#include "formats/hash.hpp"
#include "formats/manifest.hpp"
#include "io/compress.hpp"
#include "io/storage.hpp"
#include "pipeline/ops/verify.hpp"

namespace bsonpipe::pipeline::verify_detail {

// As mongorestore: 16 MiB + 16 KiB; anything longer is a corrupt length prefix.
constexpr std::size_t kMaxDocumentSize = 16 * 1024 * 1024 + 16 * 1024;

// Collects problems, at most `cap` per file. Threading: add() is thread-safe (files are scanned
// in parallel).
class Problems {
 public:
  Problems(VerifyReport& r, std::size_t cap) : r_(r), cap_(cap) {}
  void add(std::string file, std::string ns, std::string message, std::int64_t offset = -1);
  void add(const std::string& file, const std::string& ns, const Status& s) { add(file, ns, s.message(), s.offset()); }

 private:
  VerifyReport& r_;
  std::size_t cap_;
  std::mutex mu_;
  std::map<std::string, std::size_t> per_file_;
};

// One run's shared state. Threading: scan_file() may run on several threads at once; it takes
// `mu` for the report's counters. Everything else (`error` included) runs on the caller's thread.
struct Context {
  const VerifyOptions& opts;
  io::Storage& storage;
  VerifyReport& report;
  Problems problems;
  std::mutex mu;  // guards report's counters while files are scanned in parallel
  Status error;   // the fatal error that stopped the run (run_verify's failure); ok otherwise

  bool interrupted() const { return opts.interrupt.stop_requested(); }
};

// What reading one file found.
struct FileScan {
  bool readable = false;
  std::uint64_t stored_bytes = 0;
  std::string xxh3;
  bool documents_ok = false;  // every byte decompressed and formed whole valid documents
  std::uint64_t documents = 0;
  std::uint64_t raw_bytes = 0;
  formats::MultisetDigest digest;
  formats::Bytes content;  // the decompressed bytes, kept only for small files (metadata, prelude)
};

enum class Content : std::uint8_t { kHashOnly, kDocuments, kText };

// Reads a file once: size and XXH3-128 of the stored bytes; for kDocuments, decompresses and
// validates every document; for kText, decompresses and keeps the text. Problems go to ctx.
FileScan scan_file(Context& ctx, const std::filesystem::path& path, const std::string& rel, const std::string& ns,
                   io::Codec codec, Content what);

// Parses a metadata.json text and checks its index specs; nullopt (and a problem) when it does
// not parse.
std::optional<formats::CollectionMetadata> check_metadata_text(Context& ctx, const std::string& rel,
                                                               const std::string& ns, std::string_view text);

// What Storage::list cannot say: symlinks and special files (FIFOs, sockets) exist only on the
// local file system, and a dump may hold them. kPlain for every path of other storage.
enum class LocalKind : std::uint8_t { kPlain, kSymlink, kSpecial };
LocalKind local_kind(io::Storage& storage, const std::filesystem::path& path);

// A regular file (or a link to one) on local storage; an existing non-directory elsewhere.
bool is_regular_file(io::Storage& storage, const std::filesystem::path& path);

// Runs the checks of a directory dump / an archive / --against (verify_directory.cpp,
// verify_archive.cpp). Findings go to ctx.report, a fatal error to ctx.error.
void verify_directory(Context& ctx);
void verify_archive(Context& ctx);
void compare_with_server(Context& ctx);

}  // namespace bsonpipe::pipeline::verify_detail
