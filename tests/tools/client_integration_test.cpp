// Integration tests of the wire client (io/commands.hpp over io/connection.hpp) against a real
// minimongod process: every command helper, under each transport setup (SCRAM-SHA-256/-1 or no
// auth, zstd/zlib or no compression, TLS with a certificate made here or plain TCP), and the
// server's fault injection surfacing as typed errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "formats/bson.hpp"
#include "formats/extjson.hpp"
#include "io/commands.hpp"
#include "io/connection.hpp"
#include "io/uri.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using formats::BsonType;
using formats::Bytes;
using formats::DocView;
using formats::ElementView;
using std::chrono::milliseconds;

constexpr std::int32_t kBadValue = 2;
constexpr std::int32_t kAuthenticationFailed = 18;
constexpr std::int32_t kNamespaceNotFound = 26;
constexpr std::int32_t kCursorNotFound = 43;
constexpr std::int32_t kNamespaceExists = 48;
constexpr std::int32_t kNotWritablePrimary = 10107;
constexpr std::int32_t kDuplicateKey = 11000;
constexpr std::string_view kUser = "tester";
constexpr std::string_view kPassword = "p@ss:w/rd";  // needs percent-encoding in a URI
constexpr std::string_view kPasswordEncoded = "p%40ss%3Aw%2Frd";

// ---- helpers --------------------------------------------------------------------------------

// A BSON document from (relaxed) Extended JSON; arrays for pipelines are written {"0": .., "1": ..}.
Bytes doc(std::string_view json) {
  auto d = formats::extjson::parse(json);
  if (!d) ADD_FAILURE() << "bad test JSON " << json << ": " << d.status().to_string();
  return d ? std::move(*d) : formats::Builder().finish();
}

// Concatenated documents, as a .bson file holds them and insert() sends them.
Bytes docs(std::initializer_list<std::string_view> jsons) {
  Bytes out;
  for (auto j : jsons) {
    Bytes d = doc(j);
    out.insert(out.end(), d.begin(), d.end());
  }
  return out;
}

// {_id: i, g: i % 5, v: n - i, s: "s<i>"} for i in [0, n).
Bytes numbered_docs(int n) {
  Bytes out;
  for (int i = 0; i < n; ++i) {
    Bytes d = formats::Builder()
                  .append_int32("_id", i)
                  .append_int32("g", i % 5)
                  .append_int32("v", n - i)
                  .append_string("s", "s" + std::to_string(i))
                  .finish();
    out.insert(out.end(), d.begin(), d.end());
  }
  return out;
}

std::string json(DocView d) {
  return formats::extjson::to_json(d, {.mode = formats::extjson::Mode::kRelaxed});
}

std::int64_t as_int(const ElementView& e) {
  if (!e.valid()) return -1;
  return static_cast<std::int64_t>(e.number_as_double());
}

// Drains a cursor: every document's _id (as an integer), and how many batches it took.
struct Drained {
  std::vector<std::int64_t> ids;
  std::vector<std::vector<std::string>> keys;  // each document's top-level keys
  int batches = 0;
};
Drained drain(io::Cursor& c) {
  Drained out;
  for (;;) {
    if (!c.batch().empty()) ++out.batches;
    for (auto d : c.batch()) {
      out.ids.push_back(as_int(DocView(d).find("_id")));
      auto& k = out.keys.emplace_back();
      for (auto e : DocView(d)) k.emplace_back(e.key());
    }
    auto more = c.next_batch();
    EXPECT_TRUE(more.is_ok()) << more.error().to_string();
    if (!more || !*more) return out;
  }
}

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to, std::int64_t step = 1) {
  std::vector<std::int64_t> v;
  for (auto i = from; step > 0 ? i < to : i > to; i += step) v.push_back(i);
  return v;
}

std::string show(const io::Error& e) {
  return e.to_string();
}

// A self-signed certificate for CN=localhost / IP 127.0.0.1, made once per test program with
// the openssl CLI; cert_and_key.pem is what --tlsCertificateKeyFile takes.
struct TlsFiles {
  fs::path cert;
  fs::path cert_and_key;
  fs::path other_ca;  // an unrelated self-signed CA: verification against it fails
};
const TlsFiles& tls_files() {
  static const TlsFiles files = [] {
    fs::path dir = test::temp_dir("client-tls");
    auto make = [&](const std::string& stem) {
      fs::path cert = dir / (stem + ".pem");
      fs::path key = dir / (stem + ".key");
      auto r = test::run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                          "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout",
                          key.string(), "-out", cert.string()});
      EXPECT_EQ(r.exit_code, 0) << "openssl req failed:\n" << r.out << r.err;
      return std::pair{cert, key};
    };
    auto [cert, key] = make("server");
    auto [other, other_key] = make("other");
    TlsFiles f{cert, dir / "server_cert_and_key.pem", other};
    Bytes both = test::read_file(cert);
    Bytes k = test::read_file(key);
    both.insert(both.end(), k.begin(), k.end());
    test::write_file(f.cert_and_key, both);
    return f;
  }();
  return files;
}

