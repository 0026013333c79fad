// Tests of `bsonpipe copy` between two real minimongod processes: a whole copy (collections,
// indexes, a capped collection, a view) equals the source; --verify passes, and names the one
// namespace that differs when the target had an extra document; --nsFrom/--nsTo, --drop; an
// unreachable target fails fast in one line and leaves no thread behind; a fault on either side
// stops the copy with a non-zero exit. (The channel between dump and restore is tested in
// tests/pipeline/copy_channel_test.cpp, under TSan too.)
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "formats/bson.hpp"
#include "formats/hash.hpp"
#include "io/commands.hpp"
#include "pipeline/ops/copy.hpp"
#include "tests/support/cli_support.hpp"

namespace bsonpipe {
namespace {

using formats::Builder;
using formats::Bytes;
using formats::ByteSpan;
using formats::DocView;
using test::bsonpipe;
using test::connect;
using test::server_digest;
using test::show;

// A loopback port nobody listens on (bound, then released).
int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::size_t thread_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

std::size_t lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

Bytes index_spec(const std::string& name, std::initializer_list<std::pair<const char*, int>> keys, bool unique) {
  Builder b;
  b.open_document("key");
  for (auto& [k, v] : keys) b.append_int32(k, v);
  b.close();
  b.append_string("name", name);
  if (unique) b.append_bool("unique", true);
  return b.finish();
}

void insert_docs(io::Connection& c, const std::string& db, const std::string& coll, const std::vector<Bytes>& docs) {
  Bytes all;
  for (auto& d : docs) all.insert(all.end(), d.begin(), d.end());
  auto r = io::insert(c, db, coll, all);
  ASSERT_TRUE(r.is_ok()) << r.error().to_string();
  ASSERT_TRUE(r->write_errors.empty());
}

// What a collection looks like from outside: type, options, index specs (by name), digest.
struct CollState {
  std::string type;
  Bytes options;
  std::map<std::string, Bytes> indexes;
  formats::MultisetDigest digest;
  bool operator==(const CollState&) const = default;
};

std::map<std::string, CollState> server_state(io::Connection& c, const std::vector<std::string>& dbs) {
  std::map<std::string, CollState> out;
  for (auto& db : dbs) {
    auto colls = io::list_collections(c, db);
    EXPECT_TRUE(colls.is_ok());
    if (!colls) continue;
    for (auto& ci : *colls) {
      CollState s;
      s.type = ci.type;
      s.options = ci.options;
      if (ci.type != "view") {
        auto idx = io::list_indexes(c, db, ci.name);
        EXPECT_TRUE(idx.is_ok());
        for (auto& spec : *idx) {
          // Compare what the user declared: key, name, unique (servers add "v" and "ns").
          DocView v(spec);
          Builder b;
          b.append_element("key", v.find("key"));
          if (v.find("unique").valid()) b.append_element("unique", v.find("unique"));
          s.indexes[std::string(v.find("name").as_string())] = b.finish();
        }
        s.digest = server_digest(c, db, ci.name);
      }
      out[db + "." + ci.name] = std::move(s);
    }
  }
  return out;
}

class CopyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    source_ = new test::MiniMongod({"--generate", "shop.orders:3000:700:11", "--generate", "shop.items:500:300:12",
                                    "--generate", "logs.events:1500:400:13"});
    auto c = connect(source_->uri());
    ASSERT_TRUE(c);
    Bytes sku = index_spec("sku_1_qty_-1", {{"sku", 1}, {"qty", -1}}, false);
    Bytes code = index_spec("id_status_unique", {{"_id", 1}, {"status", 1}}, true);
    ASSERT_TRUE(io::create_indexes(*c, "shop", "items", {DocView(sku)}).is_ok());
    ASSERT_TRUE(io::create_indexes(*c, "shop", "orders", {DocView(code)}).is_ok());
    Bytes capped =
        Builder().append_bool("capped", true).append_int64("size", 1 << 20).append_int64("max", 500).finish();
    ASSERT_TRUE(io::create_collection(*c, "logs", "capped", DocView(capped)).is_ok());
    std::vector<Bytes> docs;
    for (int i = 0; i < 300; ++i)
      docs.push_back(Builder().append_int32("_id", i).append_string("line", "log line " + std::to_string(i)).finish());
    insert_docs(*c, "logs", "capped", docs);
    Builder vb;
    vb.append_string("viewOn", "orders").open_array("pipeline").close();
    Bytes vopts = vb.finish();
    ASSERT_TRUE(io::create_collection(*c, "shop", "recent", DocView(vopts)).is_ok());
    state_ = new std::map<std::string, CollState>(server_state(*c, {"shop", "logs"}));
  }
  static void TearDownTestSuite() {
    delete source_;
    delete state_;
    source_ = nullptr;
    state_ = nullptr;
  }
  static test::MiniMongod* source_;
  static std::map<std::string, CollState>* state_;
};
test::MiniMongod* CopyTest::source_ = nullptr;
std::map<std::string, CollState>* CopyTest::state_ = nullptr;

