// Wire codec: encode -> decode round trips of every message kind, checksums, compression, and
// malformed messages rejected with the offset of the fault.
#include "io/wire.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace bsonpipe::io {
namespace {

using formats::Builder;

Bytes doc_with(std::string_view key, std::int32_t v) {
  Builder b;
  b.append_int32(key, v);
  return b.finish();
}

Bytes concat(const std::vector<Bytes>& docs) {
  Bytes out;
  for (const auto& d : docs) out.insert(out.end(), d.begin(), d.end());
  return out;
}

Bytes big_doc(std::size_t n) {
  Builder b;
  b.append_string("s", std::string(n, 'x'));
  return b.finish();
}

TEST(WireTest, Crc32cKnownValue) {
  // The CRC-32C check value over "123456789".
  const char* s = "123456789";
  EXPECT_EQ(crc32c({reinterpret_cast<const std::uint8_t*>(s), 9}), 0xE3069283u);
  // Incremental equals one-shot.
  std::uint32_t c = crc32c({reinterpret_cast<const std::uint8_t*>(s), 4});
  EXPECT_EQ(crc32c({reinterpret_cast<const std::uint8_t*>(s) + 4, 5}, c), 0xE3069283u);
}

TEST(WireTest, OpMsgBodyOnlyRoundTrip) {
  Bytes body = doc_with("ping", 1);
  auto m = encode_op_msg(7, 3, {.flags = 0, .body = body});
  ASSERT_TRUE(m) << m.status().to_string();
  Bytes flat = m->flatten();
  EXPECT_EQ(flat.size(), m->size());
  auto v = decode_message(flat);
  ASSERT_TRUE(v) << v.status().to_string();
  EXPECT_EQ(v->header.request_id, 7);
  EXPECT_EQ(v->header.response_to, 3);
  EXPECT_EQ(v->header.op_code, 2013);
  ASSERT_NE(v->msg(), nullptr);
  EXPECT_EQ(v->msg()->flags, 0u);
  EXPECT_EQ(v->msg()->body.find("ping").as_int32(), 1);
  EXPECT_TRUE(v->msg()->sequences.empty());
}

TEST(WireTest, OpMsgDocumentSequencesAreBorrowedNotCopied) {
  Bytes body = doc_with("insert", 1);
  Bytes docs = concat({doc_with("a", 1), doc_with("a", 2), doc_with("a", 3)});
  Bytes other = concat({doc_with("u", 9)});
  OpMsgOut out{.flags = kExhaustAllowed, .body = body, .sequences = {{"documents", docs}, {"updates", other}}};
  auto m = encode_op_msg(1, 0, out);
  ASSERT_TRUE(m);
  // The gather list points straight at the caller's buffers.
  bool saw_docs = false;
  for (ByteSpan b : m->buffers())
    if (b.data() == docs.data() && b.size() == docs.size()) saw_docs = true;
  EXPECT_TRUE(saw_docs);
  Bytes flat = m->flatten();
  auto v = decode_message(flat);
  ASSERT_TRUE(v) << v.status().to_string();
  const OpMsgView* msg = v->msg();
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ(msg->flags, kExhaustAllowed);
  ASSERT_EQ(msg->sequences.size(), 2u);
  const DocumentSequence* d = msg->sequence("documents");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->count, 3u);
  EXPECT_TRUE(std::equal(d->documents.begin(), d->documents.end(), docs.begin(), docs.end()));
  ASSERT_NE(msg->sequence("updates"), nullptr);
  EXPECT_EQ(msg->sequence("updates")->count, 1u);
  EXPECT_EQ(msg->sequence("nope"), nullptr);
}

TEST(WireTest, OpMsgEmptySequence) {
  Bytes body = doc_with("insert", 1);
  auto m = encode_op_msg(1, 0, {.body = body, .sequences = {{"documents", {}}}});
  ASSERT_TRUE(m);
  Bytes flat = m->flatten();
  auto v = decode_message(flat);
  ASSERT_TRUE(v) << v.status().to_string();
  ASSERT_EQ(v->msg()->sequences.size(), 1u);
  EXPECT_EQ(v->msg()->sequences[0].count, 0u);
}