// ---- the transport matrix ---------------------------------------------------------------------

struct Transport {
  std::string name;
  bool auth = false;
  std::string mechanism;   // authMechanism in the URI; empty = negotiated (SCRAM-SHA-256)
  std::string compressor;  // compressors= in the URI; empty = none
  bool tls = false;

  std::vector<std::string> server_flags() const {
    std::vector<std::string> f;
    if (auth) f.insert(f.end(), {"--user", std::string(kUser), "--password", std::string(kPassword)});
    if (tls) f.insert(f.end(), {"--tlsCertificateKeyFile", tls_files().cert_and_key.string()});
    return f;
  }
  // `extra` = more URI options ("socketTimeoutMS=200").
  std::string uri(int port, const std::string& extra = {}) const {
    std::string u = "mongodb://";
    if (auth) u += std::string(kUser) + ":" + std::string(kPasswordEncoded) + "@";
    u += "127.0.0.1:" + std::to_string(port) + "/?appName=client_integration_test";
    if (auth) u += "&authSource=admin";
    if (!mechanism.empty()) u += "&authMechanism=" + mechanism;
    if (!compressor.empty()) u += "&compressors=" + compressor;
    if (tls) u += "&tls=true&tlsCAFile=" + tls_files().cert.string();
    if (!extra.empty()) u += "&" + extra;
    return u;
  }
};

void PrintTo(const Transport& t, std::ostream* os) {
  *os << t.name;
}

const std::vector<Transport>& all_transports() {
  static const std::vector<Transport> setups = {
      {.name = "Plain"},
      {.name = "Scram256", .auth = true},
      {.name = "Scram256Forced", .auth = true, .mechanism = "SCRAM-SHA-256"},
      {.name = "Scram1Forced", .auth = true, .mechanism = "SCRAM-SHA-1"},
      {.name = "Zstd", .compressor = "zstd"},
      {.name = "Zlib", .compressor = "zlib"},
      {.name = "Tls", .tls = true},
      {.name = "TlsScram256Zstd", .auth = true, .mechanism = "SCRAM-SHA-256", .compressor = "zstd", .tls = true},
      {.name = "TlsScram1Zlib", .auth = true, .mechanism = "SCRAM-SHA-1", .compressor = "zlib", .tls = true},
  };
  return setups;
}

std::string transport_name(const testing::TestParamInfo<Transport>& info) {
  return info.param.name;
}

io::Expected<std::unique_ptr<io::Connection>> open_uri(const std::string& uri_text) {
  auto uri = io::parse_uri(uri_text);
  if (!uri) return io::Error(uri.status());
  return io::Connection::open(io::ConnectOptions::from_uri(*uri, uri->hosts.front()));
}

// Starts minimongod with the setup's flags (plus `extra_flags`) and connects one client.
class ClientTest : public testing::TestWithParam<Transport> {
 protected:
  void start(const std::vector<std::string>& extra_flags = {}, const std::string& uri_extra = {}) {
    auto flags = GetParam().server_flags();
    flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
    server_ = std::make_unique<test::MiniMongod>(flags);
    uri_ = GetParam().uri(server_->port(), uri_extra);
    conn_ = connect();
  }
  std::unique_ptr<io::Connection> connect() {
    auto c = open_uri(uri_);
    EXPECT_TRUE(c.is_ok()) << uri_ << ": " << show(c.error());
    return c ? std::move(*c) : nullptr;
  }
  io::Connection& conn() { return *conn_; }

  void insert_ok(std::string_view coll, const Bytes& documents) {
    auto r = io::insert(conn(), kDb, coll, documents);
    ASSERT_TRUE(r.is_ok()) << show(r.error());
    ASSERT_TRUE(r->ok()) << (r->write_errors.empty() ? "write concern error" : r->write_errors[0].errmsg);
  }
  // serverStatus's metrics.cursor.open.total.
  std::int64_t open_cursors() {
    Bytes cmd = doc(R"({"serverStatus": 1})");
    auto r = io::run_command(conn(), "admin", DocView(cmd));
    EXPECT_TRUE(r.is_ok()) << show(r.error());
    return r ? as_int(r->body().find_path("metrics.cursor.open.total")) : -1;
  }

  static constexpr std::string_view kDb = "clienttest";
  std::unique_ptr<test::MiniMongod> server_;
  std::string uri_;
  std::unique_ptr<io::Connection> conn_;
};

class ClientCommands : public ClientTest {
 protected:
  void SetUp() override {
    start();
    ASSERT_TRUE(conn_);
  }
};

// ---- handshake, buildInfo -----------------------------------------------------------------------

