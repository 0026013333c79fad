#include "formats/manifest.hpp"

#include "formats/bson.hpp"
#include "formats/extjson.hpp"

namespace bsonpipe::formats {

std::string manifest_to_json(const Manifest& m) {
  Builder b;
  b.append_string("tool", m.tool)
      .append_string("toolVersion", m.tool_version)
      .append_string("source", m.source)
      .append_string("topology", m.topology)
      .append_string("serverVersion", m.server_version)
      .append_string("format", m.format)
      .append_string("compression", m.compression)
      .append_datetime("start", m.start_ms)
      .append_datetime("end", m.end_ms);
  b.open_array("files");
  for (const auto& f : m.files) {
    b.open_document(b.next_array_key())
        .append_string("path", f.path)
        .append_string("ns", f.ns)
        .append_string("kind", f.kind)
        .append_int64("documents", static_cast<std::int64_t>(f.documents))
        .append_int64("rawBytes", static_cast<std::int64_t>(f.raw_bytes))
        .append_int64("storedBytes", static_cast<std::int64_t>(f.stored_bytes))
        .append_string("xxh3_128", f.xxh3_128)
        .close();
  }
  b.close();
  if (!m.bundled_roots.empty() || !m.bundled.empty()) {
    b.open_document("bundled");
    b.open_array("roots");
    for (const auto& r : m.bundled_roots)
      b.open_document(b.next_array_key())
          .append_string("dir", r.dir)
          .append_string("name", r.name)
          .append_string("source", r.source)
          .close();
    b.close();
    b.open_array("files");
    for (const auto& f : m.bundled) {
      b.open_document(b.next_array_key())
          .append_string("path", f.path)
          .append_string("type", f.type)
          .append_int32("mode", static_cast<std::int32_t>(f.mode))
          .append_int64("size", static_cast<std::int64_t>(f.size));
      if (f.type == "file") b.append_string("xxh3_128", f.xxh3_128);
      if (f.type == "symlink") b.append_string("target", f.target);
      b.close();
    }
    b.close();
    b.close();
  }
  b.append_bool("complete", m.complete);
  Bytes doc = b.finish();
  std::string out = extjson::to_json(DocView(doc), {.mode = extjson::Mode::kRelaxed, .indent = 2});
  out.push_back('\n');
  return out;
}

namespace {

Status bad(std::string_view field, std::string_view want) {
  return {ErrorCode::kInvalidJson,
          "manifest.json: field '" + std::string(field) + "' is missing or not " + std::string(want)};
}

Status get_string(DocView d, std::string_view key, std::string& out) {
  auto e = d.find(key);
  if (!e.valid() || e.type() != BsonType::kString) return bad(key, "a string");
  out = std::string(e.as_string());
  return {};
}

Status get_count(DocView d, std::string_view key, std::uint64_t& out) {
  auto e = d.find(key);
  if (!e.valid()) return bad(key, "a number");
  std::int64_t v;
  if (e.type() == BsonType::kInt32)
    v = e.as_int32();
  else if (e.type() == BsonType::kInt64)
    v = e.as_int64();
  else
    return bad(key, "an integer");
  if (v < 0) return bad(key, "a non-negative integer");
  out = static_cast<std::uint64_t>(v);
  return {};
}

Status get_date(DocView d, std::string_view key, std::int64_t& out) {
  auto e = d.find(key);
  if (!e.valid() || e.type() != BsonType::kDateTime) return bad(key, "a date");
  out = e.as_datetime();
  return {};
}

Status unsafe(std::string_view what, std::string_view path) {
  return {ErrorCode::kInvalidJson,
          "manifest.json: " + std::string(what) + " '" + std::string(path) + "' leaves the dump"};
}

// The "bundled" section (optional).
Status read_bundled(DocView section, Manifest& m) {
  auto roots = section.find("roots");
  if (!roots.valid() || roots.type() != BsonType::kArray) return bad("bundled.roots", "an array");
  for (auto re : roots.as_document()) {
    if (re.type() != BsonType::kDocument) return bad("bundled.roots[]", "a document");
    BundledRoot r;
    for (auto [key, field] : {std::pair{"dir", &r.dir}, {"name", &r.name}, {"source", &r.source}})
      if (Status s = get_string(re.as_document(), key, *field); !s) return s;
    std::string prefix = std::string(kBundleDir) + "/";
    if (!is_safe_relative_path(r.dir) || !r.dir.starts_with(prefix) ||
        r.dir.find('/', prefix.size()) != std::string::npos)
      return unsafe("bundled root", r.dir);
    if (!is_safe_relative_path(r.name) || r.name.find('/') != std::string::npos)
      return unsafe("bundled root name", r.name);
    m.bundled_roots.push_back(std::move(r));
  }
  auto files = section.find("files");
  if (!files.valid() || files.type() != BsonType::kArray) return bad("bundled.files", "an array");
  for (auto fe : files.as_document()) {
    if (fe.type() != BsonType::kDocument) return bad("bundled.files[]", "a document");
    DocView fd = fe.as_document();
    BundledFile f;
    if (Status s = get_string(fd, "path", f.path); !s) return s;
    if (Status s = get_string(fd, "type", f.type); !s) return s;
    std::uint64_t mode = 0;
    if (Status s = get_count(fd, "mode", mode); !s) return s;
    if (mode > 07777) return bad("mode", "permission bits (0..07777)");
    f.mode = static_cast<std::uint32_t>(mode);
    if (Status s = get_count(fd, "size", f.size); !s) return s;
    if (f.type == "file") {
      if (Status s = get_string(fd, "xxh3_128", f.xxh3_128); !s) return s;
    } else if (f.type == "symlink") {
      if (Status s = get_string(fd, "target", f.target); !s) return s;
    } else if (f.type != "dir") {
      return bad("bundled.files[].type", "\"file\", \"dir\" or \"symlink\"");
    }
    if (!is_safe_relative_path(f.path)) return unsafe("bundled file path", f.path);
    bool under_root = false;
    for (const auto& r : m.bundled_roots)
      if (f.path.size() > r.dir.size() + 1 && f.path.starts_with(r.dir) && f.path[r.dir.size()] == '/')
        under_root = true;
    if (!under_root) return unsafe("bundled file path", f.path);
    m.bundled.push_back(std::move(f));
  }
  return {};
}

}  // namespace

bool is_safe_relative_path(std::string_view rel) {
  if (rel.empty() || rel.front() == '/' || rel.find('\0') != std::string_view::npos) return false;
  std::size_t pos = 0;
  while (true) {
    std::size_t slash = rel.find('/', pos);
    std::string_view part = rel.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) return true;
    pos = slash + 1;
  }
}

