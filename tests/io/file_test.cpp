// The atomic output file: nothing appears under the final name until commit.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include "io/file.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe::io {
namespace {

namespace fs = std::filesystem;

TEST(AtomicFile, CommitPublishesAndAbortLeavesNothing) {
  auto dir = test::temp_dir("atomic-file");
  const Bytes data{1, 2, 3, 4, 5};
  {
    auto w = AtomicFileWriter::create(dir / "a" / "x.bson");
    ASSERT_TRUE(w.is_ok()) << w.status().to_string();
    ASSERT_TRUE(w->write(data).is_ok());
    EXPECT_FALSE(fs::exists(dir / "a" / "x.bson"));
    EXPECT_TRUE(fs::exists(dir / "a" / "x.bson.partial"));
    ASSERT_TRUE(w->commit().is_ok());
  }
  EXPECT_EQ(test::read_file(dir / "a" / "x.bson"), data);
  EXPECT_FALSE(fs::exists(dir / "a" / "x.bson.partial"));
  {
    auto w = AtomicFileWriter::create(dir / "y.bson");
    ASSERT_TRUE(w.is_ok());
    ASSERT_TRUE(w->write(data).is_ok());
  }  // destroyed without commit
  EXPECT_FALSE(fs::exists(dir / "y.bson"));
  EXPECT_FALSE(fs::exists(dir / "y.bson.partial"));
}

TEST(AtomicFile, LongestNamesStillGetATemporaryName) {
  auto dir = test::temp_dir("atomic-long");
  std::string longest(255, 'n');  // as long as a file name can be
  std::string other = std::string(254, 'n') + "x";
  EXPECT_LE(partial_path(dir / longest).filename().string().size(), 255u);
  EXPECT_NE(partial_path(dir / longest), partial_path(dir / other));
  auto w = AtomicFileWriter::create(dir / longest);
  ASSERT_TRUE(w.is_ok()) << w.status().to_string();
  ASSERT_TRUE(w->write(Bytes{1, 2, 3}).is_ok());
  ASSERT_TRUE(w->commit().is_ok());
  EXPECT_EQ(test::read_file(dir / longest), (Bytes{1, 2, 3}));
}

TEST(AtomicFile, WriteErrorsAreReported) {
  // /dev/full fails every write with ENOSPC: the disk-full case.
  auto r = FileReader::open("/nonexistent/file");
  EXPECT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("/nonexistent/file"), std::string::npos);
  int fd = ::open("/dev/full", O_WRONLY);
  ASSERT_GE(fd, 0);
  Bytes data(4096, 7);
  Status s = write_all(fd, data, "/dev/full");
  ::close(fd);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("No space left"), std::string::npos) << s.message();
}

TEST(FileReaderTest, ReadsInChunksAndTracksOffset) {
  auto dir = test::temp_dir("file-reader");
  Bytes data(10000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
  test::write_file(dir / "f", data);
  auto r = FileReader::open(dir / "f");
  ASSERT_TRUE(r.is_ok());
  Bytes got;
  std::uint8_t buf[777];
  while (true) {
    auto n = r->read(buf, sizeof buf);
    ASSERT_TRUE(n.is_ok());
    if (*n == 0) break;
    got.insert(got.end(), buf, buf + *n);
  }
  EXPECT_EQ(got, data);
  EXPECT_EQ(r->offset(), data.size());
}

}  // namespace
}  // namespace bsonpipe::io
