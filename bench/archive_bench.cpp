// Archive micro-benchmarks: multiplexing blocks of several namespaces into one mongodump archive
// stream (CRC-64 per namespace included) and demultiplexing it back with all checks.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/bench_data.hpp"
#include "formats/archive.hpp"

namespace {

using namespace bsonpipe;
namespace ar = formats::archive;

constexpr int kNamespaces = 4;
constexpr std::size_t kBlockBytes = 4u << 20;

ar::Prelude prelude() {
  ar::Prelude p;
  for (int i = 0; i < kNamespaces; ++i) {
    ar::CollectionEntry e;
    e.db = "bench";
    e.collection = "c" + std::to_string(i);
    e.type = "collection";
    p.collections.push_back(e);
  }
  return p;
}

// Blocks of whole documents, each about kBlockBytes.
std::vector<formats::Bytes> blocks(std::size_t total) {
  formats::Bytes all = bench::generated_bson(1024, total);
  std::vector<formats::Bytes> out;
  formats::Bytes cur;
  for (auto d : bench::split_docs(all)) {
    cur.insert(cur.end(), d.begin(), d.end());
    if (cur.size() >= kBlockBytes) out.push_back(std::move(cur)), cur.clear();
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

Status write_archive(const std::vector<formats::Bytes>& bs, ar::ByteSink sink) {
  ar::Writer w(std::move(sink));
  auto p = prelude();
  if (auto s = w.write_prelude(p); !s) return s;
  for (std::size_t i = 0; i < bs.size(); ++i) {
    const auto& e = p.collections[i % kNamespaces];
    if (auto s = w.write_documents(e.db, e.collection, bs[i]); !s) return s;
  }
  for (const auto& e : p.collections)
    if (auto s = w.end_namespace(e.db, e.collection); !s) return s;
  return w.finish();
}

void BM_ArchiveMux(benchmark::State& state) {
  auto bs = blocks(32u << 20);
  std::size_t total = 0;
  for (const auto& b : bs) total += b.size();
  for (auto _ : state) {
    std::size_t out = 0;
    auto s = write_archive(bs, [&](formats::ByteSpan b) {
      out += b.size();
      return Status{};
    });
    if (!s) state.SkipWithError(s.to_string().c_str());
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * total));
}
BENCHMARK(BM_ArchiveMux)->Unit(benchmark::kMillisecond);

void BM_ArchiveDemux(benchmark::State& state) {
  auto bs = blocks(32u << 20);
  formats::Bytes archive;
  auto s = write_archive(bs, [&](formats::ByteSpan b) {
    archive.insert(archive.end(), b.begin(), b.end());
    return Status{};
  });
  if (!s) state.SkipWithError(s.to_string().c_str());
  ar::ReaderOptions o;
  o.validate_documents = state.range(0) != 0;
  for (auto _ : state) {
    ar::Reader r(ar::span_source(archive, o.read_size), o);
    auto p = r.read_prelude();
    if (!p) state.SkipWithError(p.status().to_string().c_str());
    std::uint64_t docs = 0;
    while (true) {
      auto e = r.next();
      if (!e) {
        state.SkipWithError(e.status().to_string().c_str());
        break;
      }
      if (e->kind == ar::EventKind::kEnd) break;
      docs += e->document_count;
    }
    benchmark::DoNotOptimize(docs);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * archive.size()));
}
BENCHMARK(BM_ArchiveDemux)->Arg(0)->Arg(1)->ArgName("validate")->Unit(benchmark::kMillisecond);

}  // namespace