TEST_P(ClientCommands, HandshakeNegotiatesAndBuildInfoAnswers) {
  const auto& info = conn().server();
  EXPECT_GE(info.max_wire_version, 17);
  EXPECT_TRUE(info.writable());
  if (GetParam().compressor.empty()) {
    EXPECT_FALSE(info.compressor.has_value());
  } else {
    ASSERT_TRUE(info.compressor.has_value());
    EXPECT_EQ(io::compressor_name(*info.compressor), GetParam().compressor);
  }
  auto bi = io::build_info(conn());
  ASSERT_TRUE(bi.is_ok()) << show(bi.error());
  EXPECT_FALSE(bi->version.empty());
  ASSERT_GE(bi->version_array.size(), 3U);
  EXPECT_EQ(bi->version.substr(0, bi->version.find('.')), std::to_string(bi->version_array[0]));

  // The connection's user is the one authenticated (and nobody otherwise).
  Bytes cmd = doc(R"({"connectionStatus": 1})");
  auto st = io::run_command(conn(), "admin", DocView(cmd));
  ASSERT_TRUE(st.is_ok()) << show(st.error());
  auto users = st->body().find_path("authInfo.authenticatedUsers");
  ASSERT_TRUE(users.valid()) << json(st->body());
  std::string text = json(users.as_document());
  EXPECT_EQ(text.find(kUser) != std::string::npos, GetParam().auth) << text;
}

// ---- find / getMore / killCursors ---------------------------------------------------------------

TEST_P(ClientCommands, FindFilterSortProjectionSkipLimit) {
  insert_ok("c", numbered_docs(100));
  Bytes filter = doc(R"({"g": 2})");
  Bytes sort = doc(R"({"v": 1})");
  Bytes projection = doc(R"({"s": 1})");
  io::FindOptions o;
  o.filter = DocView(filter);
  o.sort = DocView(sort);
  o.projection = DocView(projection);
  o.skip = 3;
  o.limit = 5;
  auto c = io::find(conn(), kDb, "c", o);
  ASSERT_TRUE(c.is_ok()) << show(c.error());
  EXPECT_EQ(c->ns(), std::string(kDb) + ".c");
  auto d = drain(*c);
  // g == 2: _id 97, 92, 87, ... by ascending v (= 100 - _id); skip 3, take 5.
  EXPECT_EQ(d.ids, (std::vector<std::int64_t>{82, 77, 72, 67, 62}));
  for (auto& k : d.keys) EXPECT_EQ(k, (std::vector<std::string>{"_id", "s"}));
}

TEST_P(ClientCommands, FindBatchesWithGetMore) {
  insert_ok("c", numbered_docs(100));
  Bytes hint = doc(R"({"_id": 1})");
  io::FindOptions o;
  o.hint = DocView(hint);
  o.batch_size = 7;
  auto c = io::find(conn(), kDb, "c", o);
  ASSERT_TRUE(c.is_ok()) << show(c.error());
  EXPECT_EQ(c->batch().size(), 7U);
  EXPECT_FALSE(c->exhausted());
  Bytes file;
  c->append_batch_to(file);
  EXPECT_EQ(file.size(), c->batch_bytes());
  auto d = drain(*c);
  EXPECT_EQ(d.ids, range(0, 100));
  EXPECT_EQ(d.batches, (100 + 6) / 7);
  EXPECT_TRUE(c->exhausted());

  // Descending by the index name as hint, with the raw getMore.
  io::FindOptions desc;
  desc.hint_name = "_id_";
  Bytes by_id_desc = doc(R"({"_id": -1})");
  desc.sort = DocView(by_id_desc);
  desc.batch_size = 40;
  auto c2 = io::find(conn(), kDb, "c", desc);
  ASSERT_TRUE(c2.is_ok()) << show(c2.error());
  ASSERT_EQ(c2->batch().size(), 40U);
  EXPECT_EQ(as_int(DocView(c2->batch().front()).find("_id")), 99);
  auto more = io::get_more(conn(), kDb, "c", c2->id(), 50);
  ASSERT_TRUE(more.is_ok()) << show(more.error());
  std::int64_t id = 0;
  std::string ns;
  std::vector<formats::ByteSpan> batch;
  ASSERT_TRUE(io::Cursor::parse(more->body(), id, ns, batch));
  ASSERT_EQ(batch.size(), 50U);
  EXPECT_EQ(as_int(DocView(batch.front()).find("_id")), 59);
  EXPECT_EQ(id, c2->id());
}

