#include "formats/dump_layout.hpp"

#include <array>
#include <cstring>

#include "formats/archive.hpp"
#include "formats/extjson.hpp"

namespace bsonpipe::formats {
namespace {

// SHA-1 (FIPS 180-4). Only used to name files the way mongodump does, never for security.
std::array<std::uint8_t, 20> sha1(std::string_view data) {
  std::uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
  auto rotl = [](std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
  auto block = [&](const std::uint8_t* p) {
    std::uint32_t w[80];
    for (int t = 0; t < 16; ++t) {
      w[t] = (std::uint32_t{p[4 * t]} << 24) | (std::uint32_t{p[4 * t + 1]} << 16) |
             (std::uint32_t{p[4 * t + 2]} << 8) | std::uint32_t{p[4 * t + 3]};
    }
    for (int t = 16; t < 80; ++t) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; ++t) {
      std::uint32_t f, k;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999u;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1u;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDCu;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6u;
      }
      std::uint32_t tmp = rotl(a, 5) + f + e + k + w[t];
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  };
  const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
  std::size_t n = data.size();
  std::size_t full = n / 64;
  for (std::size_t i = 0; i < full; ++i) block(p + 64 * i);
  // Padding: 0x80, zeros, then the message length in bits, big-endian, ending a block.
  std::uint8_t tail[128] = {};
  std::size_t rest = n - 64 * full;
  if (rest > 0) std::memcpy(tail, p + 64 * full, rest);
  tail[rest] = 0x80;
  std::size_t tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
  const std::uint64_t bits = static_cast<std::uint64_t>(n) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 1 - i] = static_cast<std::uint8_t>(bits >> (8 * i));
  block(tail);
  if (tail_len == 128) block(tail + 64);
  std::array<std::uint8_t, 20> out{};
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<std::uint8_t>(h[i] >> (24 - 8 * j));
  }
  return out;
}

std::string base64url_unpadded(std::span<const std::uint8_t> in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (std::size_t left = in.size() - i; left > 0) {
    std::uint32_t v = std::uint32_t{in[i]} << 16;
    if (left == 2) v |= std::uint32_t{in[i + 1]} << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (left == 2) out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status json_error(std::string message) {
  return {ErrorCode::kInvalidJson, std::move(message)};
}

// Go encoding/json string escaping (with its default HTML escaping).
void append_go_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    std::string_view seq = s.substr(i, len);
    if (len == 1 || seq.size() < len || !is_valid_utf8(seq)) {
      out += "\\ufffd";  // Go replaces each invalid byte
      ++i;
      continue;
    }
    if (seq == "\xE2\x80\xA8" || seq == "\xE2\x80\xA9") {
      out += seq == "\xE2\x80\xA8" ? "\\u2028" : "\\u2029";
    } else {
      out += seq;
    }
    i += len;
  }
  out.push_back('"');
}

}  // namespace

std::string query_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

Result<std::string> query_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Status{ErrorCode::kInvalidArgument, "invalid escape in file name '" + std::string(s) + "'",
                      static_cast<std::int64_t>(i)};
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string collection_name_hash(std::string_view collection) {
  return base64url_unpadded(sha1(collection));
}

std::string collection_file_stem(std::string_view collection) {
  std::string escaped = query_escape(collection);
  if (escaped.size() <= kMaxFileStemLength) return escaped;
  escaped.resize(kTruncatedStemPrefix);
  return escaped + "%24" + collection_name_hash(collection);
}

bool is_truncated_stem(std::string_view stem) {
  return stem.size() == kMaxFileStemLength && stem.find("%24") != std::string_view::npos;
}

Result<std::string> collection_from_stem(std::string_view stem, std::string_view metadata_collection_name) {
  std::string name;
  if (is_truncated_stem(stem)) {
    if (metadata_collection_name.empty()) {
      return Status{ErrorCode::kInvalidArgument,
                    "file name '" + std::string(stem) + "' is truncated and its metadata.json has no collectionName"};
    }
    if (collection_file_stem(metadata_collection_name) != stem) {
      return Status{ErrorCode::kInvalidArgument, "collectionName '" + std::string(metadata_collection_name) +
                                                     "' in metadata.json does not match the file name '" +
                                                     std::string(stem) + "'"};
    }
    name = metadata_collection_name;
  } else {
    auto unescaped = query_unescape(stem);
    if (!unescaped) return unescaped.status();
    name = std::move(*unescaped);
  }
  return name;
}

std::string_view compression_suffix(Compression c) {
  return codec_info(c).suffix;
}

std::optional<DumpFileName> split_dump_file_name(std::string_view file_name) {
  DumpFileName out;
  std::string_view rest = file_name;
  for (const CodecInfo& c : codecs()) {
    if (!c.suffix.empty() && ends_with(rest, c.suffix)) {
      out.compression = c.codec;
      rest.remove_suffix(c.suffix.size());
      break;
    }
  }
  if (ends_with(rest, ".metadata.json")) {
    out.kind = DumpFileKind::kMetadata;
    rest.remove_suffix(std::strlen(".metadata.json"));
  } else if (ends_with(rest, ".bson")) {
    rest.remove_suffix(std::strlen(".bson"));
  } else if (ends_with(rest, ".bin") && out.compression == Compression::kNone) {
    rest.remove_suffix(std::strlen(".bin"));
  } else {
    return std::nullopt;
  }
  if (rest.empty()) return std::nullopt;
  out.stem = rest;
  return out;
}

