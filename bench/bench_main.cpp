// main() for every micro-benchmark program: Google Benchmark's, with a short default minimum
// time per benchmark (0.2 s) so the whole set runs in a few minutes. An explicit
// --benchmark_min_time on the command line wins.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  bool has_min_time = false;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--benchmark_min_time", 20) == 0) has_min_time = true;
  static char kDefaultMinTime[] = "--benchmark_min_time=0.2";
  if (!has_min_time) args.insert(args.begin() + 1, kDefaultMinTime);
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