TEST(WireTest, OpMsgChecksumWrittenAndVerified) {
  Bytes body = doc_with("ping", 1);
  Bytes docs = concat({doc_with("a", 1)});
  auto m =
      encode_op_msg(1, 0, {.flags = kMoreToCome, .body = body, .sequences = {{"documents", docs}}, .checksum = true});
  ASSERT_TRUE(m);
  Bytes flat = m->flatten();
  auto v = decode_message(flat);
  ASSERT_TRUE(v) << v.status().to_string();
  EXPECT_TRUE(v->msg()->checksum_present());
  EXPECT_TRUE(v->msg()->more_to_come());
  // Flip one byte in the body: the checksum no longer matches.
  Bytes bad = flat;
  bad[kHeaderSize + 4 + 1 + 6] ^= 0x01;
  auto r = decode_message(bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos);
  EXPECT_EQ(r.status().offset(), static_cast<std::int64_t>(flat.size() - 4));
}

TEST(WireTest, OpMsgSizeLimitOnEncode) {
  Bytes body = doc_with("insert", 1);
  Bytes docs = big_doc(2000);
  auto m = encode_op_msg(1, 0, {.body = body, .sequences = {{"documents", docs}}}, 1000);
  ASSERT_FALSE(m);
  EXPECT_NE(m.status().message().find("maxMessageSizeBytes"), std::string::npos);
  Bytes not_doc = {1, 2, 3};
  EXPECT_FALSE(encode_op_msg(1, 0, {.body = not_doc}));
}

// A valid OP_MSG to corrupt: body {ping:1} then a sequence "documents" with two documents.
Bytes sample_msg() {
  static Bytes body = doc_with("ping", 1);
  static Bytes docs = concat({doc_with("a", 1), doc_with("a", 2)});
  auto m = encode_op_msg(5, 0, {.body = body, .sequences = {{"documents", docs}}});
  return m->flatten();
}
void set_i32(Bytes& b, std::size_t at, std::int32_t v) {
  std::memcpy(b.data() + at, &v, 4);
}

TEST(WireTest, MalformedMessagesNameTheOffset) {
  const std::size_t body_at = kHeaderSize + 4 + 1;  // after flagBits and the kind byte
  const std::size_t body_len = doc_with("ping", 1).size();
  const std::size_t seq_at = body_at + body_len;  // the kind-1 byte

  {  // Truncated header.
    Bytes b = sample_msg();
    b.resize(10);
    auto r = decode_message(b);
    ASSERT_FALSE(r);
  }
  {  // messageLength disagrees with the buffer.
    Bytes b = sample_msg();
    set_i32(b, 0, static_cast<std::int32_t>(b.size() + 10));
    auto r = decode_message(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().offset(), 0);
  }
  {  // messageLength over maxMessageSizeBytes.
    Bytes b = sample_msg();
    auto r = decode_message(b, {.max_message_size = 20});
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("maxMessageSizeBytes"), std::string::npos);
  }
  {  // messageLength negative.
    Bytes b = sample_msg();
    set_i32(b, 0, -5);
    EXPECT_FALSE(decode_message(b));
  }
  {  // Unknown section kind.
    Bytes b = sample_msg();
    b[seq_at] = 7;
    auto r = decode_message(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().offset(), static_cast<std::int64_t>(seq_at));
    EXPECT_NE(r.status().message().find("section kind 7"), std::string::npos);
  }
  {  // Body BSON length overruns the message.
    Bytes b = sample_msg();
    set_i32(b, body_at, 100000);
    auto r = decode_message(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().offset(), static_cast<std::int64_t>(body_at));
  }
  {  // Body BSON length too small.
    Bytes b = sample_msg();
    set_i32(b, body_at, 3);
    auto r = decode_message(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().offset(), static_cast<std::int64_t>(body_at));
  }
  {  // Sequence size overruns.
    Bytes b = sample_msg();
    set_i32(b, seq_at + 1, 5000);
    auto r = decode_message(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().offset(), static_cast<std::int64_t>(seq_at + 1));
  }
  {  // A document inside the sequence has a bad length: offset of that document.
    Bytes b = sample_msg();
    std::size_t first_doc = seq_at + 1 + 4 + std::strlen("documents") + 1;
    std::size_t second_doc = first_doc + doc_with("a", 1).size();
    set_i32(b, second_doc, 2);
    auto r = decode_message(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().offset(), static_cast<std::int64_t>(second_doc));
  }
  {  // Unknown required flag bit.
    Bytes b = sample_msg();
    set_i32(b, kHeaderSize, 1 << 5);
    auto r = decode_message(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().offset(), static_cast<std::int64_t>(kHeaderSize));
  }
  {  // Unknown optional flag bit is ignored.
    Bytes b = sample_msg();
    set_i32(b, kHeaderSize, 1 << 20);
    EXPECT_TRUE(decode_message(b));
  }
  {  // No body section at all.
    Bytes b(kHeaderSize + 4, 0);
    set_i32(b, 0, static_cast<std::int32_t>(b.size()));
    set_i32(b, 12, 2013);
    auto r = decode_message(b);
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("no body"), std::string::npos);
  }
  {  // Two body sections.
    Bytes body = doc_with("ping", 1);
    Bytes b(kHeaderSize + 4, 0);
    for (int i = 0; i < 2; ++i) {
      b.push_back(0);
      b.insert(b.end(), body.begin(), body.end());
    }
    set_i32(b, 0, static_cast<std::int32_t>(b.size()));
    set_i32(b, 12, 2013);
    auto r = decode_message(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().offset(), static_cast<std::int64_t>(kHeaderSize + 4 + 1 + body.size()));
  }
  {  // Unknown opCode.
    Bytes b = sample_msg();
    set_i32(b, 12, 2010);
    auto r = decode_message(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().offset(), 12);
  }
  {  // Full validation catches a bad element inside a structurally fine body.
    Bytes b = sample_msg();
    b[body_at + 4] = 0x42;  // unknown element type
    EXPECT_TRUE(decode_message(b));
    auto r = decode_message(b, {.validate_documents = true});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().offset(), static_cast<std::int64_t>(body_at + 4));
  }
}