std::string dump_file_name(std::string_view collection, DumpFileKind kind, Compression c) {
  std::string name = collection_file_stem(collection);
  name += kind == DumpFileKind::kBson ? ".bson" : ".metadata.json";
  name += compression_suffix(c);
  return name;
}

Result<std::string> dump_file_path(std::string_view db, std::string_view collection, DumpFileKind kind, Compression c) {
  // The directory is the database name itself (the server's rules keep it one plain path
  // component); the file name is built from the escaped stem only, which holds no '/' and,
  // followed by its suffix, is never "." or "..".
  if (Status s = archive::validate_database_name(db); !s.is_ok()) return s;
  if (collection.empty())
    return Status{ErrorCode::kInvalidArgument, "empty collection name in database " + std::string(db)};
  std::string path(db);
  path += '/';
  path += dump_file_name(collection, kind, c);
  return path;
}

std::string prelude_file_name(Compression c) {
  return "prelude.json" + std::string(compression_suffix(c));
}
std::string oplog_file_name(Compression c) {
  return "oplog.bson" + std::string(compression_suffix(c));
}

Result<CollectionMetadata> parse_collection_metadata(std::string_view json) {
  CollectionMetadata m;
  if (is_blank(json)) {
    m.collection_name_present = false;
    return m;
  }
  auto parsed = extjson::parse(json);
  if (!parsed) return parsed.status();
  DocView doc(*parsed);
  m.collection_name_present = false;
  for (ElementView e : doc) {
    std::string_view k = e.key();
    if (k == "options") {
      if (e.type() != BsonType::kDocument) return json_error("metadata \"options\" is not an object");
      DocView o = e.as_document();
      m.options.assign(o.bytes().begin(), o.bytes().end());
      m.options_present = true;
    } else if (k == "indexes") {
      if (e.type() == BsonType::kNull) continue;
      if (e.type() != BsonType::kArray) return json_error("metadata \"indexes\" is not an array");
      for (ElementView ix : e.as_document()) {
        if (ix.type() != BsonType::kDocument) return json_error("an entry of metadata \"indexes\" is not an object");
        DocView d = ix.as_document();
        m.indexes.emplace_back(d.bytes().begin(), d.bytes().end());
      }
    } else if (k == "uuid") {
      if (e.type() != BsonType::kString) return json_error("metadata \"uuid\" is not a string");
      m.uuid = e.as_string();
      if (!m.uuid.empty() && (m.uuid.size() != 32 || !is_lower_hex(m.uuid))) {
        return json_error("metadata \"uuid\" is not 32 hex digits: " + m.uuid);
      }
    } else if (k == "collectionName") {
      if (e.type() != BsonType::kString) return json_error("metadata \"collectionName\" is not a string");
      m.collection_name = e.as_string();
      m.collection_name_present = true;
    } else if (k == "type") {
      if (e.type() != BsonType::kString) return json_error("metadata \"type\" is not a string");
      m.type = e.as_string();
      if (!(m.type.empty() || m.type == "collection" || m.type == "view" || m.type == "timeseries")) {
        return json_error("unknown collection type in metadata: " + m.type);
      }
    }
  }
  if (m.options.size() > 5) m.options_present = true;
  return m;
}

std::string write_collection_metadata(const CollectionMetadata& m) {
  Builder b;
  const bool has_options = m.options.size() > 5;
  if (has_options || m.options_present) {
    static const std::uint8_t kEmpty[5] = {5, 0, 0, 0, 0};
    b.append_document("options", has_options ? DocView(m.options) : DocView(kEmpty, 5));
  }
  b.open_array("indexes");
  for (const Bytes& ix : m.indexes) b.append_document(b.next_array_key(), DocView(ix));
  b.close();
  if (!m.uuid.empty()) b.append_string("uuid", m.uuid);
  if (m.collection_name_present || !m.collection_name.empty()) b.append_string("collectionName", m.collection_name);
  if (!m.type.empty()) b.append_string("type", m.type);
  Bytes doc = b.finish();
  return extjson::to_json(DocView(doc), {.mode = extjson::Mode::kCanonical, .indent = 0});
}

Result<PreludeJson> parse_prelude_json(std::string_view json) {
  auto parsed = extjson::parse(json, {.allow_legacy = false});
  if (!parsed) return parsed.status();
  DocView doc(*parsed);
  PreludeJson p;
  for (ElementView e : doc) {
    if (e.key() == "ServerVersion" && e.type() == BsonType::kString) p.server_version = e.as_string();
    if (e.key() == "ToolVersion" && e.type() == BsonType::kString) p.tool_version = e.as_string();
  }
  if (p.server_version.empty()) return json_error("prelude.json has no ServerVersion");
  return p;
}

std::string write_prelude_json(const PreludeJson& p) {
  std::string out = "{\"ServerVersion\":";
  append_go_json_string(out, p.server_version);
  out += ",\"ToolVersion\":";
  append_go_json_string(out, p.tool_version);
  out += '}';
  return out;
}

}  // namespace bsonpipe::formats
