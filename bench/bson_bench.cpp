// BSON micro-benchmarks: walk_documents (the per-batch length check on every dump and restore
// batch) and the full validator, in bytes per second, over generated documents of three sizes.
#include <benchmark/benchmark.h>

#include "bench/bench_data.hpp"
#include "formats/bson.hpp"

namespace {

using namespace bsonpipe;

constexpr std::size_t kBufferBytes = 16u << 20;

void BM_WalkDocuments(benchmark::State& state) {
  const auto avg = static_cast<std::size_t>(state.range(0));
  formats::Bytes buf = bench::generated_bson(avg, kBufferBytes);
  std::size_t docs = 0;
  for (auto _ : state) {
    auto r = formats::walk_documents(buf);
    if (!r) state.SkipWithError("walk failed");
    docs = r ? *r : 0;
    benchmark::DoNotOptimize(docs);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * docs));
}
BENCHMARK(BM_WalkDocuments)->Arg(256)->Arg(1024)->Arg(64 * 1024)->Unit(benchmark::kMillisecond);

void BM_Validate(benchmark::State& state) {
  const auto avg = static_cast<std::size_t>(state.range(0));
  formats::ValidateOptions opts;
  opts.check_utf8 = state.range(1) != 0;
  formats::Bytes buf = bench::generated_bson(avg, kBufferBytes);
  auto docs = bench::split_docs(buf);
  for (auto _ : state) {
    for (auto d : docs) {
      Status s = formats::validate(d, opts);
      if (!s) state.SkipWithError("validate failed");
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * docs.size()));
}
BENCHMARK(BM_Validate)
    ->ArgsProduct({{256, 1024, 64 * 1024}, {0, 1}})
    ->ArgNames({"avg", "utf8"})
    ->Unit(benchmark::kMillisecond);

}  // namespace
