// Progress of a dump or restore: counters updated by the workers (lock-free) and a reporter
// thread that shows them as a live bar on a terminal, plain lines otherwise, or JSON lines for
// scripts; then a summary.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bsonpipe::pipeline {

enum class ProgressMode : std::uint8_t { kAuto, kBar, kPlain, kJson, kNone };

struct ProgressOptions {
  ProgressMode mode = ProgressMode::kAuto;  // auto: bar on a terminal, plain lines otherwise
  bool quiet = false;                       // --quiet: errors only
  int verbosity = 0;                        // -v
  std::FILE* stream = stderr;               // where progress and the summary go
  double interval_seconds = 1.0;            // between updates
};

// Parses "auto|bar|plain|json|none".
bool parse_progress_mode(const std::string& s, ProgressMode& out);

// One namespace's counters. Workers add to them; the reporter reads them.
struct NsProgress {
  std::string ns;
  std::uint64_t expected_documents = 0;  // from collStats / the dump; 0 if unknown
  std::atomic<std::uint64_t> documents{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<bool> done{false};
};

class Progress {
 public:
  Progress(std::string verb, ProgressOptions opts);
  ~Progress();  // stops the reporter
  // Registration happens before start(); the returned pointer stays valid.
  NsProgress* add_namespace(const std::string& ns, std::uint64_t expected_documents);
  void start();
  void stop();
  // A one-line message (respects --quiet for info; errors always print).
  void info(const std::string& line);
  void error(const std::string& line);
  // The closing summary: documents, bytes, seconds, rate; per namespace with -v or JSON.
  void summary(bool ok, double seconds);

 private:
  void loop();
  void render(bool final);
  std::string verb_;
  ProgressOptions opts_;
  ProgressMode mode_;
  std::vector<std::unique_ptr<NsProgress>> ns_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  double started_ = 0;
  std::mutex out_mu_;
};

}  // namespace bsonpipe::pipeline
