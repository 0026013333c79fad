// A bounded pool of connections to one server: blocking acquire with a timeout, RAII leases that
// return healthy connections and drop broken ones.
//
// Threading contract: acquire() and lease destruction may run on any threads concurrently. A
// Connection is used only by the thread holding its lease. The Pool must outlive its leases.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "io/connection.hpp"

namespace bsonpipe::io {

class Pool {
 public:
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(std::move(o.conn_)) { o.pool_ = nullptr; }
    Lease& operator=(Lease&& o) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }

    Connection* operator->() const { return conn_.get(); }
    Connection& operator*() const { return *conn_; }
    Connection* get() const { return conn_.get(); }
    explicit operator bool() const { return conn_ != nullptr; }
    // Gives the connection back now (dropped if broken).
    void release();

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<Connection> c) : pool_(pool), conn_(std::move(c)) {}
    Pool* pool_ = nullptr;
    std::unique_ptr<Connection> conn_;
  };

  // `max_size` connections at most (idle + leased); 0 is treated as 1.
  Pool(ConnectOptions opts, std::size_t max_size);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // An idle connection, or a new one if below max_size, else waits up to `timeout` for a lease
  // to come back. Connecting happens outside the lock. A timeout is a (retryable) network Error.
  Expected<Lease> acquire(std::chrono::milliseconds timeout);
  // Closes idle connections (e.g. after a failover); leased ones are dropped on return.
  void clear();

  std::size_t max_size() const { return max_size_; }
  std::size_t open_count() const;  // idle + leased
  std::size_t idle_count() const;
  const ConnectOptions& options() const { return opts_; }

 private:
  void give_back(std::unique_ptr<Connection> c);

  const ConnectOptions opts_;
  const std::size_t max_size_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;
};

}  // namespace bsonpipe::io
