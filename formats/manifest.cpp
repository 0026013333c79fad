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

}  // namespace

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
  auto complete = d.find("complete");
  if (!complete.valid() || complete.type() != BsonType::kBool) return bad("complete", "a boolean");
  m.complete = complete.as_bool();
  return m;
}

}  // namespace bsonpipe::formats
