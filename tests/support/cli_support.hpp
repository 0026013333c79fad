// Helpers shared by the integration tests of the bsonpipe CLI: run it, connect to a server,
// split .bson bytes into documents, find the mongo-tools fixtures.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "formats/bson.hpp"
#include "formats/hash.hpp"
#include "io/commands.hpp"
#include "io/uri.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe::test {

// mongorestore's test data from the mongo-tools repository (real mongodump output).
inline std::filesystem::path restore_testdata() {
  return fixtures_dir() / "mongo-tools-testdata" / "mongorestore" / "testdata";
}

// Runs the built bsonpipe with `args`.
inline RunResult bsonpipe(std::vector<std::string> args, const std::string& stdin_data = {}) {
  args.insert(args.begin(), program("bsonpipe").string());
  return run(args, std::chrono::seconds(300), stdin_data);
}

// Exit code, signal and both outputs, for assertion messages.
inline std::string show(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + " signal " + std::to_string(r.signal) + "\nstdout:\n" + r.out +
         "\nstderr:\n" + r.err;
}

// A connection to the primary of `uri`; fails the test (and returns null) if there is none.
inline std::unique_ptr<io::Connection> connect(const std::string& uri) {
  auto u = io::parse_uri(uri);
  EXPECT_TRUE(u.is_ok()) << u.status().to_string();
  if (!u) return nullptr;
  auto c = io::connect_selected(*u, io::ReadPreferenceMode::kPrimary);
  EXPECT_TRUE(c.is_ok()) << c.error().to_string();
  if (!c) return nullptr;
  return std::move(*c);
}

// The documents of a .bson file's bytes (which must be well formed).
inline std::vector<formats::Bytes> split_documents(formats::ByteSpan b) {
  std::vector<formats::Bytes> out;
  for (std::size_t pos = 0; pos + 4 <= b.size();) {
    auto len = static_cast<std::size_t>(formats::load_i32(b.data() + pos));
    EXPECT_TRUE(len >= 5 && pos + len <= b.size()) << "bad document length at offset " << pos;
    if (len < 5 || pos + len > b.size()) break;
    out.emplace_back(b.begin() + static_cast<std::ptrdiff_t>(pos), b.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
  }
  return out;
}

// Every document of db.coll as the server returns them (raw bytes); batch_size 0 = server default.
inline std::vector<formats::Bytes> server_documents(io::Connection& c, const std::string& db, const std::string& coll,
                                                    std::int32_t batch_size = 0) {
  std::vector<formats::Bytes> out;
  io::FindOptions fo;
  fo.batch_size = batch_size;
  auto cur = io::find(c, db, coll, fo);
  EXPECT_TRUE(cur.is_ok()) << cur.error().to_string();
  if (!cur) return out;
  while (true) {
    for (auto doc : cur->batch()) out.emplace_back(doc.begin(), doc.end());
    if (cur->exhausted()) break;
    auto more = cur->next_batch();
    EXPECT_TRUE(more.is_ok()) << more.error().to_string();
    if (!more || !*more) break;
  }
  return out;
}

// Order-independent digest of db.coll's documents on the server.
inline formats::MultisetDigest server_digest(io::Connection& c, const std::string& db, const std::string& coll,
                                             std::int32_t batch_size = 0) {
  formats::MultisetDigest d;
  for (auto& doc : server_documents(c, db, coll, batch_size)) d.add(doc);
  return d;
}

// minimongod --fault-gate, from a test: `arm` makes the server hold every `cmd` on `ns` ("" = any
// namespace) after the next `after` of them; `gate_wait_blocked` waits (up to a minute) until at
// least `n` commands are held and returns whether they are; `gate_open` releases them.
inline std::int64_t gate_command(const std::string& uri, const formats::Bytes& cmd) {
  auto c = connect(uri);
  if (!c) return -1;
  auto r = io::run_command(*c, "admin", formats::DocView(cmd));
  EXPECT_TRUE(r.is_ok()) << r.error().to_string();
  if (!r) return -1;
  return r->body().find("blocked").as_int64();
}
inline void gate_arm(const std::string& uri, const std::string& cmd, const std::string& ns, std::int64_t after) {
  formats::Builder arm;
  arm.append_string("cmd", cmd).append_string("ns", ns).append_int64("after", after);
  formats::Builder b;
  b.append_int32("faultGate", 1).append_document("arm", formats::DocView(arm.finish()));
  gate_command(uri, b.finish());
}
inline bool gate_wait_blocked(const std::string& uri, std::int64_t n) {
  formats::Builder b;
  b.append_int32("faultGate", 1);
  const formats::Bytes status = b.finish();
  for (int i = 0; i < 6000; ++i) {
    if (gate_command(uri, status) >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}
inline void gate_open(const std::string& uri) {
  formats::Builder b;
  b.append_int32("faultGate", 1).append_bool("open", true);
  gate_command(uri, b.finish());
}

}  // namespace bsonpipe::test