TEST(WireTest, OpQueryRoundTrip) {
  Bytes q = doc_with("isMaster", 1);
  Bytes fields = doc_with("x", 1);
  auto m = encode_op_query(11, {.flags = kQuerySecondaryOk, .query = q});
  Bytes flat = m.flatten();
  auto v = decode_message(flat);
  ASSERT_TRUE(v) << v.status().to_string();
  ASSERT_NE(v->query(), nullptr);
  EXPECT_EQ(v->header.op_code, 2004);
  EXPECT_EQ(v->query()->flags, kQuerySecondaryOk);
  EXPECT_EQ(v->query()->full_collection_name, "admin.$cmd");
  EXPECT_EQ(v->query()->number_to_return, -1);
  EXPECT_EQ(v->query()->query.find("isMaster").as_int32(), 1);
  EXPECT_EQ(v->query()->return_fields.size(), 0u);

  auto m2 = encode_op_query(12, {.full_collection_name = "db.c",
                                 .number_to_skip = 2,
                                 .number_to_return = 5,
                                 .query = q,
                                 .return_fields = fields});
  Bytes flat2 = m2.flatten();
  auto v2 = decode_message(flat2);
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->query()->full_collection_name, "db.c");
  EXPECT_EQ(v2->query()->number_to_skip, 2);
  EXPECT_EQ(v2->query()->return_fields.find("x").as_int32(), 1);

  // Unterminated collection name.
  Bytes bad = flat;
  bad.resize(kHeaderSize + 4 + 3);
  set_i32(bad, 0, static_cast<std::int32_t>(bad.size()));
  auto r = decode_message(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().offset(), static_cast<std::int64_t>(kHeaderSize + 4));
}

TEST(WireTest, OpReplyRoundTrip) {
  Bytes docs = concat({doc_with("ismaster", 1), doc_with("ok", 1)});
  auto m = encode_op_reply(20, 11, {.response_flags = kReplyAwaitCapable, .cursor_id = 0, .documents = docs});
  ASSERT_TRUE(m);
  Bytes flat = m->flatten();
  auto v = decode_message(flat);
  ASSERT_TRUE(v) << v.status().to_string();
  ASSERT_NE(v->reply(), nullptr);
  EXPECT_EQ(v->header.response_to, 11);
  EXPECT_EQ(v->reply()->number_returned, 2);
  EXPECT_EQ(v->reply()->response_flags, kReplyAwaitCapable);
  EXPECT_EQ(v->reply()->first().find("ismaster").as_int32(), 1);

  // numberReturned disagreeing with the documents.
  Bytes bad = flat;
  set_i32(bad, kHeaderSize + 16, 3);
  auto r = decode_message(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().offset(), static_cast<std::int64_t>(kHeaderSize + 16));
  // Encoding refuses a documents buffer that does not walk.
  Bytes junk = {9, 0, 0, 0, 1};
  EXPECT_FALSE(encode_op_reply(1, 1, {.documents = junk}));
}

