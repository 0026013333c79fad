// A test-only sync point inside minimongod (--fault-gate): holds chosen commands until the test
// releases them, so a test whose premise is "the client is in the middle of reading" makes that
// happen instead of hoping a timer lands there.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "formats/bson.hpp"

namespace bsonpipe::minimongod {

// Controlled through the command {faultGate: 1, ...} (only when the server runs with --fault-gate):
//   arm: {cmd: "getMore", ns: "db.coll" (optional), after: K}
//        the next K matching commands pass, every later one waits until `open`;
//   open: true      releases the waiting commands and disarms;
//   (no field)      status only.
// Every reply is {blocked: <commands waiting now>, passed: <matching commands let through>, ok: 1}.
//
// Threading: every method may be called from any connection thread at once. pass() blocks the
// calling connection thread (one per connection, so other connections keep running); shutdown()
// wakes every waiter for good (the server calls it when it stops).
class FaultGate {
 public:
  static bool is_control(formats::DocView command);
  formats::Bytes control(formats::DocView command);
  void pass(formats::DocView command);
  void shutdown();

 private:
  bool matches(formats::DocView command) const;  // needs mu_
  formats::Bytes status_reply() const;           // needs mu_

  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool stopped_ = false;
  std::string cmd_, ns_;
  std::int64_t after_ = 0;
  std::int64_t passed_ = 0;
  std::int64_t blocked_ = 0;
  std::uint64_t generation_ = 0;  // bumped by open(): waiters of an older arming leave
};

}  // namespace bsonpipe::minimongod