TEST_P(ClientCommands, FindMinMaxNeedAHint) {
  insert_ok("c", numbered_docs(50));
  Bytes min = doc(R"({"_id": 10})");
  Bytes max = doc(R"({"_id": 20})");
  Bytes hint = doc(R"({"_id": 1})");
  io::FindOptions o;
  o.min = DocView(min);
  o.max = DocView(max);
  o.hint = DocView(hint);
  auto c = io::find(conn(), kDb, "c", o);
  ASSERT_TRUE(c.is_ok()) << show(c.error());
  EXPECT_EQ(drain(*c).ids, range(10, 20));  // [min, max)

  o.hint = {};
  auto unhinted = io::find(conn(), kDb, "c", o);
  ASSERT_FALSE(unhinted.is_ok());
  EXPECT_EQ(unhinted.error().kind(), ErrorCode::kServer) << show(unhinted.error());
}

TEST_P(ClientCommands, CursorDestroyedEarlyIsKilled) {
  insert_ok("c", numbered_docs(60));
  io::FindOptions o;
  o.batch_size = 5;
  EXPECT_EQ(open_cursors(), 0);
  std::int64_t id = 0;
  {
    auto c = io::find(conn(), kDb, "c", o);
    ASSERT_TRUE(c.is_ok()) << show(c.error());
    id = c->id();
    ASSERT_NE(id, 0);
    EXPECT_EQ(open_cursors(), 1);
  }
  EXPECT_EQ(open_cursors(), 0);
  auto gone = io::get_more(conn(), kDb, "c", id);
  ASSERT_FALSE(gone.is_ok());
  EXPECT_EQ(gone.error().code(), kCursorNotFound) << show(gone.error());

  // Explicit kills: Cursor::kill() and the raw killCursors.
  auto a = io::find(conn(), kDb, "c", o);
  auto b = io::find(conn(), kDb, "c", o);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(open_cursors(), 2);
  EXPECT_TRUE(a->kill().is_ok());
  EXPECT_TRUE(a->exhausted());
  EXPECT_TRUE(io::kill_cursors(conn(), kDb, "c", {b->id()}).is_ok());
  EXPECT_EQ(open_cursors(), 0);
  auto after = b->next_batch();
  ASSERT_FALSE(after.is_ok());
  EXPECT_EQ(after.error().code(), kCursorNotFound) << show(after.error());
}

// ---- insert -----------------------------------------------------------------------------------

TEST_P(ClientCommands, InsertDocumentSequenceOrderedAndUnordered) {
  Bytes batch =
      docs({R"({"_id": 1})", R"({"_id": 2})", R"({"_id": 1})", R"({"_id": 3})", R"({"_id": 2})", R"({"_id": 4})"});
  struct Case {
    std::string coll;
    bool ordered;
    std::int64_t n;
    std::vector<std::int32_t> error_indexes;
  };
  for (const auto& k : {Case{"ordered", true, 2, {2}}, Case{"unordered", false, 4, {2, 4}}}) {
    SCOPED_TRACE(k.coll);
    auto r = io::insert(conn(), kDb, k.coll, batch, {.ordered = k.ordered});
    ASSERT_TRUE(r.is_ok()) << show(r.error());
    EXPECT_EQ(r->n, k.n);
    EXPECT_FALSE(r->ok());
    std::vector<std::int32_t> indexes;
    for (const auto& e : r->write_errors) {
      indexes.push_back(e.index);
      EXPECT_EQ(e.code, kDuplicateKey) << e.errmsg;
    }
    EXPECT_EQ(indexes, k.error_indexes);
    auto n = io::count(conn(), kDb, k.coll);
    ASSERT_TRUE(n.is_ok()) << show(n.error());
    EXPECT_EQ(*n, k.n);
  }
}

TEST_P(ClientCommands, InsertManyBatchesWithinServerLimits) {
  constexpr int kDocs = 2500;
  Bytes all = numbered_docs(kDocs);
  const std::size_t max_docs = 1000;  // forces several batches
  formats::ByteSpan rest(all);
  std::int64_t inserted = 0;
  while (!rest.empty()) {
    std::size_t count = 0;
    auto b = io::next_insert_batch(rest, max_docs, io::insert_payload_limit(conn().server()), &count);
    ASSERT_TRUE(b.is_ok()) << b.status().to_string();
    ASSERT_LE(count, max_docs);
    auto r = io::insert(conn(), kDb, "many", *b, {.ordered = false});
    ASSERT_TRUE(r.is_ok()) << show(r.error());
    EXPECT_TRUE(r->ok());
    inserted += r->n;
    rest = rest.subspan(b->size());
  }
  EXPECT_EQ(inserted, kDocs);
  // Read back byte for byte in _id order.
  Bytes back;
  io::FindOptions o;
  Bytes by_id = doc(R"({"_id": 1})");
  o.sort = DocView(by_id);
  o.batch_size = 333;
  auto c = io::find(conn(), kDb, "many", o);
  ASSERT_TRUE(c.is_ok()) << show(c.error());
  for (;;) {
    c->append_batch_to(back);
    auto more = c->next_batch();
    ASSERT_TRUE(more.is_ok()) << show(more.error());
    if (!*more) break;
  }
  EXPECT_TRUE(back == all) << "read back " << back.size() << " bytes, wrote " << all.size();
}

