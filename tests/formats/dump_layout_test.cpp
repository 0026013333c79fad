// The directory dump layout: file-name escaping against mongodump's real output (long and
// special-character names), every metadata.json of the mongo-tools test data, prelude.json.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "formats/dump_layout.hpp"
#include "formats/extjson.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe::formats {
namespace {

namespace fs = std::filesystem;

fs::path testdata() {
  return test::fixtures_dir() / "mongo-tools-testdata/mongorestore/testdata";
}

const std::string kLongName =
    "aVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVery"
    "VeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryLongCollectionNameConsistingOfExactlyTwo"
    "HundredAndFortySevenCharacters";

TEST(DumpLayout, QueryEscapeMatchesGo) {
  EXPECT_EQ(query_escape("abcXYZ019-_.~"), "abcXYZ019-_.~");
  EXPECT_EQ(query_escape("a b"), "a+b");
  EXPECT_EQ(query_escape("cafés"), "caf%C3%A9s");
  EXPECT_EQ(query_escape("$admin.system.users"), "%24admin.system.users");
  EXPECT_EQ(query_escape("a/b\\c*?\"<>|:%+"), "a%2Fb%5Cc%2A%3F%22%3C%3E%7C%3A%25%2B");
  EXPECT_EQ(query_escape(std::string("\0\x7f\xff", 3)), "%00%7F%FF");
  EXPECT_EQ(*query_unescape("caf%c3%a9s+x"), "cafés x");
  EXPECT_EQ(query_unescape("ab%2").status().offset(), 2);
  EXPECT_EQ(query_unescape("ab%zz").status().offset(), 2);
  EXPECT_EQ(query_unescape("%").status().offset(), 0);
  for (std::string s : {std::string("plain"), std::string("sp ace+plus%"), std::string("\x01\x80 é/\\")}) {
    EXPECT_EQ(*query_unescape(query_escape(s)), s);
  }
}

TEST(DumpLayout, LongNamesAreTruncatedWithTheSha1AsMongodumpDoes) {
  // Reference values from Python's hashlib / base64.urlsafe_b64encode / urllib.parse.quote_plus.
  EXPECT_EQ(collection_name_hash("abc"), "qZk-NkcGgWq6PiVxeFDCbJzQ2J0");
  EXPECT_EQ(collection_name_hash(""), "2jmj7l5rSw0yVb_vlWAYkK_YBwk");
  EXPECT_EQ(collection_name_hash(std::string(55, 'a')), "wci73CJ5bijA4VFj0giZtlYh1lo");  // padding edge
  EXPECT_EQ(collection_name_hash(std::string(56, 'a')), "wtszD2CDhUyZ1LW_tujynyAb5pk");
  EXPECT_EQ(collection_name_hash(std::string(64, 'a')), "AJi6gktcFkJ716ESKlpEKiXsZE0");
  EXPECT_EQ(collection_name_hash(std::string(300, 'x')), "Av1oJTBx-JVxjI1B9_9mWr4aYpA");
  EXPECT_EQ(collection_file_stem(std::string(300, 'x')), std::string(208, 'x') + "%24Av1oJTBx-JVxjI1B9_9mWr4aYpA");
  EXPECT_EQ(collection_file_stem(std::string(238, 'x')), std::string(238, 'x'));
  // The cut may split a %XX escape: mongodump cuts bytes, not characters.
  std::string accents;
  for (int i = 0; i < 120; ++i) accents += "é";
  accents += " sp/ace$";
  std::string stem = collection_file_stem(accents);
  EXPECT_EQ(stem.size(), 238u);
  EXPECT_EQ(stem.substr(198), "%C3%A9%C3%%24CWESMdTfaZTg1dXU8OphbUAbBWQ");
  EXPECT_TRUE(is_truncated_stem(stem));
  EXPECT_FALSE(is_truncated_stem(std::string(238, 'x')));
  EXPECT_FALSE(is_truncated_stem("%24admin.system.users"));
}

// mongodump's file name for a collection and mongorestore's way back, case by case from the
// mongo-tools tests (inputs and expected outputs carried over; each names its source). Hashes the
// Go tests compute with crypto/sha1 were computed here with Python's hashlib.
struct StemCase {
  const char* source;
  std::string name;
  std::string stem;
};

// mongodump/mongodump_test.go: longPrefix (181 bytes).
const std::string kDumpTestPrefix =
    "aVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVery"
    "VeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVery"
    "VeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVery";
// mongorestore/mongorestore_test.go: longFilePrefix (177 bytes).
const std::string kRestoreTestPrefix =
    "aVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVery"
    "VeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVery"
    "VeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVeryVery";

std::string times(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::vector<StemCase> stem_cases() {
  const std::string az = "abcdefghijklmnopqrstuvwxyz";
  const std::string special = az + "+/@";
  return {
      // mongodump_test.go TestOutputPath... "paths less than 255 bytes"
      {"mongodump/mongodump_test.go (paths less than 255 bytes)", az, az},
      // "paths equal 255 bytes": 238 bytes stay whole
      {"mongodump/mongodump_test.go (paths equal 255 bytes)", times("abcdefghijklmnopq", 14),
       times("abcdefghijklmnopq", 14)},
      // "path longer than 255 bytes / without special characters": colName[:208] + "%24" + hash
      {"mongodump/mongodump_test.go (longer, without special characters)", times(az, 10),
       times(az, 10).substr(0, 208) + "%24-dWycfkSbpBROUz_r_CuMlD9YIc"},
      // "with special characters": url.QueryEscape(colName)[:208] + "%24" + hash; the cut
      // splits the %40 escape
      {"mongodump/mongodump_test.go (longer, with special characters)", times(special, 8),
       times(az + "%2B%2F%40", 5) + az + "%2B%2F%" + "%24WAXGeCTTKZpfgKNSxDT_VZNHOQY"},
      // longCollectionName -> longBsonName without ".bson"
      {"mongodump/mongodump_test.go (longCollectionName)",
       kDumpTestPrefix + "/Long/Collection/Name/Consisting/Of/Many/Characters",
       kDumpTestPrefix + "%2FLong%2FCollection%2FName%24FUVlwTrb2eHN1RUE1swI1fFzWmA"},
      // testCollectionNames: "coll/three" (dumped "with a slash in its name")
      {"mongodump/mongodump_test.go (testCollectionNames)", "coll/three", "coll%2Fthree"},
      // longCollectionName -> longBsonName, and the testdata/longcollectionname fixture
      {"mongorestore/mongorestore_test.go (longCollectionName)",
       kRestoreTestPrefix + "LongCollectionNameConsistingOfExactlyTwoHundredAndFortySevenCharacters",
       kRestoreTestPrefix + "LongCollectionNameConsistingOfE%24xFO0VquRn7cg3QooSZD5sglTddU"},
      // specialCharactersCollectionName and the testdata/specialcharacter fixture
      {"mongorestore/mongorestore_test.go (specialCharactersCollectionName)", "caf\xC3\xA9s", "caf%C3%A9s"},
      // the db-specific files of --dumpDbUsersAndRoles as url.QueryEscape names them
      // (mongorestore/filepath.go: "%24 (i.e. $ symbol)" prefixed, never truncated)
      {"mongorestore/filepath.go ($admin.system.users)", "$admin.system.users", "%24admin.system.users"},
      {"mongorestore/filepath.go ($admin.system.roles)", "$admin.system.roles", "%24admin.system.roles"},
      {"mongorestore/filepath.go ($admin.system.version)", "$admin.system.version", "%24admin.system.version"},
      // issue 13: the names a server accepts that url.QueryEscape changes
      {"issue 13 (backslash)", "x\\y", "x%5Cy"},
      {"issue 13 (space)", "a b", "a+b"},
      {"issue 13 (percent)", "p%q", "p%25q"},
      {"issue 13 (slash)", "s/t", "s%2Ft"},
      {"issue 13 (plus)", "1+1", "1%2B1"},
  };
}

TEST(DumpLayout, MongoToolsFileNameCasesMapBothWays) {
  for (const StemCase& c : stem_cases()) {
    SCOPED_TRACE(c.source);
    EXPECT_EQ(collection_file_stem(c.name), c.stem);
    EXPECT_LE(c.stem.size(), kMaxFileStemLength);
    // mongorestore's rule for a truncated stem: it holds "%24" and is 238 bytes long; then
    // the name comes from the metadata's collectionName.
    const bool truncated = c.stem.size() == 238 && c.stem.find("%24") != std::string::npos;
    EXPECT_EQ(is_truncated_stem(c.stem), truncated);
    auto back = collection_from_stem(c.stem, truncated ? c.name : "");
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(*back, c.name);
    if (truncated) {
      EXPECT_FALSE(collection_from_stem(c.stem).is_ok());  // needs the metadata
    }
  }
}

// Stems that name no collection: they must fail to decode (mongorestore: "error parsing
// collection name from filename"), never yield some other name.
TEST(DumpLayout, UndecodableStemsFail) {
  struct Bad {
    const char* source;
    std::string stem;
    std::string metadata_name;
  };
  const std::vector<Bad> cases = {
      // longInvalidBson: a made-up hash, without metadata and with the real name's metadata
      {"mongorestore/mongorestore_test.go (longInvalidBson)",
       kRestoreTestPrefix + "LongCollectionNameConsistingOfE%24someMadeUpInvalidHashString", ""},
      {"mongorestore/mongorestore_test.go (longInvalidBson)",
       kRestoreTestPrefix + "LongCollectionNameConsistingOfE%24someMadeUpInvalidHashString",
       kRestoreTestPrefix + "LongCollectionNameConsistingOfExactlyTwoHundredAndFortySevenCharacters"},
      // invalid escapes, as Go's url.QueryUnescape refuses them (net/url unescape)
      {"mongorestore/filepath.go getInfoFromFile (url.QueryUnescape)", "bad%zz", ""},
      {"mongorestore/filepath.go getInfoFromFile (url.QueryUnescape)", "%", ""},
      {"mongorestore/filepath.go getInfoFromFile (url.QueryUnescape)", "%a", ""},
      {"mongorestore/filepath.go getInfoFromFile (url.QueryUnescape)", "123%45%6", ""},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(std::string(c.source) + ": " + c.stem);
    EXPECT_FALSE(collection_from_stem(c.stem, c.metadata_name).is_ok());
  }
}

TEST(DumpLayout, LongCollectionNameFixtureMapsBothWays) {
  const fs::path dir = testdata() / "longcollectionname/db1";
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 2u);
  auto meta_text = test::read_text(dir / files[1]);
  auto meta = parse_collection_metadata(meta_text);
  ASSERT_TRUE(meta.is_ok()) << meta.status().to_string();
  EXPECT_EQ(meta->collection_name, kLongName);
  EXPECT_EQ(kLongName.size(), 247u);

  // Collection name -> file names, exactly as mongodump named them.
  EXPECT_EQ(dump_file_name(kLongName, DumpFileKind::kBson), files[0]);
  EXPECT_EQ(dump_file_name(kLongName, DumpFileKind::kMetadata), files[1]);
  EXPECT_EQ(*dump_file_path("db1", kLongName, DumpFileKind::kMetadata), "db1/" + files[1]);

  // File names -> collection name, the long one from the metadata's collectionName.
  for (const std::string& f : files) {
    auto split = split_dump_file_name(f);
    ASSERT_TRUE(split.has_value()) << f;
    EXPECT_TRUE(is_truncated_stem(split->stem));
    EXPECT_FALSE(collection_from_stem(split->stem).is_ok());  // needs the metadata
    auto name = collection_from_stem(split->stem, meta->collection_name);
    ASSERT_TRUE(name.is_ok()) << name.status().to_string();
    EXPECT_EQ(*name, kLongName);
  }
  EXPECT_EQ(split_dump_file_name(files[0])->kind, DumpFileKind::kBson);
  EXPECT_EQ(split_dump_file_name(files[1])->kind, DumpFileKind::kMetadata);

  // The fixture's other file has a made-up hash: a wrong collectionName is refused.
  for (const auto& e : fs::directory_iterator(testdata() / "longcollectionname")) {
    if (e.is_directory()) continue;
    auto split = split_dump_file_name(e.path().filename().string());
    ASSERT_TRUE(split.has_value());
    ASSERT_TRUE(is_truncated_stem(split->stem));
    EXPECT_FALSE(collection_from_stem(split->stem).is_ok());
    EXPECT_FALSE(collection_from_stem(split->stem, kLongName).is_ok());
  }
}

TEST(DumpLayout, SpecialCharacterFixtureMapsBothWays) {
  const fs::path dir = testdata() / "specialcharacter/db1";
  EXPECT_TRUE(fs::exists(dir / dump_file_name("cafés", DumpFileKind::kBson)));
  EXPECT_TRUE(fs::exists(dir / dump_file_name("cafés", DumpFileKind::kMetadata)));
  EXPECT_EQ(dump_file_name("cafés", DumpFileKind::kBson), "caf%C3%A9s.bson");
  std::size_t seen = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    auto split = split_dump_file_name(e.path().filename().string());
    ASSERT_TRUE(split.has_value());
    auto name = collection_from_stem(split->stem);
    ASSERT_TRUE(name.is_ok());
    EXPECT_EQ(*name, "cafés");
    ++seen;
  }
  EXPECT_EQ(seen, 2u);
  // Its metadata predates collectionName; the index's ns agrees with the name from the file.
  auto meta = parse_collection_metadata(test::read_text(dir / "caf%C3%A9s.metadata.json"));
  ASSERT_TRUE(meta.is_ok());
  EXPECT_FALSE(meta->collection_name_present);
  ASSERT_EQ(meta->indexes.size(), 1u);
  EXPECT_EQ(DocView(meta->indexes[0]).find("ns").as_string(), "test.cafés");
}

