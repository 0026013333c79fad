// Unit tests of DocSequence: documents yielded, where and why a malformed sequence stops, and the
// streaming mode that leaves a partial tail.
#include "formats/doc_sequence.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bsonpipe::formats {
namespace {

Bytes empty_doc() {
  return Builder().finish();
}  // 5 bytes
Bytes int_doc(std::int32_t v) {
  return Builder().append_int32("a", v).finish();
}  // 12 bytes

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes raw(std::initializer_list<int> bytes) {
  Bytes out;
  for (int b : bytes) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

struct Case {
  std::string name;
  Bytes bytes;
  SequenceOptions opts;
  std::vector<std::size_t> offsets;  // of the documents yielded
  SequenceFault fault = SequenceFault::kNone;
  std::size_t fault_offset = 0;
  std::int32_t length = 0;
  std::size_t left = 0;  // after iteration stopped
  std::string message;   // status(100)'s message, empty when ok
  std::int64_t status_offset = -1;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

std::vector<Case> cases() {
  const SequenceOptions leave{.tail = SequenceTail::kLeave};
  Bytes no_nul = int_doc(2);
  no_nul.back() = 0x01;
  return {
      {.name = "valid", .bytes = cat({int_doc(1), empty_doc(), int_doc(2)}), .offsets = {0, 12, 17}},
      {.name = "empty"},
      {.name = "truncated_length",
       .bytes = cat({int_doc(1), raw({12, 0, 0})}),
       .offsets = {0},
       .fault = SequenceFault::kTruncated,
       .fault_offset = 12,
       .left = 3,
       .message = "invalid BSON: truncated document (3 bytes)",
       .status_offset = 112},
      {.name = "length_below_5",
       .bytes = cat({int_doc(1), raw({4, 0, 0, 0, 0})}),
       .offsets = {0},
       .fault = SequenceFault::kBadLength,
       .fault_offset = 12,
       .length = 4,
       .left = 5,
       .message = "invalid BSON: document length 4 is below 5",
       .status_offset = 112},
      {.name = "negative_length",
       .bytes = raw({0xFF, 0xFF, 0xFF, 0xFF, 0}),
       .fault = SequenceFault::kBadLength,
       .length = -1,
       .left = 5,
       .message = "invalid BSON: document length -1 is below 5",
       .status_offset = 100},
      {.name = "length_past_end",
       .bytes = cat({empty_doc(), raw({9, 0, 0, 0, 0, 0})}),
       .offsets = {0},
       .fault = SequenceFault::kBadLength,
       .fault_offset = 5,
       .length = 9,
       .left = 6,
       .message = "invalid BSON: document length 9 overruns the 6 bytes left",
       .status_offset = 105},
      {.name = "missing_nul",
       .bytes = cat({empty_doc(), no_nul, int_doc(3)}),
       .offsets = {0},
       .fault = SequenceFault::kNoTerminator,
       .fault_offset = 5,
       .length = 12,
       .left = 24,
       .message = "invalid BSON: document not terminated by 0x00",
       .status_offset = 116},
      {.name = "over_max_size",
       .bytes = cat({empty_doc(), int_doc(1)}),
       .opts = {.max_size = 8},
       .offsets = {0},
       .fault = SequenceFault::kBadLength,
       .fault_offset = 5,
       .length = 12,
       .left = 12,
       .message = "invalid BSON: document length 12 is over the 8-byte limit",
       .status_offset = 105},
      {.name = "leave_partial_tail",
       .bytes = cat({int_doc(1), raw({12, 0, 0, 0, 0x10})}),
       .opts = leave,
       .offsets = {0},
       .left = 5},
      {.name = "leave_short_prefix",
       .bytes = cat({int_doc(1), empty_doc(), raw({12, 0})}),
       .opts = leave,
       .offsets = {0, 12},
       .left = 2},
      {.name = "leave_still_refuses_a_bad_length",
       .bytes = cat({int_doc(1), raw({3, 0, 0, 0})}),
       .opts = leave,
       .offsets = {0},
       .fault = SequenceFault::kBadLength,
       .fault_offset = 12,
       .length = 3,
       .left = 4,
       .message = "invalid BSON: document length 3 is below 5",
       .status_offset = 112},
      {.name = "leave_still_refuses_a_missing_nul",
       .bytes = no_nul,
       .opts = leave,
       .fault = SequenceFault::kNoTerminator,
       .length = 12,
       .left = 12,
       .message = "invalid BSON: document not terminated by 0x00",
       .status_offset = 111},
  };
}

class DocSequenceCase : public ::testing::TestWithParam<Case> {};

TEST_P(DocSequenceCase, YieldsTheWholeDocumentsAndNamesTheFault) {
  const Case& c = GetParam();
  DocSequence seq(c.bytes, c.opts);
  std::vector<std::size_t> offsets;
  std::size_t expect_next = 0;
  for (DocView d : seq) {
    EXPECT_EQ(seq.offset_of(d), expect_next);
    EXPECT_EQ(d.size(), static_cast<std::size_t>(load_i32(d.data())));
    expect_next += d.size();
    offsets.push_back(seq.offset_of(d));
  }
  EXPECT_EQ(offsets, c.offsets);
  EXPECT_EQ(seq.ok(), c.fault == SequenceFault::kNone);
  EXPECT_EQ(seq.error().fault, c.fault);
  EXPECT_EQ(seq.consumed(), expect_next);
  EXPECT_EQ(seq.left(), c.left);
  EXPECT_FALSE(seq.next().has_value()) << "a stopped sequence stays stopped";
  Status s = seq.status(100);
  if (c.fault == SequenceFault::kNone) {
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return;
  }
  EXPECT_EQ(seq.error().offset, c.fault_offset);
  EXPECT_EQ(seq.error().length, c.length);
  EXPECT_EQ(seq.error().left, c.left);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidBson);
  EXPECT_EQ(s.message(), c.message);
  EXPECT_EQ(s.offset(), c.status_offset);
}

INSTANTIATE_TEST_SUITE_P(Sequences, DocSequenceCase, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST(DocSequence, WalkDocumentsCountsWhatTheSequenceYields) {
  Bytes good = cat({int_doc(1), empty_doc()});
  auto n = walk_documents(good);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 2u);
  Bytes bad = cat({int_doc(1), raw({9, 0, 0, 0, 0})});
  auto b = walk_documents(bad, 7);
  ASSERT_FALSE(b.is_ok());
  EXPECT_EQ(b.status().message(), "invalid BSON: document length 9 overruns the 5 bytes left");
  EXPECT_EQ(b.status().offset(), 19);
}

}  // namespace
}  // namespace bsonpipe::formats