// ---- catalog ----------------------------------------------------------------------------------

TEST_P(ClientCommands, CreateKeepsOptionsVerbatimInListCollections) {
  struct Case {
    std::string name;
    std::string options;
  };
  const std::vector<Case> cases = {
      {"capped", R"({"capped": true, "size": 65536, "max": 50})"},
      {"validated", R"({"validator": {"$and": [{"n": {"$type": "int"}}, {"s": {"$exists": true}}]},
                        "validationLevel": "strict", "validationAction": "error"})"},
      {"collated", R"({"collation": {"locale": "fr", "strength": 2, "caseLevel": false}})"},
      {"plain", "{}"},
  };
  for (const auto& k : cases) {
    Bytes opts = doc(k.options);
    EXPECT_TRUE(io::create_collection(conn(), kDb, k.name, DocView(opts)).is_ok()) << k.name;
  }
  // Creating an existing collection again is idempotent with the same options, refused with others.
  Bytes same = doc(cases[0].options);
  EXPECT_TRUE(io::create_collection(conn(), kDb, cases[0].name, DocView(same)).is_ok());
  auto again = io::create_collection(conn(), kDb, "plain", DocView(same));
  ASSERT_FALSE(again.is_ok());
  EXPECT_EQ(again.code(), kNamespaceExists) << show(again);

  auto list = io::list_collections(conn(), kDb);
  ASSERT_TRUE(list.is_ok()) << show(list.error());
  ASSERT_EQ(list->size(), cases.size());
  std::vector<Bytes> uuids;
  for (const auto& k : cases) {
    SCOPED_TRACE(k.name);
    auto it = std::find_if(list->begin(), list->end(), [&](auto& ci) { return ci.name == k.name; });
    ASSERT_NE(it, list->end());
    EXPECT_EQ(it->type, "collection");
    EXPECT_FALSE(it->read_only);
    EXPECT_EQ(it->uuid.size(), 16U);
    uuids.push_back(it->uuid);
    // Every option given comes back byte for byte (the server may add nothing else here).
    Bytes given_bytes = doc(k.options);
    DocView got(it->options);
    for (auto e : DocView(given_bytes)) {
      auto g = got.find(e.key());
      ASSERT_TRUE(g.valid()) << e.key() << " missing from " << json(got);
      EXPECT_TRUE(std::ranges::equal(g.raw(), e.raw())) << e.key() << ": " << json(got);
    }
  }
  std::sort(uuids.begin(), uuids.end());
  EXPECT_EQ(std::unique(uuids.begin(), uuids.end()), uuids.end()) << "collection UUIDs are not unique";

  Bytes filter = doc(R"({"name": "capped"})");
  auto one = io::list_collections(conn(), kDb, DocView(filter));
  ASSERT_TRUE(one.is_ok()) << show(one.error());
  ASSERT_EQ(one->size(), 1U);
  EXPECT_EQ(one->front().name, "capped");
  EXPECT_EQ(as_int(DocView(one->front().raw).find_path("options.size")), 65536);
}

TEST_P(ClientCommands, DropDropDatabaseListDatabases) {
  insert_ok("a", numbered_docs(3));
  auto r = io::insert(conn(), "clienttest_other", "b", numbered_docs(2));
  ASSERT_TRUE(r.is_ok() && r->ok());

  auto names = [&](bool name_only) {
    std::vector<std::string> out;
    auto dbs = io::list_databases(conn(), name_only);
    EXPECT_TRUE(dbs.is_ok()) << show(dbs.error());
    if (dbs)
      for (auto& d : *dbs) out.push_back(d.name);
    std::sort(out.begin(), out.end());
    return out;
  };
  for (bool name_only : {false, true}) {
    auto n = names(name_only);
    EXPECT_TRUE(std::ranges::binary_search(n, "clienttest")) << name_only;
    EXPECT_TRUE(std::ranges::binary_search(n, "clienttest_other")) << name_only;
  }

  EXPECT_TRUE(io::drop_collection(conn(), kDb, "a").is_ok());
  EXPECT_TRUE(io::drop_collection(conn(), kDb, "a").is_ok()) << "missing is ignored by default";
  auto strict = io::drop_collection(conn(), kDb, "a", /*ignore_missing=*/false);
  ASSERT_FALSE(strict.is_ok());
  EXPECT_EQ(strict.code(), kNamespaceNotFound) << show(strict);
  EXPECT_EQ(strict.code_name(), "NamespaceNotFound");

  EXPECT_TRUE(io::drop_database(conn(), "clienttest_other").is_ok());
  EXPECT_FALSE(std::ranges::binary_search(names(true), "clienttest_other"));
  auto left = io::list_collections(conn(), "clienttest_other");
  ASSERT_TRUE(left.is_ok()) << show(left.error());
  EXPECT_TRUE(left->empty());
}

