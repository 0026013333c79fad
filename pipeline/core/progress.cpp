#include "pipeline/core/progress.hpp"

#include <unistd.h>

#include <chrono>

namespace bsonpipe::pipeline {

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

bool parse_progress_mode(const std::string& s, ProgressMode& out) {
  if (s == "auto")
    out = ProgressMode::kAuto;
  else if (s == "bar")
    out = ProgressMode::kBar;
  else if (s == "plain")
    out = ProgressMode::kPlain;
  else if (s == "json")
    out = ProgressMode::kJson;
  else if (s == "none")
    out = ProgressMode::kNone;
  else
    return false;
  return true;
}

Progress::Progress(std::string verb, ProgressOptions opts) : verb_(std::move(verb)), opts_(opts), mode_(opts.mode) {
  if (mode_ == ProgressMode::kAuto) mode_ = isatty(fileno(opts_.stream)) ? ProgressMode::kBar : ProgressMode::kPlain;
  if (opts_.quiet && mode_ != ProgressMode::kJson) mode_ = ProgressMode::kNone;
}

Progress::~Progress() {
  stop();
}

NsProgress* Progress::add_namespace(const std::string& ns, std::uint64_t expected_documents) {
  auto p = std::make_unique<NsProgress>();
  p->ns = ns;
  p->expected_documents = expected_documents;
  ns_.push_back(std::move(p));
  return ns_.back().get();
}

void Progress::start() {
  started_ = now_seconds();
  if (mode_ == ProgressMode::kNone) return;
  thread_ = std::thread([this] { loop(); });
}

void Progress::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Progress::loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::duration<double>(opts_.interval_seconds), [&] { return stopping_; })) {
    lock.unlock();
    render(false);
    lock.lock();
  }
  lock.unlock();
  render(true);
}

void Progress::render(bool final) {
  std::uint64_t docs = 0, bytes = 0, expected = 0;
  int done = 0;
  for (auto& n : ns_) {
    docs += n->documents.load(std::memory_order_relaxed);
    bytes += n->bytes.load(std::memory_order_relaxed);
    expected += n->expected_documents;
    done += n->done.load(std::memory_order_relaxed) ? 1 : 0;
  }
  double elapsed = now_seconds() - started_;
  double rate = elapsed > 0 ? static_cast<double>(bytes) / elapsed : 0;
  std::lock_guard out(out_mu_);
  switch (mode_) {
    case ProgressMode::kBar: {
      double frac = expected ? std::min(1.0, static_cast<double>(docs) / static_cast<double>(expected)) : 0;
      int width = 30, filled = static_cast<int>(frac * width);
      std::string bar(static_cast<std::size_t>(filled), '#');
      bar.resize(static_cast<std::size_t>(width), '.');
      double eta = (frac > 0 && frac < 1) ? elapsed * (1 - frac) / frac : 0;
      std::fprintf(opts_.stream, "\r%s [%s] %5.1f%%  %llu docs  %s  %s/s  %d/%zu namespaces  ETA %.0fs   ",
                   verb_.c_str(), bar.c_str(), frac * 100, static_cast<unsigned long long>(docs),
                   human_bytes(static_cast<double>(bytes)).c_str(), human_bytes(rate).c_str(), done, ns_.size(), eta);
      if (final) std::fputc('\n', opts_.stream);
      break;
    }
    case ProgressMode::kPlain:
      if (!final)
        std::fprintf(opts_.stream, "%s: %llu documents, %s (%s/s), %d/%zu namespaces done\n", verb_.c_str(),
                     static_cast<unsigned long long>(docs), human_bytes(static_cast<double>(bytes)).c_str(),
                     human_bytes(rate).c_str(), done, ns_.size());
      break;
    case ProgressMode::kJson:
      std::fprintf(opts_.stream,
                   "{\"event\":\"progress\",\"op\":\"%s\",\"documents\":%llu,\"bytes\":%llu,\"expectedDocuments\":%llu,"
                   "\"namespacesDone\":%d,\"namespaces\":%zu,\"seconds\":%.3f}\n",
                   verb_.c_str(), static_cast<unsigned long long>(docs), static_cast<unsigned long long>(bytes),
                   static_cast<unsigned long long>(expected), done, ns_.size(), elapsed);
      break;
    default: break;
  }
  std::fflush(opts_.stream);
}

void Progress::info(const std::string& line) {
  if (opts_.quiet) return;
  std::lock_guard out(out_mu_);
  if (mode_ == ProgressMode::kJson)
    std::fprintf(opts_.stream, "{\"event\":\"info\",\"message\":\"%s\"}\n", json_escape(line).c_str());
  else
    std::fprintf(opts_.stream, "%s\n", line.c_str());
}

void Progress::error(const std::string& line) {
  std::lock_guard out(out_mu_);
  if (mode_ == ProgressMode::kJson)
    std::fprintf(opts_.stream, "{\"event\":\"error\",\"message\":\"%s\"}\n", json_escape(line).c_str());
  else
    std::fprintf(opts_.stream, "%s\n", line.c_str());
}

void Progress::summary(bool ok, double seconds) {
  std::uint64_t docs = 0, bytes = 0;
  for (auto& n : ns_) {
    docs += n->documents.load();
    bytes += n->bytes.load();
  }
  double rate = seconds > 0 ? static_cast<double>(bytes) / seconds : 0;
  std::lock_guard out(out_mu_);
  if (mode_ == ProgressMode::kJson) {
    for (auto& n : ns_)
      std::fprintf(opts_.stream, "{\"event\":\"namespace\",\"ns\":\"%s\",\"documents\":%llu,\"bytes\":%llu}\n",
                   json_escape(n->ns).c_str(), static_cast<unsigned long long>(n->documents.load()),
                   static_cast<unsigned long long>(n->bytes.load()));
    std::fprintf(opts_.stream,
                 "{\"event\":\"summary\",\"op\":\"%s\",\"ok\":%s,\"documents\":%llu,\"bytes\":%llu,\"seconds\":%.3f}\n",
                 verb_.c_str(), ok ? "true" : "false", static_cast<unsigned long long>(docs),
                 static_cast<unsigned long long>(bytes), seconds);
    return;
  }
  if (opts_.quiet) return;
  if (opts_.verbosity > 0)
    for (auto& n : ns_)
      std::fprintf(opts_.stream, "  %s: %llu documents, %s\n", n->ns.c_str(),
                   static_cast<unsigned long long>(n->documents.load()),
                   human_bytes(static_cast<double>(n->bytes.load())).c_str());
  std::fprintf(opts_.stream, "%s %s: %llu documents in %zu namespaces, %s in %.2fs (%s/s)\n", verb_.c_str(),
               ok ? "done" : "FAILED", static_cast<unsigned long long>(docs), ns_.size(),
               human_bytes(static_cast<double>(bytes)).c_str(), seconds, human_bytes(rate).c_str());
}

}  // namespace bsonpipe::pipeline
