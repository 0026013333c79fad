// The restore journal: records survive reopening; a torn last record (any cut point) is ignored
// and cut away before appending; a checksum mismatch before further records is refused; a
// different identity (options or dump) is refused naming the option.
#include "pipeline/ops/restore_journal.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/test_support.hpp"

namespace bsonpipe::pipeline {
namespace {

namespace fs = std::filesystem;
using formats::Builder;
using formats::Bytes;
using formats::DocView;

Bytes identity(int batch) {
  return Builder().append_string("input", "/dump").append_int64("maxDocs", batch).finish();
}

fs::path journal_with_three_batches(const std::string& name) {
  auto dir = test::temp_dir(name);
  fs::path p = dir / "j";
  Bytes id = identity(10);
  auto j = RestoreJournal::create(p, DocView(id));
  EXPECT_TRUE(j.is_ok()) << j.status().to_string();
  EXPECT_TRUE((*j)->record_started("d.c").is_ok());
  EXPECT_TRUE((*j)->record_batch("d.c", "/dump/d/c.bson", 0, 100, 10).is_ok());
  EXPECT_TRUE((*j)->record_batch("d.c", "/dump/d/c.bson", 100, 200, 10).is_ok());
  EXPECT_TRUE((*j)->record_batch("d.c", "/dump/d/c.bson", 200, 300, 10).is_ok());
  return p;
}

TEST(RestoreJournal, RecordsSurviveReopening) {
  fs::path p = journal_with_three_batches("journal-reopen");
  auto st = read_journal(p);
  ASSERT_TRUE(st.is_ok()) << st.status().to_string();
  EXPECT_FALSE(st->torn_tail);
  EXPECT_EQ(st->records, 4u);
  EXPECT_TRUE(st->started.count("d.c"));
  EXPECT_TRUE(st->batch_done("d.c", 100, 200));
  EXPECT_FALSE(st->batch_done("d.c", 100, 201));
  EXPECT_FALSE(st->batch_done("d.x", 0, 100));
  EXPECT_FALSE(st->complete);

  Bytes id = identity(10);
  auto j = RestoreJournal::resume(p, DocView(id));
  ASSERT_TRUE(j.is_ok()) << j.status().to_string();
  ASSERT_TRUE((*j)->record_done("d.c").is_ok());
  ASSERT_TRUE((*j)->record_complete().is_ok());
  st = read_journal(p);
  ASSERT_TRUE(st.is_ok());
  EXPECT_TRUE(st->done.count("d.c"));
  EXPECT_TRUE(st->complete);
}

TEST(RestoreJournal, TornLastRecordIsIgnoredAtEveryCutPoint) {
  fs::path p = journal_with_three_batches("journal-torn");
  Bytes whole = test::read_file(p);
  auto full = read_journal(p);
  ASSERT_TRUE(full.is_ok());
  // The last record's bytes: cut the file at every point inside it.
  Bytes rec = Builder()
                  .append_string("t", "batch")
                  .append_string("ns", "d.c")
                  .append_string("src", "/dump/d/c.bson")
                  .append_int64("b", 200)
                  .append_int64("e", 300)
                  .append_int64("n", 10)
                  .finish();
  std::size_t last = frame_journal_record(DocView(rec)).size();
  ASSERT_LT(last, whole.size());
  std::size_t start = whole.size() - last;
  for (std::size_t cut = start + 1; cut < whole.size(); ++cut) {
    test::write_file(p, formats::ByteSpan(whole.data(), cut));
    auto st = read_journal(p);
    ASSERT_TRUE(st.is_ok()) << "cut " << cut << ": " << st.status().to_string();
    EXPECT_TRUE(st->torn_tail) << cut;
    EXPECT_EQ(st->valid_bytes, start) << cut;
    EXPECT_TRUE(st->batch_done("d.c", 100, 200));
    EXPECT_FALSE(st->batch_done("d.c", 200, 300)) << "a torn record counts as not done (cut " << cut << ")";
  }
  // Resuming truncates the torn bytes, so records appended after them read back.
  test::write_file(p, formats::ByteSpan(whole.data(), whole.size() - 3));
  Bytes id = identity(10);
  auto j = RestoreJournal::resume(p, DocView(id));
  ASSERT_TRUE(j.is_ok()) << j.status().to_string();
  EXPECT_TRUE((*j)->state().torn_tail);
  ASSERT_TRUE((*j)->record_batch("d.c", "/dump/d/c.bson", 200, 300, 10).is_ok());
  auto st = read_journal(p);
  ASSERT_TRUE(st.is_ok()) << st.status().to_string();
  EXPECT_FALSE(st->torn_tail);
  EXPECT_TRUE(st->batch_done("d.c", 200, 300));
}

TEST(RestoreJournal, ChecksumMismatch) {
  fs::path p = journal_with_three_batches("journal-crc");
  Bytes whole = test::read_file(p);
  // Flip a byte in the last record's payload: a torn (unsynced) tail, ignored.
  Bytes tail = whole;
  tail[tail.size() - 6] ^= 0x40;
  test::write_file(p, tail);
  auto st = read_journal(p);
  ASSERT_TRUE(st.is_ok()) << st.status().to_string();
  EXPECT_TRUE(st->torn_tail);
  EXPECT_FALSE(st->batch_done("d.c", 200, 300));
  EXPECT_TRUE(st->batch_done("d.c", 100, 200));

  // The same flip in a middle record, with whole records after it: corruption, refused.
  Bytes mid = whole;
  std::size_t header_end = 0;
  {
    // magic + header record
    header_end = 8 + 8 + formats::load_u32(whole.data() + 8);
  }
  std::size_t second = header_end + 8 + formats::load_u32(whole.data() + header_end);  // after "start"
  mid[second + 8 + 12] ^= 0x01;
  test::write_file(p, mid);
  st = read_journal(p);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.status().message().find("checksum mismatch"), std::string::npos) << st.status().to_string();
  EXPECT_EQ(st.status().offset(), static_cast<std::int64_t>(second));
  EXPECT_NE(st.status().message().find(p.string()), std::string::npos);

