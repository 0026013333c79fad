#include "io/pool.hpp"

#include <cassert>

namespace bsonpipe::io {

Pool::Lease& Pool::Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    release();
    pool_ = o.pool_;
    conn_ = std::move(o.conn_);
    o.pool_ = nullptr;
  }
  return *this;
}

void Pool::Lease::release() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->give_back(std::move(conn_));
  pool_ = nullptr;
  conn_.reset();
}

Pool::Pool(ConnectOptions opts, std::size_t max_size)
    : opts_(std::move(opts)), max_size_(max_size == 0 ? 1 : max_size) {}

Pool::~Pool() {
  std::lock_guard lock(mu_);
  // Leases must not outlive the pool.
  assert(open_ == idle_.size());
  idle_.clear();
}

Expected<Pool::Lease> Pool::acquire(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (idle_.empty() && open_ >= max_size_) {
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= max_size_)
      return Error::network("no connection to " + opts_.host.to_string() + " became free within " +
                            std::to_string(timeout.count()) + " ms (pool of " + std::to_string(max_size_) + ")");
  }
  if (!idle_.empty()) {
    std::unique_ptr<Connection> c = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(c));
  }
  ++open_;  // reserve the slot, then connect without holding the lock
  lock.unlock();
  auto c = Connection::open(opts_);
  if (!c) {
    lock.lock();
    --open_;
    cv_.notify_one();
    return c.error();
  }
  return Lease(this, std::move(*c));
}

void Pool::give_back(std::unique_ptr<Connection> c) {
  {
    std::lock_guard lock(mu_);
    if (c->broken()) {
      --open_;
    } else {
      idle_.push_back(std::move(c));
    }
  }
  cv_.notify_one();
  // A broken connection is destroyed here, outside the lock.
}

void Pool::clear() {
  std::vector<std::unique_ptr<Connection>> drop;
  {
    std::lock_guard lock(mu_);
    drop.swap(idle_);
    open_ -= drop.size();
  }
  cv_.notify_all();
}

std::size_t Pool::open_count() const {
  std::lock_guard lock(mu_);
  return open_;
}

std::size_t Pool::idle_count() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

}  // namespace bsonpipe::io