TEST_F(CopyTest, WholeServerCopyEqualsSourceAndVerifies) {
  // The fixture itself: what the copy has to reproduce.
  ASSERT_EQ(state_->size(), 5u);
  ASSERT_EQ(state_->at("shop.orders").digest.count(), 3000u);
  ASSERT_EQ(state_->at("logs.capped").digest.count(), 300u);
  ASSERT_EQ(state_->at("shop.recent").type, "view");
  ASSERT_EQ(state_->at("shop.items").indexes.size(), 2u);

  test::MiniMongod target;
  auto r = bsonpipe({"copy", "--from", source_->uri(), "--to", target.uri(), "--verify", "-j", "3", "--readers", "2",
                     "--split-threshold", "100000", "--numInsertionWorkersPerCollection", "2"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("verified: every namespace matches"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("verified shop.orders: 3000 document(s)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("verified view shop.recent: same definition"), std::string::npos) << r.err;
  auto c = connect(target.uri());
  ASSERT_TRUE(c);
  auto got = server_state(*c, {"shop", "logs"});
  ASSERT_EQ(got.size(), state_->size());
  for (auto& [ns, want] : *state_) {
    SCOPED_TRACE(ns);
    ASSERT_TRUE(got.count(ns));
    EXPECT_EQ(got[ns].type, want.type);
    EXPECT_EQ(test::to_hex(got[ns].options), test::to_hex(want.options));
    EXPECT_EQ(got[ns].indexes, want.indexes);
    EXPECT_EQ(got[ns].digest.count(), want.digest.count());
    EXPECT_EQ(got[ns].digest, want.digest);
  }
}

TEST_F(CopyTest, VerifyNamesTheNamespaceWithAnExtraDocumentUnlessDropped) {
  test::MiniMongod target;
  auto c = connect(target.uri());
  ASSERT_TRUE(c);
  insert_docs(*c, "shop", "items", {Builder().append_string("_id", "extra").append_int32("qty", 1).finish()});

  auto r = bsonpipe({"copy", "--from", source_->uri(), "--to", target.uri(), "--verify"});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_NE(
      r.err.find("bsonpipe copy: verify failed: the target differs from the source in 1 namespace(s): shop.items"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("verify: shop.items differs: source 500 document(s)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("target 501 document(s)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("shop.orders differs"), std::string::npos) << r.err;

  // --drop replaces the collection: now the copy verifies, and the extra document is gone.
  r = bsonpipe({"copy", "--from", source_->uri(), "--to", target.uri(), "--verify", "--drop"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_EQ(server_digest(*c, "shop", "items"), state_->at("shop.items").digest);
  EXPECT_EQ(server_digest(*c, "shop", "items").count(), 500u);
}

TEST_F(CopyTest, DropReplacesExistingDataAndOptions) {
  test::MiniMongod target;
  auto c = connect(target.uri());
  ASSERT_TRUE(c);
  // Same _ids as the source with other content: without --drop they stay (duplicates).
  auto src = connect(source_->uri());
  ASSERT_TRUE(src);
  std::vector<Bytes> stale;
  for (auto& d : test::server_documents(*src, "logs", "events")) {
    Builder b;
    b.append_element("_id", DocView(d).find("_id"));
    b.append_string("stale", "yes");
    stale.push_back(b.finish());
  }
  insert_docs(*c, "logs", "events", stale);
  ASSERT_EQ(server_digest(*c, "logs", "events").count(), 1500u);
  ASSERT_NE(server_digest(*c, "logs", "events"), state_->at("logs.events").digest);

  auto r = bsonpipe({"copy", "--from", source_->uri(), "--to", target.uri(), "--db", "logs", "--verify"});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_NE(r.err.find("logs.events"), std::string::npos) << r.err;

  r = bsonpipe({"copy", "--from", source_->uri(), "--to", target.uri(), "--db", "logs", "--drop", "--verify"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_EQ(server_digest(*c, "logs", "events"), state_->at("logs.events").digest);
  EXPECT_EQ(server_digest(*c, "logs", "capped"), state_->at("logs.capped").digest);
  // --db logs: nothing of shop was copied.
  auto shop = io::list_collections(*c, "shop");
  ASSERT_TRUE(shop.is_ok());
  EXPECT_TRUE(shop->empty());
}

TEST_F(CopyTest, NsFromNsToRenames) {
  test::MiniMongod target;
  auto r = bsonpipe({"copy", "--from", source_->uri(), "--to", target.uri(), "--nsInclude", "shop.*", "--nsFrom",
                     "shop.$c$", "--nsTo", "mirror.$c$_copy", "--verify"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("verified shop.orders -> mirror.orders_copy: 3000 document(s)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("verified view shop.recent -> mirror.recent_copy: same definition"), std::string::npos) << r.err;
  auto c = connect(target.uri());
  ASSERT_TRUE(c);
  auto got = server_state(*c, {"mirror", "shop", "logs"});
  std::set<std::string> names;
  for (auto& [ns, s] : got) names.insert(ns);
  EXPECT_EQ(names, (std::set<std::string>{"mirror.items_copy", "mirror.orders_copy", "mirror.recent_copy"}));
  EXPECT_EQ(got["mirror.orders_copy"].digest, state_->at("shop.orders").digest);
  EXPECT_EQ(got["mirror.items_copy"].digest, state_->at("shop.items").digest);
  EXPECT_EQ(got["mirror.items_copy"].indexes, state_->at("shop.items").indexes);
  EXPECT_EQ(got["mirror.recent_copy"].type, "view");
}

TEST_F(CopyTest, QueryCopiesOnlyMatchingDocumentsAndVerifiesThem) {
  test::MiniMongod target;
  auto r = bsonpipe({"copy", "--from", source_->uri(), "--to", target.uri(), "--db", "logs", "--collection", "capped",
                     "--query", R"({"_id": {"$lt": 100}})", "--verify"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(target.uri());
  ASSERT_TRUE(c);
  auto docs = test::server_documents(*c, "logs", "capped");
  ASSERT_EQ(docs.size(), 100u);
  for (auto& d : docs) EXPECT_LT(DocView(d).find("_id").as_int32(), 100);
}

TEST(CopyFailures, UnreachableTargetFailsFastInOneLine) {
  test::MiniMongod source({"--generate", "a.b:100:200:1"});
  std::string dead = "mongodb://127.0.0.1:" + std::to_string(unused_port()) + "/";
  auto t0 = std::chrono::steady_clock::now();
  auto r = bsonpipe({"copy", "--from", source.uri(), "--to", dead});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(r.exit_code, 0) << show(r);
  EXPECT_LT(secs, 10.0);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("bsonpipe copy: cannot connect to the target (--to " + dead + ")", 0), 0u) << r.err;

  // The same in process: run_copy returns promptly and every thread it started is gone.
  std::size_t before = thread_count();
  pipeline::CopyOptions o;
  o.dump.uri = source.uri();
  o.restore.uri = dead;
  auto rep = pipeline::run_copy(o);
  EXPECT_FALSE(rep.is_ok());
  EXPECT_EQ(rep.status().code(), ErrorCode::kNetwork) << rep.status().to_string();
  EXPECT_EQ(thread_count(), before);

  // An unreachable source, likewise.
  r = bsonpipe({"copy", "--from", dead, "--to", source.uri()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("cannot connect to the source (--from " + dead + ")"), std::string::npos) << r.err;
}

TEST(CopyFailures, SameServerWithoutRenameIsRefused) {
  test::MiniMongod server({"--generate", "a.b:10:200:1"});
  auto r = bsonpipe({"copy", "--from", server.uri(), "--to", server.uri(), "--drop"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("same server"), std::string::npos) << r.err;
  auto c = connect(server.uri());
  ASSERT_TRUE(c);
  EXPECT_EQ(server_digest(*c, "a", "b").count(), 10u) << "nothing was dropped";
}

TEST(CopyFailures, SourceFaultMidwayStopsTheCopy) {
  // Every getMore fails (QueryPlanKilled): the first batch of big.c arrives, the rest cannot.
  test::MiniMongod source({"--generate", "big.c:20000:500:3", "--fault-fail", "getMore:175"});
  test::MiniMongod target;
  auto r = bsonpipe({"copy", "--from", source.uri(), "--to", target.uri(), "--verify"});
  EXPECT_NE(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("big.c"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bsonpipe copy: source: "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("verified"), std::string::npos) << r.err;
  auto c = connect(target.uri());
  ASSERT_TRUE(c);
  EXPECT_LT(server_digest(*c, "big", "c").count(), 20000u);
}

TEST(CopyFailures, TargetFaultMidwayStopsTheCopy) {
  // The target fails the first 5 inserts (BadValue, not retryable), the rest go in: the copy
  // reports the failed documents and exits non-zero.
  test::MiniMongod source({"--generate", "big.c:20000:500:3"});
  {
    test::MiniMongod target({"--fault-fail", "insert:2:5"});
    auto r = bsonpipe({"copy", "--from", source.uri(), "--to", target.uri(), "--batchSize", "100", "--verify"});
    EXPECT_EQ(r.exit_code, 1) << show(r);
    EXPECT_NE(r.err.find("bsonpipe copy: big.c: 500 document(s) failed to copy"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("bsonpipe copy: target: "), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("verified"), std::string::npos) << r.err;
    auto c = connect(target.uri());
    ASSERT_TRUE(c);
    EXPECT_EQ(server_digest(*c, "big", "c").count(), 19500u);
  }
  {
    // With --stopOnError the first failure ends the whole copy (and the dump feeding it).
    test::MiniMongod target({"--fault-fail", "insert:2:1000000"});
    auto t0 = std::chrono::steady_clock::now();
    auto r = bsonpipe({"copy", "--from", source.uri(), "--to", target.uri(), "--batchSize", "100", "--stopOnError"});
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(r.exit_code, 1) << show(r);
    EXPECT_NE(r.err.find("bsonpipe copy: target: inserting into big.c"), std::string::npos) << r.err;
    EXPECT_LT(secs, 30.0);
    auto c = connect(target.uri());
    ASSERT_TRUE(c);
    EXPECT_EQ(server_digest(*c, "big", "c").count(), 0u);
  }
}

TEST(CopyFailures, InterruptStopsTheCopy) {
  // The premise is made, not hoped for: the source holds the copy's second getMore
  // (--fault-gate), so the signal comes while the copy is reading, after its handler is
  // installed; the held getMore is released after the signal.
  test::MiniMongod source({"--generate", "s.c:20000:500:9", "--fault-gate"});
  test::MiniMongod target;
  test::gate_arm(source.uri(), "getMore", "", 1);
  test::Child child = test::Child::start({"/bin/sh", "-c",
                                          "echo started; exec " + test::program("bsonpipe").string() + " copy --from " +
                                              source.uri() + " --to " + target.uri()},
                                         "started", nullptr);
  ASSERT_TRUE(test::gate_wait_blocked(source.uri(), 1));
  child.signal(SIGINT);
  auto t0 = std::chrono::steady_clock::now();
  test::gate_open(source.uri());
  int code = child.wait();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(code, 0);
  EXPECT_LT(secs, 20.0);
  auto c = connect(target.uri());
  ASSERT_TRUE(c);
  EXPECT_LT(server_digest(*c, "s", "c").count(), 20000u) << "the copy was stopped before it completed";
}

}  // namespace
}  // namespace bsonpipe