TEST(DumpLayout, FileNamesSplitAndPathsStayInside) {
  EXPECT_EQ(*split_dump_file_name("foo.bson"), (DumpFileName{"foo", DumpFileKind::kBson, Compression::kNone}));
  EXPECT_EQ(*split_dump_file_name("foo.bson.gz"), (DumpFileName{"foo", DumpFileKind::kBson, Compression::kGzip}));
  EXPECT_EQ(*split_dump_file_name("a.b.metadata.json.zst"),
            (DumpFileName{"a.b", DumpFileKind::kMetadata, Compression::kZstd}));
  EXPECT_EQ(*split_dump_file_name("old.bin"), (DumpFileName{"old", DumpFileKind::kBson, Compression::kNone}));
  EXPECT_FALSE(split_dump_file_name("prelude.json").has_value());
  EXPECT_FALSE(split_dump_file_name(".bson").has_value());
  EXPECT_FALSE(split_dump_file_name("x.txt").has_value());
  EXPECT_EQ(dump_file_name("c", DumpFileKind::kMetadata, Compression::kGzip), "c.metadata.json.gz");
  EXPECT_EQ(*dump_file_path("db", "sys/../x", DumpFileKind::kBson), "db/sys%2F..%2Fx.bson");
  EXPECT_FALSE(dump_file_path("..", "x", DumpFileKind::kBson).is_ok());
  EXPECT_FALSE(dump_file_path("", "oplog", DumpFileKind::kBson).is_ok());
  EXPECT_EQ(*dump_file_path("db", "$admin.system.users", DumpFileKind::kBson), "db/%24admin.system.users.bson");
  EXPECT_EQ(prelude_file_name(), "prelude.json");
  EXPECT_EQ(prelude_file_name(Compression::kGzip), "prelude.json.gz");
  EXPECT_EQ(oplog_file_name(), "oplog.bson");
  EXPECT_EQ(oplog_file_name(Compression::kGzip), "oplog.bson.gz");
  // A file path is built from the escaped stem only: a name's separators and dots never make a
  // path component, whatever the name.
  EXPECT_EQ(*dump_file_path("db", "a/b", DumpFileKind::kBson), "db/a%2Fb.bson");
  EXPECT_EQ(*dump_file_path("db", "x\\y", DumpFileKind::kBson), "db/x%5Cy.bson");
  EXPECT_EQ(*dump_file_path("db", "../../etc", DumpFileKind::kBson), "db/..%2F..%2Fetc.bson");
  EXPECT_EQ(*dump_file_path("db", "..", DumpFileKind::kMetadata), "db/...metadata.json");
  EXPECT_FALSE(dump_file_path("db", "", DumpFileKind::kBson).is_ok());
  EXPECT_FALSE(dump_file_path("a/b", "c", DumpFileKind::kBson).is_ok());
  // Decoding is the exact inverse; whether a server accepts the name is checked where it is used.
  EXPECT_EQ(*collection_from_stem("a%2Fb"), "a/b");
  EXPECT_EQ(*collection_from_stem("a%2fb"), "a/b");  // Go accepts lower-case hex
  EXPECT_EQ(*collection_from_stem("%00"), std::string(1, '\0'));
  EXPECT_EQ(*collection_from_stem("%24admin.system.users"), "$admin.system.users");
  // mongodump/prepare.go writes those three files unescaped ("$admin.system.users.bson"); both
  // spellings decode to the same name, as url.QueryUnescape leaves '$' alone.
  EXPECT_EQ(*collection_from_stem("$admin.system.users"), "$admin.system.users");
  // Every name maps back to itself.
  std::string accents;
  for (int i = 0; i < 120; ++i) accents += "é";
  for (std::string name : {std::string("a b+c"), std::string(300, 'x'), accents, std::string("x$y%z")}) {
    std::string stem = collection_file_stem(name);
    EXPECT_LE(stem.size() + std::string_view(".metadata.json.gz").size(), 255u);
    auto back = collection_from_stem(stem, is_truncated_stem(stem) ? name : "");
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(*back, name);
  }
}

