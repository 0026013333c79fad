// The catalog's write lock (CatalogLock) and who holds it, over Storage::try_lock: the lock
// object's text names the holder ("pid=..\nhost=..\nsince=..\nid=..\n") for others' messages.
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <utility>

#include "pipeline/catalog/catalog.hpp"
#include "pipeline/catalog/catalog_internal.hpp"

namespace bsonpipe::pipeline {

namespace fs = std::filesystem;
using catalog_detail::lock_path;
using catalog_detail::storage_or_local;

namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "?";
  return buf;
}

// The lock's text for this process, writing `id`.
std::string holder_text(const std::string& id) {
  return "pid=" + std::to_string(::getpid()) + "\nhost=" + host_name() +
         "\nsince=" + catalog_detail::utc_string(catalog_detail::now_utc_ms(), "%Y-%m-%dT%H:%M:%SZ") + "\nid=" + id +
         "\n";
}

CatalogLockHolder parse_holder(const std::string& text) {
  CatalogLockHolder h;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "pid") h.pid = std::strtol(v.c_str(), nullptr, 10);
    if (k == "host") h.host = v;
    if (k == "since") h.since = v;
    if (k == "id") h.id = v;
  }
  return h;
}

}  // namespace

std::string CatalogLockHolder::to_string() const {
  std::string s = "pid " + std::to_string(pid) + " on host " + (host.empty() ? "?" : host);
  if (!since.empty()) s += " since " + since;
  if (!id.empty()) s += " writing " + id;
  return s;
}

CatalogLock::CatalogLock(CatalogLock&& o) noexcept = default;

CatalogLock& CatalogLock::operator=(CatalogLock&& o) noexcept {
  if (this != &o) {
    release();
    lock_ = std::move(o.lock_);
    root_ = std::move(o.root_);
  }
  return *this;
}

CatalogLock::~CatalogLock() {
  release();
}

void CatalogLock::release() {
  // The storage lock empties its text before letting go, so no reader names a holder that is gone.
  lock_.reset();
}

Result<CatalogLock> CatalogLock::acquire(const fs::path& root, io::Storage* storage) {
  io::Storage& st = storage_or_local(storage);
  if (Status s = st.make_directories(root); !s)
    return Status(ErrorCode::kIo, "cannot create catalog " + root.string() + ": " + s.message());
  fs::path p = lock_path(root);
  auto held = st.try_lock(p, holder_text(""));
  if (!held) return held.status();
  if (!*held) {
    auto text = st.lock_holder(p);
    CatalogLockHolder h = parse_holder(text && *text ? **text : std::string());
    return Status(ErrorCode::kInvalidArgument, "catalog " + root.string() + " is locked by another bsonpipe (" +
                                                   h.to_string() + "); two dumps cannot write one catalog at once");
  }
  CatalogLock lock;
  lock.lock_ = std::move(*held);
  lock.root_ = root;
  return lock;
}

Status CatalogLock::set_id(const std::string& id) {
  if (!lock_) return {ErrorCode::kInternal, "catalog " + root_.string() + ": the lock is not held"};
  return lock_->set_holder(holder_text(id));
}

std::optional<CatalogLockHolder> catalog_lock_holder(const fs::path& root, io::Storage* storage) {
  auto text = storage_or_local(storage).lock_holder(lock_path(root));
  if (!text || !*text) return std::nullopt;
  return parse_holder(**text);
}

}  // namespace bsonpipe::pipeline
