// Checksum micro-benchmarks: CRC-64 (every archive namespace), XXH3-128 (every manifest file) and
// the order-independent multiset digest (per document), in bytes per second.
#include <benchmark/benchmark.h>
#include <xxhash.h>

#include "bench/bench_data.hpp"
#include "formats/crc64.hpp"
#include "formats/hash.hpp"

namespace {

using namespace bsonpipe;

const formats::Bytes& data() {
  static const formats::Bytes d = bench::generated_bson(1024, 16u << 20);
  return d;
}

void BM_Crc64(benchmark::State& state) {
  const auto& d = data();
  for (auto _ : state) benchmark::DoNotOptimize(formats::crc64(d));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d.size()));
}
BENCHMARK(BM_Crc64)->Unit(benchmark::kMillisecond);

void BM_Xxh3_128Streaming(benchmark::State& state) {
  const auto& d = data();
  const auto chunk = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    formats::Xxh3Hasher h;
    for (std::size_t off = 0; off < d.size(); off += chunk)
      h.update(formats::ByteSpan(d).subspan(off, std::min(chunk, d.size() - off)));
    benchmark::DoNotOptimize(h.hex_digest());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d.size()));
}
BENCHMARK(BM_Xxh3_128Streaming)->Arg(64 * 1024)->Arg(4 << 20)->Unit(benchmark::kMillisecond);

// The A of the A/B: the library's baseline-ISA XXH3-128 entry point, which formats/hash.cpp used
// before it called the run-time dispatched one (BM_Xxh3_128OneShot).
void BM_Xxh3_128BaselineIsa(benchmark::State& state) {
  const auto& d = data();
  for (auto _ : state) benchmark::DoNotOptimize(XXH3_128bits(d.data(), d.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d.size()));
}
BENCHMARK(BM_Xxh3_128BaselineIsa)->Unit(benchmark::kMillisecond);

void BM_Xxh3_128OneShot(benchmark::State& state) {
  const auto& d = data();
  for (auto _ : state) benchmark::DoNotOptimize(formats::xxh3_128_hex(d));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d.size()));
}
BENCHMARK(BM_Xxh3_128OneShot)->Unit(benchmark::kMillisecond);

void BM_MultisetDigest(benchmark::State& state) {
  const auto& d = data();
  auto docs = bench::split_docs(d);
  for (auto _ : state) {
    formats::MultisetDigest m;
    for (auto doc : docs) m.add(doc);
    benchmark::DoNotOptimize(m.count());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * docs.size()));
}
BENCHMARK(BM_MultisetDigest)->Unit(benchmark::kMillisecond);

}  // namespace
