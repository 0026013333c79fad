#include "tests/support/test_support.hpp"

#include <algorithm>
#include <boost/json/src.hpp>  // header-only Boost.JSON, compiled once here
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bsonpipe::test {

namespace fs = std::filesystem;

fs::path shared_dir() {
  return fs::path(BSONPIPE_SHARED_DIR);
}
fs::path fixtures_dir() {
  return shared_dir() / "fixtures";
}
fs::path binary_dir() {
  return fs::path(BSONPIPE_BINARY_DIR);
}
fs::path source_dir() {
  return fs::path(BSONPIPE_SOURCE_DIR);
}

formats::Bytes from_hex(std::string_view hex) {
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("bad hex digit");
  };
  if (hex.size() % 2) throw std::invalid_argument("odd hex length");
  formats::Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::uint8_t>(nib(hex[2 * i]) << 4 | nib(hex[2 * i + 1]));
  return out;
}

std::string to_hex(formats::ByteSpan b) {
  static const char* d = "0123456789ABCDEF";
  std::string s;
  s.reserve(b.size() * 2);
  for (auto c : b) {
    s.push_back(d[c >> 4]);
    s.push_back(d[c & 15]);
  }
  return s;
}

formats::Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string read_text(const fs::path& p) {
  auto b = read_file(p);
  return {b.begin(), b.end()};
}

void write_file(const fs::path& p, formats::ByteSpan data) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

namespace {
struct TempDirs {
  std::vector<fs::path> dirs;
  ~TempDirs() {
    if (std::getenv("BSONPIPE_KEEP_TEST_DIRS")) return;
    std::error_code ec;
    for (auto& d : dirs) fs::remove_all(d, ec);
  }
};
TempDirs g_temp_dirs;
}  // namespace

fs::path temp_dir(const std::string& name) {
  static int counter = 0;
  fs::path p = binary_dir() / "test-tmp" / (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(p);
  fs::create_directories(p);
  g_temp_dirs.dirs.push_back(p);
  return p;
}

namespace {
std::string str(const boost::json::object& o, const char* k) {
  auto it = o.find(k);
  return it == o.end() ? std::string() : std::string(it->value().as_string());
}
}  // namespace

std::vector<CorpusFile> load_corpus() {
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(fixtures_dir() / "bson-corpus"))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<CorpusFile> out;
  for (auto& f : files) {
    auto root = boost::json::parse(read_text(f)).as_object();
    CorpusFile cf;
    cf.name = f.filename().string();
    cf.bson_type = str(root, "bson_type");
    cf.test_key = str(root, "test_key");
    if (auto it = root.find("deprecated"); it != root.end()) cf.deprecated = it->value().as_bool();
    if (auto it = root.find("valid"); it != root.end())
      for (auto& v : it->value().as_array()) {
        auto& o = v.as_object();
        CorpusValid c;
        c.description = str(o, "description");
        c.canonical_bson = str(o, "canonical_bson");
        c.canonical_extjson = str(o, "canonical_extjson");
        c.relaxed_extjson = str(o, "relaxed_extjson");
        c.degenerate_bson = str(o, "degenerate_bson");
        c.degenerate_extjson = str(o, "degenerate_extjson");
        c.converted_bson = str(o, "converted_bson");
        c.converted_extjson = str(o, "converted_extjson");
        if (auto l = o.find("lossy"); l != o.end()) c.lossy = l->value().as_bool();
        cf.valid.push_back(std::move(c));
      }
    if (auto it = root.find("decodeErrors"); it != root.end())
      for (auto& v : it->value().as_array())
        cf.decode_errors.push_back({str(v.as_object(), "description"), str(v.as_object(), "bson")});
    if (auto it = root.find("parseErrors"); it != root.end())
      for (auto& v : it->value().as_array())
        cf.parse_errors.push_back({str(v.as_object(), "description"), str(v.as_object(), "string")});
    out.push_back(std::move(cf));
  }
  return out;
}

}  // namespace bsonpipe::test