TEST_P(ClientCommands, IndexesCreateListEnforceDrop) {
  insert_ok("c", docs({R"({"_id": 1, "email": "a", "x": 1, "y": "p"})", R"({"_id": 2, "email": "b", "x": 1})",
                       R"({"_id": 3, "email": "c", "x": 2, "dup": 7})", R"({"_id": 4, "dup": 7})"}));
  Bytes unique = doc(R"({"key": {"email": 1}, "name": "email_1", "unique": true})");
  Bytes compound = doc(R"({"key": {"x": 1, "y": -1}, "name": "x_1_y_-1"})");
  ASSERT_TRUE(io::create_indexes(conn(), kDb, "c", {DocView(unique), DocView(compound)}).is_ok());

  auto specs = io::list_indexes(conn(), kDb, "c");
  ASSERT_TRUE(specs.is_ok()) << show(specs.error());
  std::vector<std::string> keys;
  for (auto& s : *specs) {
    DocView v(s);
    keys.push_back(std::string(v.find("name").as_string()) + " " + json(v.find("key").as_document()));
  }
  EXPECT_EQ(keys,
            (std::vector<std::string>{R"(_id_ {"_id":1})", R"(email_1 {"email":1})", R"(x_1_y_-1 {"x":1,"y":-1})"}));
  auto email = std::find_if(specs->begin(), specs->end(), [](auto& s) { return DocView(s).find("unique").valid(); });
  ASSERT_NE(email, specs->end());
  EXPECT_EQ(DocView(*email).find("name").as_string(), "email_1");

  // The unique index rejects a second "a"; building one over duplicate data fails.
  auto w = io::insert(conn(), kDb, "c", docs({R"({"_id": 5, "email": "a"})"}));
  ASSERT_TRUE(w.is_ok()) << show(w.error());
  ASSERT_EQ(w->write_errors.size(), 1U);
  EXPECT_EQ(w->write_errors[0].code, kDuplicateKey) << w->write_errors[0].errmsg;
  Bytes bad = doc(R"({"key": {"dup": 1}, "name": "dup_1", "unique": true})");
  auto failed = io::create_indexes(conn(), kDb, "c", {DocView(bad)});
  ASSERT_FALSE(failed.is_ok());
  EXPECT_EQ(failed.code(), kDuplicateKey) << show(failed);

  auto names = [&] {
    std::vector<std::string> out;
    auto l = io::list_indexes(conn(), kDb, "c");
    EXPECT_TRUE(l.is_ok());
    if (l)
      for (auto& s : *l) out.emplace_back(DocView(s).find("name").as_string());
    return out;
  };
  EXPECT_EQ(names(), (std::vector<std::string>{"_id_", "email_1", "x_1_y_-1"}));
  EXPECT_TRUE(io::drop_indexes(conn(), kDb, "c", "email_1").is_ok());
  EXPECT_EQ(names(), (std::vector<std::string>{"_id_", "x_1_y_-1"}));
  EXPECT_FALSE(io::drop_indexes(conn(), kDb, "c", "no_such_index").is_ok());
  EXPECT_TRUE(io::drop_indexes(conn(), kDb, "c", "*").is_ok());
  EXPECT_EQ(names(), (std::vector<std::string>{"_id_"}));

  auto absent = io::list_indexes(conn(), kDb, "absent");
  ASSERT_TRUE(absent.is_ok()) << show(absent.error());
  EXPECT_TRUE(absent->empty());
}

TEST_P(ClientCommands, RenameCollectionWithAndWithoutDropTarget) {
  insert_ok("from", numbered_docs(10));
  insert_ok("target", numbered_docs(3));
  std::string from = std::string(kDb) + ".from";
  std::string to = std::string(kDb) + ".to";
  std::string target = std::string(kDb) + ".target";

  ASSERT_TRUE(io::rename_collection(conn(), from, to).is_ok());
  auto refused = io::rename_collection(conn(), to, target);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.code(), kNamespaceExists) << show(refused);
  ASSERT_TRUE(io::rename_collection(conn(), to, target, /*drop_target=*/true).is_ok());

  auto list = io::list_collections(conn(), kDb);
  ASSERT_TRUE(list.is_ok());
  std::vector<std::string> names;
  for (auto& ci : *list) names.push_back(ci.name);
  EXPECT_EQ(names, std::vector<std::string>{"target"});
  auto n = io::count(conn(), kDb, "target");
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 10);
}

// ---- aggregate, count, collStats ----------------------------------------------------------------

