// ArchiveStream (pipeline/sources/restore_source.hpp): an archive read as restore's
// NamespaceStream gives the Reader's events, with each batch of documents in a buffer of its own.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "formats/archive.hpp"
#include "formats/bson.hpp"
#include "pipeline/sources/restore_source.hpp"

namespace bsonpipe::pipeline {
namespace {

using formats::Bytes;
using formats::ByteSpan;
namespace archive = formats::archive;

Bytes doc(std::int32_t v) {
  formats::Builder b;
  b.append_int32("v", v);
  return b.finish();
}

Bytes docs(std::int32_t from, std::int32_t to) {
  Bytes out;
  for (std::int32_t i = from; i < to; ++i) {
    Bytes d = doc(i);
    out.insert(out.end(), d.begin(), d.end());
  }
  return out;
}

// d.a: 40 documents in two segments around one of d.t (timeseries, under its buckets); d.e empty.
Bytes sample_archive() {
  archive::Prelude p;
  p.header = {2, "0.1", "7.0.0", "bsonpipe-test"};
  p.collections.push_back({"d", "a", "", 0, "collection"});
  p.collections.push_back({"d", "t", "", 0, "timeseries"});
  p.collections.push_back({"d", "e", "", 0, "collection"});
  Bytes out;
  archive::Writer w([&](ByteSpan b) {
    out.insert(out.end(), b.begin(), b.end());
    return Status{};
  });
  EXPECT_TRUE(w.write_prelude(p).is_ok());
  EXPECT_TRUE(w.write_documents("d", "a", docs(0, 20)).is_ok());
  EXPECT_TRUE(w.write_documents("d", "system.buckets.t", docs(100, 105)).is_ok());
  EXPECT_TRUE(w.write_documents("d", "a", docs(20, 40)).is_ok());
  EXPECT_TRUE(w.end_namespace("d", "a").is_ok());
  EXPECT_TRUE(w.end_namespace("d", "system.buckets.t").is_ok());
  EXPECT_TRUE(w.end_namespace("d", "e").is_ok());
  EXPECT_TRUE(w.finish().is_ok());
  return out;
}

struct Seen {
  StreamEventKind kind;
  std::string ns;  // the prelude entry's
  Bytes documents;
  std::size_t count;
  std::int64_t offset;
  bool operator==(const Seen&) const = default;
};

TEST(ArchiveStream, GivesTheReadersEventsWithBatchesOfTheirOwn) {
  const Bytes data = sample_archive();
  archive::ReaderOptions ro;
  ro.batch_bytes = 100;  // several batches per segment
  // What the Reader itself gives.
  std::vector<Seen> want;
  archive::Reader reader(archive::span_source(data, 7), ro);
  ASSERT_TRUE(reader.read_prelude().is_ok());
  for (;;) {
    auto ev = reader.next();
    ASSERT_TRUE(ev.is_ok()) << ev.status().to_string();
    StreamEventKind kind = ev->kind == archive::EventKind::kDocuments      ? StreamEventKind::kDocuments
                           : ev->kind == archive::EventKind::kNamespaceEnd ? StreamEventKind::kNamespaceEnd
                                                                           : StreamEventKind::kEnd;
    want.push_back({kind, ev->entry ? ev->entry->ns() : "", Bytes(ev->documents.begin(), ev->documents.end()),
                    ev->document_count, ev->offset});
    if (kind == StreamEventKind::kEnd) break;
  }
  ASSERT_GT(want.size(), 8u);

  ArchiveStream stream(archive::span_source(data, 7), ro);
  auto prelude = stream.read_prelude();
  ASSERT_TRUE(prelude.is_ok());
  ASSERT_EQ((*prelude)->collections.size(), 3u);
  std::vector<Seen> got;
  std::vector<Bytes> taken;
  StreamEvent ev;
  for (std::size_t i = 0;; ++i) {
    ASSERT_TRUE(stream.next(ev).is_ok());
    got.push_back({ev.kind, ev.entry ? ev.entry->ns() : "", ev.documents, ev.count, ev.offset});
    if (ev.kind == StreamEventKind::kDocuments && i % 2 == 0) taken.push_back(std::move(ev.documents));
    if (ev.kind == StreamEventKind::kEnd) break;
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(got[1].ns, "d.a");
  for (const Bytes& b : taken) EXPECT_TRUE(formats::walk_documents(b).is_ok()) << "a moved-out batch is whole";
  EXPECT_EQ(stream.offset(), static_cast<std::int64_t>(data.size()));
  ASSERT_TRUE(stream.next(ev).is_ok());
  EXPECT_EQ(ev.kind, StreamEventKind::kEnd) << "kEnd again after the end";
}

TEST(ArchiveStream, ATruncatedArchiveFailsAtItsOffsetAndStaysFailed) {
  Bytes data = sample_archive();
  data.resize(data.size() - 30);
  ArchiveStream stream(archive::span_source(data));
  ASSERT_TRUE(stream.read_prelude().is_ok());
  StreamEvent ev;
  Status s;
  while ((s = stream.next(ev)).is_ok()) ASSERT_NE(ev.kind, StreamEventKind::kEnd);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArchive);
  EXPECT_GE(s.offset(), 0) << s.to_string();
  Status again = stream.next(ev);
  EXPECT_EQ(again.message(), s.message());
}

}  // namespace
}  // namespace bsonpipe::pipeline