class CompressionTest : public ::testing::TestWithParam<CompressorId> {};

TEST_P(CompressionTest, RoundTripsAndReportsCompressor) {
  Bytes body = doc_with("insert", 1);
  std::vector<Bytes> many;
  for (int i = 0; i < 500; ++i) many.push_back(doc_with("a", i));
  Bytes docs = concat(many);
  auto m = encode_op_msg(42, 17, {.body = body, .sequences = {{"documents", docs}}});
  ASSERT_TRUE(m);
  auto c = compress_message(*m, GetParam());
  ASSERT_TRUE(c) << c.status().to_string();
  EXPECT_EQ(c->request_id(), 42);
  Bytes wire = c->flatten();
  if (GetParam() != CompressorId::kNoop) {
    EXPECT_LT(wire.size(), m->size());
  }
  auto owned = decode_owned(wire);
  ASSERT_TRUE(owned) << owned.status().to_string();
  EXPECT_TRUE(owned->was_compressed);
  EXPECT_EQ(owned->compressor, GetParam());
  EXPECT_EQ(owned->bytes, m->flatten());
  EXPECT_EQ(owned->view.header.request_id, 42);
  EXPECT_EQ(owned->view.header.response_to, 17);
  ASSERT_NE(owned->view.msg(), nullptr);
  EXPECT_EQ(owned->view.msg()->sequence("documents")->count, 500u);

  // Moving the owned message keeps its views valid.
  OwnedMessage moved = std::move(*owned);
  EXPECT_EQ(moved.view.msg()->body.find("insert").as_int32(), 1);

  // decode_message refuses compressed input outright.
  EXPECT_FALSE(decode_message(wire));
}

INSTANTIATE_TEST_SUITE_P(Compressors, CompressionTest,
                         ::testing::Values(CompressorId::kNoop, CompressorId::kZlib, CompressorId::kZstd),
                         [](const auto& info) { return std::string(compressor_name(info.param)); });

TEST(WireTest, CompressedMalformed) {
  Bytes body = doc_with("ping", 1);
  auto m = encode_op_msg(1, 0, {.body = body});
  auto c = compress_message(*m, CompressorId::kZstd);
  Bytes wire = c->flatten();
  {  // Corrupt payload.
    Bytes b = wire;
    for (std::size_t i = kHeaderSize + 9; i < b.size(); ++i) b[i] ^= 0x5A;
    auto r = decompress_message(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().offset(), static_cast<std::int64_t>(kHeaderSize + 9));
  }
  {  // Wrong uncompressedSize.
    Bytes b = wire;
    set_i32(b, kHeaderSize + 4, 3);
    EXPECT_FALSE(decompress_message(b));
    set_i32(b, kHeaderSize + 4, 100'000'000);
    auto r = decompress_message(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().offset(), static_cast<std::int64_t>(kHeaderSize + 4));
  }
  {  // Unknown and unsupported compressors.
    Bytes b = wire;
    b[kHeaderSize + 8] = 9;
    EXPECT_FALSE(decompress_message(b));
    b[kHeaderSize + 8] = 1;
    auto r = decompress_message(b);
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("snappy"), std::string::npos);
  }
  EXPECT_FALSE(compress_message(*m, CompressorId::kSnappy));
  EXPECT_TRUE(parse_compressor("zstd"));
  EXPECT_FALSE(parse_compressor("lz4"));
}

TEST(WireTest, RequestIdsIncrease) {
  std::int32_t a = next_request_id();
  std::int32_t b = next_request_id();
  EXPECT_GT(b, a);
}

}  // namespace
}  // namespace bsonpipe::io