TEST_P(ClientCommands, AggregateCountCollStats) {
  insert_ok("c", numbered_docs(100));
  Bytes pipeline = doc(R"({"0": {"$match": {"g": {"$in": [1, 3]}}},
                           "1": {"$group": {"_id": "$g", "n": {"$sum": 1}, "top": {"$max": "$_id"}}},
                           "2": {"$sort": {"_id": 1}}})");
  auto c = io::aggregate(conn(), kDb, "c", DocView(pipeline));
  ASSERT_TRUE(c.is_ok()) << show(c.error());
  std::vector<std::string> groups;
  for (auto d : c->batch()) groups.push_back(json(DocView(d)));
  EXPECT_EQ(groups, (std::vector<std::string>{R"({"_id":1,"n":20,"top":96})", R"({"_id":3,"n":20,"top":98})"}));

  // Several batches through getMore.
  Bytes sorted = doc(R"({"0": {"$sort": {"v": 1}}, "1": {"$project": {"v": 1}}})");
  auto batched = io::aggregate(conn(), kDb, "c", DocView(sorted), {.batch_size = 30});
  ASSERT_TRUE(batched.is_ok()) << show(batched.error());
  auto d = drain(*batched);
  EXPECT_EQ(d.ids, range(99, -1, -1));
  EXPECT_EQ(d.batches, 4);

  Bytes filter = doc(R"({"g": 4, "v": {"$gt": 50}})");
  auto n = io::count(conn(), kDb, "c", DocView(filter));
  ASSERT_TRUE(n.is_ok()) << show(n.error());
  EXPECT_EQ(*n, 10);
  auto all = io::count(conn(), kDb, "c");
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(*all, 100);
  auto none = io::count(conn(), kDb, "absent");
  ASSERT_TRUE(none.is_ok()) << show(none.error());
  EXPECT_EQ(*none, 0);

  Bytes ix = doc(R"({"key": {"g": 1}, "name": "g_1"})");
  ASSERT_TRUE(io::create_indexes(conn(), kDb, "c", {DocView(ix)}).is_ok());
  auto st = io::coll_stats(conn(), kDb, "c");
  ASSERT_TRUE(st.is_ok()) << show(st.error());
  EXPECT_EQ(st->count, 100);
  EXPECT_EQ(st->nindexes, 2);
  EXPECT_EQ(st->size, static_cast<std::int64_t>(numbered_docs(100).size()));
  EXPECT_EQ(st->avg_obj_size, st->size / 100);
}

INSTANTIATE_TEST_SUITE_P(Client, ClientCommands, testing::ValuesIn(all_transports()), transport_name);

// ---- faults as typed errors -------------------------------------------------------------------

class ClientFaults : public ClientTest {};

TEST_P(ClientFaults, NotWritablePrimaryFromInsert) {
  start({"--fault-fail", "insert:10107"});
  ASSERT_TRUE(conn_);
  auto r = io::insert(conn(), kDb, "c", numbered_docs(2));
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(r.error().is_not_writable_primary()) << show(r.error());
  EXPECT_TRUE(r.error().is_retryable()) << show(r.error());
  EXPECT_EQ(r.error().code(), kNotWritablePrimary);
  // Reads are unaffected, and the connection is still usable.
  auto c = io::count(conn(), kDb, "c");
  ASSERT_TRUE(c.is_ok()) << show(c.error());
  EXPECT_EQ(*c, 0);
}

TEST_P(ClientFaults, BadValueFromFindCarriesCodeName) {
  start({"--fault-fail", "find:2:1"});
  ASSERT_TRUE(conn_);
  auto r = io::find(conn(), kDb, "c");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.error().kind(), ErrorCode::kServer);
  EXPECT_EQ(r.error().code(), kBadValue);
  EXPECT_EQ(r.error().code_name(), "BadValue");
  EXPECT_FALSE(r.error().is_retryable()) << show(r.error());
  EXPECT_NE(show(r.error()).find("BadValue"), std::string::npos) << show(r.error());
  // COUNT = 1: the next find succeeds.
  auto again = io::find(conn(), kDb, "c");
  EXPECT_TRUE(again.is_ok()) << show(again.error());
}

TEST_P(ClientFaults, ClosedConnectionIsARetryableNetworkError) {
  // Replies to the handshake and authentication count too; a few pings reach the limit.
  start({"--fault-close-after", "4"});
  ASSERT_TRUE(conn_);
  Bytes ping = doc(R"({"ping": 1})");
  std::optional<io::Error> failure;
  for (int i = 0; i < 8 && !failure; ++i) {
    auto r = io::run_command(conn(), "admin", DocView(ping));
    if (!r) failure = r.error();
  }
  ASSERT_TRUE(failure.has_value()) << "the server never closed the connection";
  EXPECT_TRUE(failure->is_network()) << show(*failure);
  EXPECT_TRUE(failure->is_retryable()) << show(*failure);
  EXPECT_TRUE(conn().broken());
  // A fresh connection works again (until its own limit).
  auto fresh = connect();
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(io::run_command(*fresh, "admin", DocView(ping)).is_ok());
}