std::vector<fs::path> metadata_fixtures() {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(test::fixtures_dir() / "mongo-tools-testdata")) {
    if (e.is_regular_file() && e.path().filename().string().ends_with(".metadata.json")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// True when JSON text spells a number in relaxed/legacy form (1, 1.0 instead of
// {"$numberInt":"1"}) or has blanks between tokens: forms mongodump's canonical writer never
// produces, found in older or hand-edited fixtures.
bool has_noncanonical_forms(std::string_view text) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == ' ' || c == '\n' || c == '\t') return true;
    if ((c == ':' || c == ',' || c == '[') && i + 1 < text.size() &&
        (text[i + 1] == '-' || (text[i + 1] >= '0' && text[i + 1] <= '9'))) {
      return true;
    }
  }
  return false;
}

TEST(DumpLayout, EveryFixtureMetadataParsesAndRoundTrips) {
  std::vector<fs::path> files = metadata_fixtures();
  ASSERT_EQ(files.size(), 38u);
  std::size_t identical = 0, noncanonical = 0, empty = 0;
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    std::string text = test::read_text(f);
    auto m1 = parse_collection_metadata(text);
    ASSERT_TRUE(m1.is_ok()) << m1.status().to_string();
    const std::string written = write_collection_metadata(*m1);
    auto m2 = parse_collection_metadata(written);
    ASSERT_TRUE(m2.is_ok()) << m2.status().to_string() << "\n" << written;
    EXPECT_TRUE(*m1 == *m2) << written;  // written back and parsed again: the same metadata
    EXPECT_EQ(write_collection_metadata(*m2), written);
    if (text.empty()) {
      ++empty;
      EXPECT_EQ(written, R"({"indexes":[]})");
      continue;
    }
    // mongodump writes no final newline; two hand-made fixtures have one.
    if (text.back() == '\n') text.pop_back();
    if (text == written) {
      ++identical;
    } else {
      // The only other difference allowed: the file was not canonical to begin with.
      EXPECT_TRUE(has_noncanonical_forms(text)) << text << "\n" << written;
      EXPECT_FALSE(has_noncanonical_forms(written)) << written;
      ++noncanonical;
    }
  }
  std::printf("%zu metadata.json files: %zu byte-identical after read+write, %zu not canonical, %zu empty\n",
              files.size(), identical, noncanonical, empty);
  EXPECT_EQ(identical, 29u);
  EXPECT_EQ(noncanonical, 8u);
  EXPECT_EQ(empty, 1u);
}

