#include "pipeline/ops/verify_scan.hpp"

#include <memory>
#include <set>
#include <system_error>

#include "formats/archive.hpp"
#include "formats/doc_sequence.hpp"

namespace bsonpipe::pipeline::verify_detail {

namespace fs = std::filesystem;
using formats::Bytes;
using formats::ByteSpan;
using formats::DocView;

namespace {

constexpr std::size_t kReadChunk = 1024 * 1024;

// Validates concatenated documents fed in arbitrary chunks (a decompressed .bson stream), counting
// and digesting them. Stops at the first fault: after that, feed() ignores its input.
class DocumentChecker {
 public:
  explicit DocumentChecker(bool check_utf8) {
    vo_.check_utf8 = check_utf8;
    vo_.max_size = kMaxDocumentSize;
  }

  Status feed(ByteSpan data) {
    if (failed_) return {};
    if (pos_ > 0) {
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(pos_));
      base_ += static_cast<std::int64_t>(pos_);
      pos_ = 0;
    }
    pending_.insert(pending_.end(), data.begin(), data.end());
    formats::DocSequence docs(ByteSpan(pending_).subspan(pos_),
                              {.tail = formats::SequenceTail::kLeave, .max_size = kMaxDocumentSize});
    for (DocView doc : docs) {
      if (Status s = formats::validate(doc.bytes(), vo_, at()); !s) return fail(std::move(s));
      digest_.add(doc.bytes());
      ++documents_;
      raw_bytes_ += doc.size();
      pos_ += doc.size();
    }
    const auto& e = docs.error();
    if (e.fault == formats::SequenceFault::kBadLength)
      return fail({ErrorCode::kInvalidBson, "invalid document length " + std::to_string(e.length), at()});
    if (e.fault == formats::SequenceFault::kNoTerminator) {  // as validate() reports it
      Status s = formats::validate(ByteSpan(pending_).subspan(pos_, static_cast<std::size_t>(e.length)), vo_, at());
      return fail(s ? docs.status(base_ + static_cast<std::int64_t>(pos_ - docs.consumed())) : std::move(s));
    }
    return {};
  }

  // At end of input: bytes left over are a document cut short.
  Status finish() {
    if (failed_ || pos_ == pending_.size()) return {};
    std::size_t left = pending_.size() - pos_;
    return fail({ErrorCode::kInvalidBson,
                 "the file ends inside a document (" + std::to_string(left) + " trailing bytes): truncated",
                 base_ + static_cast<std::int64_t>(pos_)});
  }

  bool failed() const { return failed_; }
  std::uint64_t documents() const { return documents_; }
  std::uint64_t raw_bytes() const { return raw_bytes_; }
  const formats::MultisetDigest& digest() const { return digest_; }

 private:
  std::int64_t at() const { return base_ + static_cast<std::int64_t>(pos_); }
  Status fail(Status s) {
    failed_ = true;
    return s;
  }
  formats::ValidateOptions vo_;
  Bytes pending_;
  std::size_t pos_ = 0;
  std::int64_t base_ = 0;
  bool failed_ = false;
  std::uint64_t documents_ = 0;
  std::uint64_t raw_bytes_ = 0;
  formats::MultisetDigest digest_;
};

}  // namespace

void Problems::add(std::string file, std::string ns, std::string message, std::int64_t offset) {
  std::lock_guard lock(mu_);
  if (cap_ && ++per_file_[file] > cap_) {
    ++r_.suppressed;
    return;
  }
  r_.problems.push_back({std::move(file), std::move(ns), offset, std::move(message)});
}

