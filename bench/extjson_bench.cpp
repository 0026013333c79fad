// Extended JSON micro-benchmarks: to_json (canonical and relaxed) and parse back, per document,
// over generated ~1 KB documents (metadata.json, --query and verify output use these paths).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/bench_data.hpp"
#include "formats/extjson.hpp"

namespace {

using namespace bsonpipe;
namespace ej = formats::extjson;

formats::extjson::Mode mode_of(std::int64_t v) {
  return v == 0 ? ej::Mode::kCanonical : ej::Mode::kRelaxed;
}

void BM_ToJson(benchmark::State& state) {
  auto docs = bench::generated_docs(1024, 4096);
  ej::WriteOptions o;
  o.mode = mode_of(state.range(0));
  std::size_t bytes = 0;
  for (const auto& d : docs) bytes += d.size();
  std::string out;
  for (auto _ : state) {
    for (const auto& d : docs) {
      out.clear();
      ej::append_json(out, formats::DocView(d), o);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * docs.size()));
}
BENCHMARK(BM_ToJson)->Arg(0)->Arg(1)->ArgName("relaxed")->Unit(benchmark::kMillisecond);

void BM_Parse(benchmark::State& state) {
  auto docs = bench::generated_docs(1024, 4096);
  ej::WriteOptions o;
  o.mode = mode_of(state.range(0));
  std::vector<std::string> texts;
  std::size_t bytes = 0;
  for (const auto& d : docs) {
    texts.push_back(ej::to_json(formats::DocView(d), o));
    bytes += texts.back().size();
  }
  for (auto _ : state) {
    for (const auto& t : texts) {
      auto r = ej::parse(t);
      if (!r) state.SkipWithError("parse failed");
      benchmark::DoNotOptimize(r);
    }
  }
  // Bytes of JSON text consumed.
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * texts.size()));
}
BENCHMARK(BM_Parse)->Arg(0)->Arg(1)->ArgName("relaxed")->Unit(benchmark::kMillisecond);

}  // namespace