TEST(DumpLayout, MetadataFieldsAndDefaults) {
  auto m = parse_collection_metadata(test::read_text(testdata() / "test_auto_idx.metadata.json"));
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(DocView(m->options).find("autoIndexId").as_bool(), false);
  EXPECT_TRUE(m->indexes.empty());
  EXPECT_EQ(m->uuid, "aa5c88eb8a7246bb93848314ae13e3d4");

  // Freshly built metadata gets current mongodump's layout.
  CollectionMetadata fresh;
  Builder ix;
  ix.append_int32("v", 2).open_document("key").append_int32("_id", 1).close().append_string("name", "_id_");
  fresh.indexes.push_back(ix.finish());
  fresh.uuid = "ee3534fe9545406f90406b246dde420d";
  fresh.collection_name = "c";
  EXPECT_EQ(write_collection_metadata(fresh),
            R"({"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],)"
            R"("uuid":"ee3534fe9545406f90406b246dde420d","collectionName":"c"})");
  Builder opts;
  opts.open_document("timeseries").append_string("timeField", "t").close();
  fresh.options = opts.finish();
  fresh.type = "timeseries";
  fresh.indexes.clear();
  EXPECT_EQ(write_collection_metadata(fresh),
            R"({"options":{"timeseries":{"timeField":"t"}},"indexes":[],)"
            R"("uuid":"ee3534fe9545406f90406b246dde420d","collectionName":"c","type":"timeseries"})");

  // Empty file: no metadata.
  auto none = parse_collection_metadata(" \n");
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->indexes.empty() && none->options.empty() && !none->collection_name_present);

  // Faults.
  EXPECT_FALSE(parse_collection_metadata(R"({"indexes":{}})").is_ok());
  EXPECT_FALSE(parse_collection_metadata(R"({"indexes":[1]})").is_ok());
  EXPECT_FALSE(parse_collection_metadata(R"({"options":[]})").is_ok());
  EXPECT_FALSE(parse_collection_metadata(R"({"uuid":"xyz"})").is_ok());
  EXPECT_FALSE(parse_collection_metadata(R"({"type":"table"})").is_ok());
  auto bad = parse_collection_metadata(R"({"indexes":[}")");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_GE(bad.status().offset(), 0);
}

TEST(DumpLayout, PreludeJsonAsGoWritesIt) {
  PreludeJson p{"7.0.2", "100.9.4"};
  EXPECT_EQ(write_prelude_json(p), R"({"ServerVersion":"7.0.2","ToolVersion":"100.9.4"})");
  EXPECT_EQ(*parse_prelude_json(write_prelude_json(p)), p);
  PreludeJson odd{"<8.0&>", std::string("a\"b\\c\n\x01\xff\xe2\x80\xa8", 11)};
  EXPECT_EQ(write_prelude_json(odd),
            R"({"ServerVersion":"\u003c8.0\u0026\u003e","ToolVersion":"a\"b\\c\n\u0001\ufffd\u2028"})");
  auto back = parse_prelude_json(write_prelude_json(odd));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->server_version, odd.server_version);
  EXPECT_FALSE(parse_prelude_json(R"({"ToolVersion":"x"})").is_ok());
  EXPECT_FALSE(parse_prelude_json("{").is_ok());
}

}  // namespace
}  // namespace bsonpipe::formats
