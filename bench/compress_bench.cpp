// Compression micro-benchmarks, one core each: our BlockCompressor (gzip 1/6 with libdeflate,
// zstd 1/3) on 4 MiB blocks of realistic generated BSON (the dump's block size) against zlib's
// deflate on the same blocks (the gzip compressor before libdeflate), stream decompression, the
// gzip inflaters side by side (zlib and ISA-L streaming a stock single-member stream; our
// members decoded whole by libdeflate or streamed), and the same bytes through the `gzip -6` and
// `zstd -3` command-line tools (a subprocess over a temporary file, output to /dev/null).
// "MB/s" counters are raw bytes (10^6) per wall second.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

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

// zlib's deflate on the same 4 MiB blocks, one gzip member each: what BlockCompressor did before
// libdeflate (and the reference for its ratio).
void BM_CompressZlib(benchmark::State& state) {
  const auto& d = data();
  const int level = static_cast<int>(state.range(0));
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  formats::Bytes out(deflateBound(&zs, kBlockBytes));
  std::size_t stored = 0;
  double secs = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    stored = 0;
    for (std::size_t off = 0; off < d.size(); off += kBlockBytes) {
      deflateReset(&zs);
      zs.next_in = const_cast<Bytef*>(d.data() + off);
      zs.avail_in = static_cast<uInt>(std::min(kBlockBytes, d.size() - off));
      zs.next_out = out.data();
      zs.avail_out = static_cast<uInt>(out.size());
      if (deflate(&zs, Z_FINISH) != Z_STREAM_END) state.SkipWithError("deflate failed");
      stored += out.size() - zs.avail_out;
    }
    secs += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  deflateEnd(&zs);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d.size()));
  set_rate(state, static_cast<double>(d.size()), secs);
  state.counters["ratio"] = static_cast<double>(d.size()) / static_cast<double>(stored);
}
BENCHMARK(BM_CompressZlib)->Arg(1)->Arg(6)->ArgName("level")->Unit(benchmark::kMillisecond);

// One gzip member over all the data, as stock mongodump --gzip writes (Go's gzip writer, level 6
// here via zlib: the inflaters' speed depends on the deflate stream, not on who wrote it).
const formats::Bytes& stock_stream() {
  static const formats::Bytes s = [] {
    const auto& d = data();
    z_stream zs{};
    deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    formats::Bytes out(deflateBound(&zs, d.size()));
    zs.next_in = const_cast<Bytef*>(d.data());
    zs.avail_in = static_cast<uInt>(d.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(out.size() - zs.avail_out);
    deflateEnd(&zs);
    return out;
  }();
  return s;
}

const formats::Bytes& own_stream() {
  static const formats::Bytes s = [] {
    const auto& d = data();
    auto c = io::BlockCompressor::create(io::Codec::kGzip, 6);
    formats::Bytes out;
    for (std::size_t off = 0; off < d.size(); off += kBlockBytes)
      (void)c->compress(formats::ByteSpan(d).subspan(off, std::min(kBlockBytes, d.size() - off)), out);
    return out;
  }();
  return s;
}

// Arg 0: 0 the stock single-member stream, 1 our multi-member stream. Arg 1: the inflater (0 zlib,
// 1 ISA-L). Arg 2: our members decoded whole with libdeflate (1) or streamed (0).
void BM_GzipInflate(benchmark::State& state) {
  const auto& d = data();
  const auto& stream = state.range(0) == 0 ? stock_stream() : own_stream();
  const auto which = state.range(1) == 0 ? io::GzipInflater::kZlib : io::GzipInflater::kIsal;
  if (!io::gzip_inflater_available(which)) {
    state.SkipWithError("ISA-L not built in");
    return;
  }
  const bool whole = state.range(2) != 0;
  state.SetLabel(std::string(state.range(0) == 0 ? "stock 1 member, " : "own 4 MiB members, ") +
                 (whole && state.range(0) == 1 ? "libdeflate whole" : std::string(io::gzip_inflater_name(which))));
  formats::Bytes out;
  out.reserve(d.size());
  double secs = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    auto dec = io::create_gzip_decompressor(which, whole);
    out.clear();
    for (std::size_t off = 0; off < stream.size(); off += 256 * 1024)
      if (auto s = dec->feed(
              formats::ByteSpan(stream).subspan(off, std::min<std::size_t>(256 * 1024, stream.size() - off)), out);
          !s)
        state.SkipWithError(s.to_string().c_str());
    if (auto s = dec->finish(); !s) state.SkipWithError(s.to_string().c_str());
    secs += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  if (out != d) state.SkipWithError("output differs from the input");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d.size()));
  set_rate(state, static_cast<double>(d.size()), secs);
}
BENCHMARK(BM_GzipInflate)
    ->Args({0, 0, 0})
    ->Args({0, 1, 0})
    ->Args({1, 0, 0})
    ->Args({1, 1, 0})
    ->Args({1, 0, 1})
    ->ArgNames({"own", "isal", "whole"})
    ->Unit(benchmark::kMillisecond);

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
