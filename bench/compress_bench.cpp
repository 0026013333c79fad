// Compression micro-benchmarks, one core each: our BlockCompressor (gzip 1/6, zstd 1/3) on 4 MiB
// blocks of realistic generated BSON (the dump's block size), stream decompression, and side by
// side the same bytes through the `gzip -6` and `zstd -3` command-line tools (a subprocess over a
// temporary file, output to /dev/null). "MB/s" counters are raw input bytes (10^6) per wall second.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/bench_data.hpp"
#include "io/compress.hpp"

extern char** environ;

namespace {

using namespace bsonpipe;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kBlockBytes = 4u << 20;
constexpr std::size_t kTotalBytes = 32u << 20;

const formats::Bytes& data() {
  static const formats::Bytes d = bench::generated_bson(1024, kTotalBytes);
  return d;
}

io::Codec codec_of(std::int64_t v) {
  return v == 0 ? io::Codec::kGzip : io::Codec::kZstd;
}

void set_rate(benchmark::State& state, double bytes_per_iter, double seconds) {
  state.counters["MB/s"] = seconds > 0 ? bytes_per_iter * static_cast<double>(state.iterations()) / 1e6 / seconds : 0;
}

void BM_Compress(benchmark::State& state) {
  const auto& d = data();
  auto c = io::BlockCompressor::create(codec_of(state.range(0)), static_cast<int>(state.range(1)));
  formats::Bytes out;
  std::size_t stored = 0;
  double secs = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    stored = 0;
    for (std::size_t off = 0; off < d.size(); off += kBlockBytes) {
      out.clear();
      auto s = c->compress(formats::ByteSpan(d).subspan(off, std::min(kBlockBytes, d.size() - off)), out);
      if (!s) state.SkipWithError(s.to_string().c_str());
      stored += out.size();
    }
    secs += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d.size()));
  set_rate(state, static_cast<double>(d.size()), secs);
  state.counters["ratio"] = static_cast<double>(d.size()) / static_cast<double>(stored);
}
BENCHMARK(BM_Compress)
    ->Args({0, 1})
    ->Args({0, 6})
    ->Args({1, 1})
    ->Args({1, 3})
    ->ArgNames({"zstd", "level"})
    ->Unit(benchmark::kMillisecond);

void BM_Decompress(benchmark::State& state) {
  const auto& d = data();
  const auto codec = codec_of(state.range(0));
  auto c = io::BlockCompressor::create(codec, io::default_level(codec));
  formats::Bytes stream;
  for (std::size_t off = 0; off < d.size(); off += kBlockBytes)
    if (auto s = c->compress(formats::ByteSpan(d).subspan(off, std::min(kBlockBytes, d.size() - off)), stream); !s)
      state.SkipWithError(s.to_string().c_str());
  formats::Bytes out;
  out.reserve(d.size());
  double secs = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    auto dec = io::StreamDecompressor::create(codec);
    out.clear();
    // Fed in 256 KiB chunks, as restore reads files.
    for (std::size_t off = 0; off < stream.size(); off += 256 * 1024)
      if (auto s = dec->feed(
              formats::ByteSpan(stream).subspan(off, std::min<std::size_t>(256 * 1024, stream.size() - off)), out);
          !s)
        state.SkipWithError(s.to_string().c_str());
    if (auto s = dec->finish(); !s) state.SkipWithError(s.to_string().c_str());
    secs += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d.size()));
  set_rate(state, static_cast<double>(d.size()), secs);
}
BENCHMARK(BM_Decompress)->Arg(0)->Arg(1)->ArgName("zstd")->Unit(benchmark::kMillisecond);

// The input file for the command-line tools, removed at exit.
struct TempFile {
  std::filesystem::path path;
  TempFile() {
    char tmpl[] = "/tmp/bsonpipe_compress_bench_XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd >= 0) close(fd);
    path = tmpl;
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(data().data()), static_cast<std::streamsize>(data().size()));
  }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

const TempFile& temp_file() {
  static const TempFile f;
  return f;
}

// Runs argv with stdout to /dev/null; returns its exit status (or -1).
int run_tool(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void BM_CommandLineTool(benchmark::State& state) {
  const auto& f = temp_file();
  const bool zstd = state.range(0) != 0;
  std::vector<std::string> cmd = zstd ? std::vector<std::string>{"zstd", "-3", "-T1", "-q", "-c", f.path.string()}
                                      : std::vector<std::string>{"gzip", "-6", "-c", f.path.string()};
  state.SetLabel(zstd ? "zstd -3 -T1" : "gzip -6");
  double secs = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    if (run_tool(cmd) != 0) state.SkipWithError("tool failed (is it installed?)");
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    state.SetIterationTime(s);
    secs += s;
  }
  set_rate(state, static_cast<double>(data().size()), secs);
}
BENCHMARK(BM_CommandLineTool)->Arg(0)->Arg(1)->ArgName("zstd")->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