FileScan scan_file(Context& ctx, const fs::path& path, const std::string& rel, const std::string& ns, io::Codec codec,
                   Content what) {
  FileScan out;
  auto f = ctx.storage.open(path);
  if (!f) {
    ctx.problems.add(rel, ns, "cannot open: " + f.status().to_string());
    return out;
  }
  formats::Xxh3Hasher hash;
  std::unique_ptr<io::StreamDecompressor> dec;
  if (what != Content::kHashOnly && codec != io::Codec::kNone) dec = io::StreamDecompressor::create(codec);
  DocumentChecker docs(ctx.opts.check_utf8);
  bool decode_ok = true;
  Bytes buf(kReadChunk);
  Bytes plain;
  while (true) {
    if (ctx.interrupted()) return out;
    auto n = (*f)->read(buf.data(), buf.size());
    if (!n) {
      ctx.problems.add(rel, ns, "read failed: " + n.status().to_string());
      return out;
    }
    if (*n == 0) break;
    ByteSpan chunk(buf.data(), *n);
    hash.update(chunk);
    out.stored_bytes += *n;
    if (what == Content::kHashOnly || !decode_ok) continue;
    ByteSpan data = chunk;
    if (dec) {
      plain.clear();
      if (Status s = dec->feed(chunk, plain); !s) {
        ctx.problems.add(rel, ns, "cannot decompress (" + std::string(io::codec_name(codec)) + "): " + s.to_string());
        decode_ok = false;
        continue;
      }
      data = plain;
    }
    if (what == Content::kText) {
      out.content.insert(out.content.end(), data.begin(), data.end());
    } else if (Status s = docs.feed(data); !s) {
      ctx.problems.add(rel, ns, "invalid BSON: " + s.message() + (dec ? " (offset in the decompressed data)" : ""),
                       s.offset());
      decode_ok = false;
    }
  }
  out.readable = true;
  out.xxh3 = hash.hex_digest();
  if (what == Content::kHashOnly) return out;
  if (decode_ok && dec) {
    if (Status s = dec->finish(); !s) {
      ctx.problems.add(rel, ns, "compressed stream is truncated: " + s.to_string());
      decode_ok = false;
    }
  }
  if (decode_ok && what == Content::kDocuments) {
    if (Status s = docs.finish(); !s) {
      ctx.problems.add(rel, ns, s.message() + (dec ? " (offset in the decompressed data)" : ""), s.offset());
      decode_ok = false;
    }
  }
  out.documents_ok = decode_ok;
  out.documents = docs.documents();
  out.raw_bytes = what == Content::kText ? out.content.size() : docs.raw_bytes();
  out.digest = docs.digest();
  std::lock_guard lock(ctx.mu);
  ctx.report.stored_bytes += out.stored_bytes;
  ctx.report.raw_bytes += out.raw_bytes;
  ctx.report.documents += out.documents;
  ++ctx.report.files_checked;
  return out;
}

namespace {

// Index specs that restore could not use: no key document, an empty key, a key value that is
// neither a number nor a string, no name, a name used twice.
void check_indexes(Context& ctx, const std::string& rel, const std::string& ns, const formats::CollectionMetadata& m) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < m.indexes.size(); ++i) {
    DocView spec(m.indexes[i]);
    std::string label = "index #" + std::to_string(i);
    auto name = spec.find("name");
    if (!name.valid() || name.type() != formats::BsonType::kString || name.as_string().empty()) {
      ctx.problems.add(rel, ns, label + " has no name");
    } else {
      label = "index " + std::string(name.as_string());
      if (!names.insert(std::string(name.as_string())).second) ctx.problems.add(rel, ns, label + " appears twice");
    }
    auto key = spec.find("key");
    if (!key.valid() || key.type() != formats::BsonType::kDocument) {
      ctx.problems.add(rel, ns, label + " has no key document");
      continue;
    }
    DocView k = key.as_document();
    if (k.count() == 0) ctx.problems.add(rel, ns, label + " has an empty key");
    for (auto e : k) {
      auto t = e.type();
      bool number = t == formats::BsonType::kDouble || t == formats::BsonType::kInt32 ||
                    t == formats::BsonType::kInt64 || t == formats::BsonType::kDecimal128;
      // Old servers accepted other values (true, {}, ...); restore converts them with
      // --convertLegacyIndexes, so they are noted, not counted as damage.
      if (!number && t != formats::BsonType::kString)
        ctx.report.notices.push_back(rel + ": " + label + ": key field " + std::string(e.key()) + " has type " +
                                     std::string(formats::type_name(t)) +
                                     " (a legacy spec: restore it with --convertLegacyIndexes)");
    }
  }
}

}  // namespace

std::optional<formats::CollectionMetadata> check_metadata_text(Context& ctx, const std::string& rel,
                                                               const std::string& ns, std::string_view text) {
  auto m = formats::parse_collection_metadata(text);
  if (!m) {
    ctx.problems.add(rel, ns, "metadata does not parse: " + m.status().message(), m.status().offset());
    return std::nullopt;
  }
  check_indexes(ctx, rel, ns, *m);
  return std::move(*m);
}

LocalKind local_kind(io::Storage& storage, const fs::path& path) {
  if (&storage != &io::local_storage()) return LocalKind::kPlain;
  std::error_code ec;
  auto link = fs::symlink_status(path, ec);
  if (fs::is_symlink(link)) return LocalKind::kSymlink;
  if (fs::is_regular_file(link) || fs::is_directory(link) || ec) return LocalKind::kPlain;
  return LocalKind::kSpecial;
}

bool is_regular_file(io::Storage& storage, const fs::path& path) {
  if (&storage == &io::local_storage()) {
    std::error_code ec;
    return fs::is_regular_file(path, ec);
  }
  auto exists = storage.exists(path);
  if (!exists || !*exists) return false;
  auto dir = storage.is_directory(path);
  return dir && !*dir;
}

}  // namespace bsonpipe::pipeline::verify_detail
