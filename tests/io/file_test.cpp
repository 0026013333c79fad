// The atomic output file: nothing appears under the final name until commit.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <vector>

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

// Writes go through a 4 MiB aligned stage; a file that outgrows it is written with O_DIRECT
// and its tail through the page cache. Every size around those boundaries, written in uneven
// pieces by write() and write_gather(), reads back exactly, on the test directory's file system
// (ext4 in CI) and on tmpfs. (BSONPIPE_DIRECT_WRITES=off runs the page-cache-only path.)
TEST(AtomicFile, EverySizeAroundTheStageAndAlignmentReadsBack) {
  constexpr std::size_t kStage = 4u << 20;
  std::vector<fs::path> dirs{test::temp_dir("atomic-sizes")};
  if (fs::is_directory("/dev/shm")) {
    dirs.push_back(fs::path("/dev/shm") / ("bsonpipe-atomic-sizes-" + std::to_string(::getpid())));
    fs::create_directories(dirs.back());
  }
  std::uint32_t x = 12345;
  auto next = [&x] { return x = x * 1664525u + 1013904223u; };
  for (const fs::path& dir : dirs)
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{4095}, std::size_t{4096}, std::size_t{4097},
                             kStage - 1, kStage, kStage + 1, 3 * kStage + 12345}) {
      SCOPED_TRACE(dir.string() + " size " + std::to_string(size));
      Bytes data(size);
      for (auto& b : data) b = static_cast<std::uint8_t>(next() >> 24);
      auto w = AtomicFileWriter::create(dir / "f.bson");
      ASSERT_TRUE(w.is_ok()) << w.status().to_string();
      std::size_t at = 0;
      bool gather = false;
      while (at < size) {
        std::size_t n = std::min<std::size_t>(size - at, 1 + next() % (3u << 20));
        ByteSpan piece(data.data() + at, n);
        if (gather) {
          std::vector<ByteSpan> parts{piece.subspan(0, n / 3), piece.subspan(n / 3)};
          ASSERT_TRUE(w->write_gather(parts).is_ok());
        } else {
          ASSERT_TRUE(w->write(piece).is_ok());
        }
        gather = !gather;
        at += n;
      }
      EXPECT_EQ(w->bytes_written(), size);
      ASSERT_TRUE(w->commit().is_ok());
      EXPECT_EQ(fs::file_size(dir / "f.bson"), size);
      EXPECT_TRUE(test::read_file(dir / "f.bson") == data);
    }
  if (dirs.size() > 1) fs::remove_all(dirs.back());
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
