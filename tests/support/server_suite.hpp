// A test suite's shared minimongod: started once for the suite with the suite's generated data,
// with the helpers its command-line tests use (count, a full directory dump made once).
// Header-only (the test support library's sources are fixed in tests/CMakeLists.txt).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/cli_support.hpp"

namespace bsonpipe::test {

// Derive as `class Foo : public test::ServerSuite<Foo>`; Foo defines
// `static std::vector<std::string> server_flags()` and `static constexpr const char* kDirPrefix`.
// Threading: gtest's main thread only.
template <class Suite>
class ServerSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new MiniMongod(Suite::server_flags()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::string uri() { return server_->uri(); }  // mongodb://127.0.0.1:PORT/
  static std::string hostport() { return "127.0.0.1:" + std::to_string(server_->port()); }
  static std::filesystem::path dir(const std::string& name) { return temp_dir(Suite::kDirPrefix + name); }
  static std::size_t count(const std::string& u, const std::string& db, const std::string& coll) {
    auto c = connect(u);
    return c ? server_documents(*c, db, coll).size() : 0;
  }
  // A full directory dump of the suite's server, made on first use.
  static std::filesystem::path full_dump() {
    static std::filesystem::path d = [] {
      std::filesystem::path out = dir("full") / "dump";
      auto r = bsonpipe({"dump", "--uri", uri(), "--out", out.string(), "--quiet"});
      EXPECT_EQ(r.exit_code, 0) << show(r);
      return out;
    }();
    return d;
  }
  static inline MiniMongod* server_ = nullptr;
};

}  // namespace bsonpipe::test
