// The manifest's "bundled" section: round trip, absent section still reads, `complete` stays the
// last field, and every path that could leave the dump or the restore target is rejected.
#include <gtest/gtest.h>

#include <string>

#include "formats/manifest.hpp"

namespace bsonpipe::formats {
namespace {

Manifest with_bundle() {
  Manifest m;
  m.tool_version = "0.1.0";
  m.source = "mongodb://127.0.0.1:27017/";
  m.topology = "standalone";
  m.server_version = "7.0.0";
  m.format = "directory";
  m.compression = "none";
  m.start_ms = 1795000000000;
  m.end_ms = 1795000001000;
  m.files.push_back({"app/c.bson", "app.c", "data", 10, 500, 500, std::string(32, 'a')});
  m.bundled_roots.push_back({"bsonpipe_files/0", "uploads", "/srv/uploads"});
  m.bundled.push_back({"bsonpipe_files/0/sub", "dir", 0755, 0, "", ""});
  m.bundled.push_back({"bsonpipe_files/0/sub/a.txt", "file", 0640, 3, std::string(32, 'b'), ""});
  m.bundled.push_back({"bsonpipe_files/0/link", "symlink", 0777, 0, "", "sub/a.txt"});
  m.complete = true;
  return m;
}

// The JSON of `m` with the first bundled file path replaced by `path`.
std::string with_path(const std::string& path) {
  std::string json = manifest_to_json(with_bundle());
  std::string from = "\"bsonpipe_files/0/sub/a.txt\"";
  auto pos = json.find(from);
  EXPECT_NE(pos, std::string::npos);
  return json.replace(pos, from.size(), "\"" + path + "\"");
}

TEST(ManifestBundle, RoundTripsWithCompleteLast) {
  Manifest m = with_bundle();
  std::string json = manifest_to_json(m);
  auto back = manifest_from_json(json);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, m);
  EXPECT_NE(json.find("\"bundled\""), std::string::npos);
  auto last_key = json.rfind("\"complete\"");
  EXPECT_EQ(json.find('"', last_key + 11), std::string::npos) << "complete must be the last field";
}

TEST(ManifestBundle, AbsentWhenNothingIsBundled) {
  Manifest m = with_bundle();
  m.bundled_roots.clear();
  m.bundled.clear();
  std::string json = manifest_to_json(m);
  EXPECT_EQ(json.find("bundled"), std::string::npos) << json;
  auto back = manifest_from_json(json);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_TRUE(back->bundled.empty());
}

TEST(ManifestBundle, RejectsPathsThatLeave) {
  for (std::string bad : {"../x", "/etc/passwd", "bsonpipe_files/0/../../x", "bsonpipe_files/0/./a",
                          "bsonpipe_files/0//a", "bsonpipe_files/1/a", "app/c.bson", "bsonpipe_files/0"}) {
    auto r = manifest_from_json(with_path(bad));
    EXPECT_FALSE(r.is_ok()) << bad;
    if (!r.is_ok()) {
      EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().message();
    }
  }
  EXPECT_TRUE(manifest_from_json(with_path("bsonpipe_files/0/a..b")).is_ok());  // ".." inside a name is fine

  std::string json = manifest_to_json(with_bundle());
  std::string name = json;
  name.replace(name.find("\"uploads\""), 9, "\"..\"");
  EXPECT_FALSE(manifest_from_json(name).is_ok());
  std::string nested = json;
  nested.replace(nested.find("\"uploads\""), 9, "\"a/b\"");
  EXPECT_FALSE(manifest_from_json(nested).is_ok());
  std::string dir = json;
  dir.replace(dir.find("\"bsonpipe_files/0\""), 18, "\"app\"");
  EXPECT_FALSE(manifest_from_json(dir).is_ok());
  std::string type = json;
  type.replace(type.find("\"symlink\""), 9, "\"device\"");
  EXPECT_FALSE(manifest_from_json(type).is_ok());
}

}  // namespace
}  // namespace bsonpipe::formats
