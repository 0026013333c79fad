// manifest.json round trips, is read back field for field, and rejects malformed input.
#include <gtest/gtest.h>

#include "formats/manifest.hpp"

namespace bsonpipe::formats {
namespace {

Manifest sample() {
  Manifest m;
  m.tool_version = "0.1.0";
  m.source = "mongodb://user:***@127.0.0.1:27017/";
  m.topology = "standalone";
  m.server_version = "7.0.0";
  m.format = "directory";
  m.compression = "gzip";
  m.start_ms = 1795000000000;
  m.end_ms = 1795000001234;
  m.files.push_back({"test/foo.bson.gz", "test.foo", "data", 1000, 123456, 4567, std::string(32, 'a')});
  m.files.push_back({"test/foo.metadata.json.gz", "test.foo", "metadata", 0, 200, 150, std::string(32, 'b')});
  m.complete = true;
  return m;
}

TEST(Manifest, RoundTripsAndCompleteIsLast) {
  Manifest m = sample();
  std::string json = manifest_to_json(m);
  auto back = manifest_from_json(json);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, m);
  auto last_key = json.rfind("\"complete\"");
  ASSERT_NE(last_key, std::string::npos);
  EXPECT_EQ(json.find('"', last_key + 10 + 1), std::string::npos) << "complete must be the last field";
}

TEST(Manifest, RejectsMalformedInput) {
  EXPECT_FALSE(manifest_from_json("{not json").is_ok());
  std::string json = manifest_to_json(sample());
  std::string no_complete = json.substr(0, json.rfind(",")) + "}";
  EXPECT_FALSE(manifest_from_json(no_complete).is_ok());
  std::string bad_path = json;
  bad_path.replace(bad_path.find("test/foo.bson.gz"), 16, "../../etc/passwd");
  auto r = manifest_from_json(bad_path);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("leaves the dump"), std::string::npos);
  std::string wrong_type = json;
  wrong_type.replace(wrong_type.find("\"complete\": true"), 16, "\"complete\": 1");
  EXPECT_FALSE(manifest_from_json(wrong_type).is_ok());
}

}  // namespace
}  // namespace bsonpipe::formats