TEST_P(ClientFaults, SlowServerHitsSocketTimeout) {
  // The handshake (and SCRAM's round trips) run under connectTimeoutMS, commands under socketTimeoutMS.
  start({"--fault-delay-ms", "1000"}, "socketTimeoutMS=100&connectTimeoutMS=60000");
  ASSERT_TRUE(conn_);
  Bytes ping = doc(R"({"ping": 1})");
  auto r = io::run_command(conn(), "admin", DocView(ping));
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(r.error().is_network()) << show(r.error());
  EXPECT_NE(r.error().message().find("timed out"), std::string::npos) << show(r.error());
  EXPECT_TRUE(conn().broken());
  // A per-call timeout larger than the delay succeeds on a fresh connection.
  auto fresh = connect();
  ASSERT_TRUE(fresh);
  auto slow =
      fresh->run_command(io::CommandRequest{.db = "admin", .command = DocView(ping), .timeout = milliseconds(20'000)});
  EXPECT_TRUE(slow.is_ok()) << show(slow.error());
}

INSTANTIATE_TEST_SUITE_P(Client, ClientFaults,
                         testing::Values(all_transports().front(), all_transports().back(), all_transports()[7]),
                         transport_name);

// ---- TLS and authentication failures --------------------------------------------------------------

enum class CaChoice : std::uint8_t { kTrusted, kNone, kOther, kAllowInvalid, kNoTls };
struct TlsCase {
  std::string name;
  CaChoice ca;
  bool connects;
};

std::string tls_uri_options(CaChoice ca) {
  switch (ca) {
    case CaChoice::kTrusted: return "tls=true&tlsCAFile=" + tls_files().cert.string();
    case CaChoice::kNone: return "tls=true";
    case CaChoice::kOther: return "tls=true&tlsCAFile=" + tls_files().other_ca.string();
    case CaChoice::kAllowInvalid: return "tls=true&tlsAllowInvalidCertificates=true";
    case CaChoice::kNoTls: return "tls=false";
  }
  return {};
}

void PrintTo(const TlsCase& t, std::ostream* os) {
  *os << t.name;
}

class ClientTls : public testing::TestWithParam<TlsCase> {};

TEST_P(ClientTls, CertificateVerification) {
  test::MiniMongod server({"--tlsCertificateKeyFile", tls_files().cert_and_key.string()});
  std::string uri = "mongodb://127.0.0.1:" + std::to_string(server.port()) + "/?connectTimeoutMS=5000&" +
                    tls_uri_options(GetParam().ca);
  auto c = open_uri(uri);
  ASSERT_EQ(c.is_ok(), GetParam().connects) << uri << ": " << show(c.error());
  if (c) {
    auto bi = io::build_info(**c);
    EXPECT_TRUE(bi.is_ok()) << show(bi.error());
  } else {
    EXPECT_TRUE(c.error().is_network()) << show(c.error());
  }
}

INSTANTIATE_TEST_SUITE_P(Client, ClientTls,
                         testing::Values(TlsCase{"TrustedCa", CaChoice::kTrusted, true},
                                         TlsCase{"NoCaFile", CaChoice::kNone, false},
                                         TlsCase{"OtherCa", CaChoice::kOther, false},
                                         TlsCase{"AllowInvalidCertificates", CaChoice::kAllowInvalid, true},
                                         TlsCase{"PlainTcpToTlsServer", CaChoice::kNoTls, false}),
                         [](const testing::TestParamInfo<TlsCase>& info) { return info.param.name; });

TEST(ClientAuth, WrongPasswordAndMissingCredentialsAreRefused) {
  Transport auth{.name = "auth", .auth = true};
  test::MiniMongod server(auth.server_flags());
  for (std::string mech : {"SCRAM-SHA-256", "SCRAM-SHA-1"}) {
    SCOPED_TRACE(mech);
    std::string uri = "mongodb://" + std::string(kUser) + ":wrong@127.0.0.1:" + std::to_string(server.port()) +
                      "/?authSource=admin&authMechanism=" + mech;
    auto c = open_uri(uri);
    ASSERT_FALSE(c.is_ok());
    EXPECT_EQ(c.error().code(), kAuthenticationFailed) << show(c.error());
  }
  // Without credentials the handshake works but commands other than hello are refused.
  auto anon = open_uri("mongodb://127.0.0.1:" + std::to_string(server.port()) + "/");
  ASSERT_TRUE(anon.is_ok()) << show(anon.error());
  auto l = io::list_databases(**anon);
  ASSERT_FALSE(l.is_ok());
  EXPECT_EQ(l.error().kind(), ErrorCode::kServer) << show(l.error());
  EXPECT_EQ(l.error().code_name(), "Unauthorized") << show(l.error());
}

}  // namespace
}  // namespace bsonpipe