Result<Manifest> manifest_from_json(std::string_view json) {
  auto parsed = extjson::parse(json);
  if (!parsed)
    return Status(ErrorCode::kInvalidJson, "manifest.json: " + parsed.status().message(), parsed.status().offset());
  DocView d(*parsed);
  Manifest m;
  for (auto [key, field] : {std::pair{"tool", &m.tool},
                            {"toolVersion", &m.tool_version},
                            {"source", &m.source},
                            {"topology", &m.topology},
                            {"serverVersion", &m.server_version},
                            {"format", &m.format},
                            {"compression", &m.compression}})
    if (Status s = get_string(d, key, *field); !s) return s;
  if (Status s = get_date(d, "start", m.start_ms); !s) return s;
  if (Status s = get_date(d, "end", m.end_ms); !s) return s;
  auto files = d.find("files");
  if (!files.valid() || files.type() != BsonType::kArray) return bad("files", "an array");
  for (auto fe : files.as_document()) {
    if (fe.type() != BsonType::kDocument) return bad("files[]", "a document");
    DocView fd = fe.as_document();
    ManifestFile f;
    for (auto [key, field] : {std::pair{"path", &f.path}, {"ns", &f.ns}, {"kind", &f.kind}, {"xxh3_128", &f.xxh3_128}})
      if (Status s = get_string(fd, key, *field); !s) return s;
    for (auto [key, field] :
         {std::pair{"documents", &f.documents}, {"rawBytes", &f.raw_bytes}, {"storedBytes", &f.stored_bytes}})
      if (Status s = get_count(fd, key, *field); !s) return s;
    if (f.path.empty() || f.path.front() == '/' || f.path.find("..") != std::string::npos)
      return Status(ErrorCode::kInvalidJson, "manifest.json: file path '" + f.path + "' leaves the dump");
    m.files.push_back(std::move(f));
  }
  if (auto bundled = d.find("bundled"); bundled.valid()) {
    if (bundled.type() != BsonType::kDocument) return bad("bundled", "a document");
    if (Status s = read_bundled(bundled.as_document(), m); !s) return s;
  }
  auto complete = d.find("complete");
  if (!complete.valid() || complete.type() != BsonType::kBool) return bad("complete", "a boolean");
  m.complete = complete.as_bool();
  return m;
}

}  // namespace bsonpipe::formats
