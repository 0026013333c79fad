// minimongod micro-benchmarks: the rate at which its engine drains a collection (find + getMore)
// and takes inserts (OP_MSG document sequences), in process and over loopback TCP with our client.
// These bound what a dump or restore against minimongod can reach on this machine.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "bench/bench_data.hpp"
#include "io/commands.hpp"
#include "io/connection.hpp"
#include "io/uri.hpp"
#include "tools/minimongod/engine.hpp"
#include "tools/minimongod/generate.hpp"
#include "tools/minimongod/server.hpp"

namespace {

using namespace bsonpipe;
using formats::Builder;
using formats::Bytes;
using formats::DocView;
namespace mm = minimongod;

constexpr std::uint64_t kDocs = 64 * 1024;  // ~64 MiB of 1 KB documents
constexpr std::size_t kAvg = 1024;

// One engine loaded once with bench.c, shared by the drain benchmarks.
mm::Engine& loaded_engine() {
  static mm::Engine* e = [] {
    auto* engine = new mm::Engine();
    mm::GenerateSpec spec{"bench", "c", kDocs, kAvg, 1};
    (void)mm::generate_into(*engine, spec);
    return engine;
  }();
  return *e;
}

// The reply's cursor id; adds the batch's documents and their bytes to the totals.
std::int64_t cursor_id(const Bytes& reply, std::size_t* docs, std::size_t* bytes) {
  DocView cur = DocView(reply).find("cursor").as_document();
  auto batch = cur.find("firstBatch");
  if (!batch.valid()) batch = cur.find("nextBatch");
  if (batch.valid())
    for (auto e : batch.as_document()) {
      ++*docs;
      *bytes += e.value().size();
    }
  return cur.find("id").as_int64();
}

void BM_EngineFindDrain(benchmark::State& state) {
  auto& engine = loaded_engine();
  mm::Session session;
  Bytes find = Builder().append_string("find", "c").append_string("$db", "bench").finish();
  std::size_t docs = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    docs = bytes = 0;
    std::int64_t id = cursor_id(engine.run(session, DocView(find)), &docs, &bytes);
    while (id != 0) {
      Bytes gm =
          Builder().append_int64("getMore", id).append_string("collection", "c").append_string("$db", "bench").finish();
      id = cursor_id(engine.run(session, DocView(gm)), &docs, &bytes);
    }
  }
  if (docs != kDocs) state.SkipWithError("drained the wrong number of documents");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * docs));
}
BENCHMARK(BM_EngineFindDrain)->Unit(benchmark::kMillisecond);

// Batches of concatenated documents, each within the insert limits (≤ 100k docs, ≤ ~48 MB).
struct InsertData {
  Bytes all = bench::generated_bson(kAvg, 64u << 20, 7);
  std::vector<formats::ByteSpan> batches;
  std::size_t docs = 0;
  InsertData() {
    formats::ByteSpan rest(all);
    while (!rest.empty()) {
      std::size_t n = 0;
      auto b = io::next_insert_batch(rest, 100'000, 16u << 20, &n);
      if (!b) break;
      batches.push_back(*b);
      docs += n;
      rest = rest.subspan(b->size());
    }
  }
};

const InsertData& insert_data() {
  static const InsertData d;
  return d;
}

void BM_EngineInsert(benchmark::State& state) {
  const auto& d = insert_data();
  mm::Engine engine;
  mm::Session session;
  Bytes drop = Builder().append_string("drop", "ins").append_string("$db", "bench").finish();
  Bytes insert =
      Builder().append_string("insert", "ins").append_bool("ordered", false).append_string("$db", "bench").finish();
  for (auto _ : state) {
    state.PauseTiming();
    (void)engine.run(session, DocView(drop));
    state.ResumeTiming();
    for (auto b : d.batches) {
      mm::Sequence seq{"documents", b};
      Bytes r = engine.run(session, mm::CommandRequest{DocView(insert), std::span<const mm::Sequence>(&seq, 1)});
      if (DocView(r).find("n").as_int32() <= 0) state.SkipWithError("insert failed");
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d.all.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * d.docs));
}
BENCHMARK(BM_EngineInsert)->Unit(benchmark::kMillisecond);

// A server on an ephemeral loopback port over the given engine, and a client connection to it.
struct Loopback {
  mm::Server server;
  std::unique_ptr<io::Connection> conn;
  explicit Loopback(mm::Engine& e) : server(e, mm::ServerOptions{}) {
    if (!server.start()) return;
    auto uri = io::parse_uri("mongodb://127.0.0.1:" + std::to_string(server.port()) + "/");
    if (!uri) return;
    auto c = io::connect_selected(*uri, io::ReadPreferenceMode::kPrimary);
    if (c) conn = std::move(*c);
  }
};

void BM_LoopbackFindDrain(benchmark::State& state) {
  auto& engine = loaded_engine();
  Loopback lb(engine);
  if (!lb.conn) return state.SkipWithError("cannot connect");
  std::size_t docs = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    docs = bytes = 0;
    auto cur = io::find(*lb.conn, "bench", "c");
    if (!cur) return state.SkipWithError(cur.error().to_string().c_str());
    while (true) {
      docs += cur->batch().size();
      bytes += cur->batch_bytes();
      if (cur->exhausted()) break;
      if (auto m = cur->next_batch(); !m) return state.SkipWithError(m.error().to_string().c_str());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * docs));
}
BENCHMARK(BM_LoopbackFindDrain)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_LoopbackInsert(benchmark::State& state) {
  const auto& d = insert_data();
  mm::Engine engine;
  Loopback lb(engine);
  if (!lb.conn) return state.SkipWithError("cannot connect");
  io::InsertOptions o;
  o.ordered = false;
  for (auto _ : state) {
    state.PauseTiming();
    (void)io::drop_collection(*lb.conn, "bench", "ins");
    state.ResumeTiming();
    for (auto b : d.batches) {
      auto r = io::insert(*lb.conn, "bench", "ins", b, o);
      if (!r || !r->ok()) return state.SkipWithError("insert failed");
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d.all.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * d.docs));
}
BENCHMARK(BM_LoopbackInsert)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