  // Not a journal at all.
  test::write_file(p, formats::ByteSpan(whole.data() + 1, whole.size() - 1));
  EXPECT_FALSE(read_journal(p).is_ok());
}

TEST(RestoreJournal, DifferentIdentityIsRefused) {
  fs::path p = journal_with_three_batches("journal-identity");
  Bytes other = identity(20);
  auto j = RestoreJournal::resume(p, DocView(other));
  ASSERT_FALSE(j.is_ok());
  std::string m = j.status().message();
  EXPECT_NE(m.find("different restore"), std::string::npos) << m;
  EXPECT_NE(m.find("'maxDocs'"), std::string::npos) << m;
  EXPECT_NE(m.find("10"), std::string::npos) << m;
  EXPECT_NE(m.find("20"), std::string::npos) << m;
  // A key only one side has differs too.
  Bytes extra = Builder().append_string("input", "/dump").append_int64("maxDocs", 10).append_bool("x", true).finish();
  auto j2 = RestoreJournal::resume(p, DocView(extra));
  ASSERT_FALSE(j2.is_ok());
  EXPECT_NE(j2.status().message().find("'x'"), std::string::npos) << j2.status().message();
  // The same identity resumes; create() replaces the journal with an empty one.
  Bytes same = identity(10);
  ASSERT_TRUE(RestoreJournal::resume(p, DocView(same)).is_ok());
  ASSERT_TRUE(RestoreJournal::create(p, DocView(other)).is_ok());
  auto st = read_journal(p);
  ASSERT_TRUE(st.is_ok());
  EXPECT_EQ(st->records, 0u);
  EXPECT_TRUE(st->batches.empty());
}

}  // namespace
}  // namespace bsonpipe::pipeline
