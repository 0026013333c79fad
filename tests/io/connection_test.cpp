// Connection, pool and commands against the in-test loopback server: handshake, compression,
// SCRAM, typed server/write errors, cursors killed on destruction, timeouts, cancellation and
// network failures surfacing as retryable errors.
#include <gtest/gtest.h>

#include <thread>

#include "fake_server.hpp"
#include "io/commands.hpp"
#include "io/pool.hpp"

namespace bsonpipe::io {
namespace {

using formats::Builder;
using minimongod::make_credentials;
using std::chrono::milliseconds;
using test::FakeResponse;
using test::FakeServer;
using test::FakeServerOptions;

Bytes doc_with(std::string_view key, std::int32_t v) {
  Builder b;
  b.append_int32(key, v);
  return b.finish();
}

ConnectOptions local(std::uint16_t port) {
  ConnectOptions o;
  o.host = {"127.0.0.1", port};
  o.connect_timeout = milliseconds(5000);
  o.socket_timeout = milliseconds(5000);
  return o;
}

FakeResponse ping_ok(const std::string&, DocView, const OpMsgView&) {
  return FakeResponse::reply(test::ok_reply());
}

TEST(ConnectionTest, HandshakeLearnsServerAndNegotiatesCompression) {
  FakeServer srv(ping_ok, {.set_name = "rs0", .compressors = {"zstd"}});
  ConnectOptions o = local(srv.port());
  o.app_name = "io-test";
  o.compressors = {CompressorId::kZlib, CompressorId::kZstd};
  auto c = Connection::open(o);
  ASSERT_TRUE(c) << c.error().to_string();
  const ServerInfo& s = (*c)->server();
  EXPECT_EQ(s.max_bson_object_size, 16u * 1024 * 1024);
  EXPECT_EQ(s.max_message_size_bytes, 48000000u);
  EXPECT_EQ(s.max_write_batch_size, 100000u);
  EXPECT_EQ(s.max_wire_version, 17);
  EXPECT_EQ(s.kind, TopologyKind::kReplicaSetPrimary);
  EXPECT_EQ(s.set_name, "rs0");
  ASSERT_TRUE(s.compressor.has_value());
  EXPECT_EQ(*s.compressor, CompressorId::kZstd);

  // The handshake carried our metadata and compressor list.
  Bytes hs = srv.last_handshake();
  DocView h(hs);
  EXPECT_EQ(h.find("isMaster").as_int32(), 1);
  EXPECT_EQ(h.find_path("client.application.name").as_string(), "io-test");
  EXPECT_EQ(h.find_path("client.driver.name").as_string(), "bsonpipe");
  EXPECT_EQ(h.find_path("compression.0").as_string(), "zlib");

  Bytes ping = doc_with("ping", 1);
  auto r = (*c)->run_command("admin", DocView(ping));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->message.was_compressed);  // the server answered in kind
  auto seen = srv.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].name, "ping");
  EXPECT_TRUE(seen[0].compressed);
  EXPECT_EQ(DocView(seen[0].body).find("$db").as_string(), "admin");
}

TEST(ConnectionTest, ChecksumIsSentWhenAsked) {
  FakeServer srv(ping_ok);
  ConnectOptions o = local(srv.port());
  o.checksum = true;
  auto c = Connection::open(o);
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)->server().kind, TopologyKind::kStandalone);
  Bytes ping = doc_with("ping", 1);
  ASSERT_TRUE((*c)->run_command("admin", DocView(ping)));
  EXPECT_TRUE(srv.seen().at(0).checksum);
  EXPECT_FALSE(srv.seen().at(0).compressed);
}

class AuthTest : public ::testing::TestWithParam<ScramMechanism> {};

TEST_P(AuthTest, ScramSucceedsWithTheRightPasswordOnly) {
  auto creds = make_credentials(GetParam(), "alice", "pa55", {}, 4096);
  ASSERT_TRUE(creds);
  FakeServer srv(ping_ok, {.credentials = *creds, .user = "alice"});
  ConnectOptions o = local(srv.port());
  o.credentials = Credentials{"alice", "pa55", "admin", ""};
  auto c = Connection::open(o);
  ASSERT_TRUE(c) << c.error().to_string();
  auto seen = srv.seen();
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen[0].name, "saslStart");
  EXPECT_EQ(DocView(seen[0].body).find("mechanism").as_string(), mechanism_name(GetParam()));
  EXPECT_EQ(seen[1].name, "saslContinue");
  // saslSupportedMechs was asked for the user.
  EXPECT_EQ(DocView(srv.last_handshake()).find("saslSupportedMechs").as_string(), "admin.alice");

  o.credentials->password = "wrong";
  auto bad = Connection::open(o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind(), ErrorCode::kServer);
  EXPECT_EQ(bad.error().code(), 18);
  EXPECT_FALSE(bad.error().is_retryable());
}

INSTANTIATE_TEST_SUITE_P(Mechs, AuthTest, ::testing::Values(ScramMechanism::kSha1, ScramMechanism::kSha256),
                         [](const auto& info) { return info.param == ScramMechanism::kSha1 ? "sha1" : "sha256"; });

TEST(ConnectionTest, ServerErrorsAreTyped) {
  FakeServer srv([](const std::string& name, DocView, const OpMsgView&) {
    Builder b;
    b.append_double("ok", 0.0);
    if (name == "insert") {
      b.append_string("errmsg", "not primary");
      b.append_int32("code", 10107);
      b.append_string("codeName", "NotWritablePrimary");
    } else {
      b.append_string("errmsg", "no such command");
      b.append_int32("code", 59);
      b.append_string("codeName", "CommandNotFound");
    }
    return FakeResponse::reply(b.finish());
  });
  auto c = Connection::open(local(srv.port()));
  ASSERT_TRUE(c);
  Bytes docs = doc_with("a", 1);
  auto w = insert(**c, "db", "coll", docs);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().kind(), ErrorCode::kServer);
  EXPECT_EQ(w.error().code(), 10107);
  EXPECT_EQ(w.error().code_name(), "NotWritablePrimary");
  EXPECT_TRUE(w.error().is_not_writable_primary());
  EXPECT_TRUE(w.error().is_retryable());
  EXPECT_NE(w.error().to_string().find("NotWritablePrimary (10107): not primary"), std::string::npos);

  Bytes cmd = doc_with("frobnicate", 1);
  auto r = run_command(**c, "db", DocView(cmd));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code_name(), "CommandNotFound");
  EXPECT_FALSE(r.error().is_retryable());
  EXPECT_FALSE((*c)->broken());  // a server error leaves the connection usable
  EXPECT_EQ(r.status().code(), ErrorCode::kServer);
}

TEST(ConnectionTest, InsertSendsADocumentSequenceAndReportsWriteErrors) {
  FakeServer srv([](const std::string& name, DocView body, const OpMsgView& msg) {
    if (name != "insert") return FakeResponse::reply(test::ok_reply());
    const DocumentSequence* docs = msg.sequence("documents");
    EXPECT_NE(docs, nullptr);
    EXPECT_FALSE(body.find("ordered").as_bool());
    EXPECT_TRUE(body.find("bypassDocumentValidation").as_bool());
    EXPECT_EQ(body.find_path("writeConcern.w").as_string(), "majority");
    return FakeResponse::reply(test::ok_reply([&](Builder& b) {
      b.append_int32("n", static_cast<std::int32_t>(docs->count) - 1);
      b.open_array("writeErrors");
      b.open_document("0");
      b.append_int32("index", 1);
      b.append_int32("code", 11000);
      b.append_string("errmsg", "E11000 duplicate key");
      b.close();
      b.close();
      b.open_document("writeConcernError");
      b.append_int32("code", 64);
      b.append_string("codeName", "WriteConcernFailed");
      b.append_string("errmsg", "waiting for replication timed out");
      b.close();
    }));
  });
  auto c = Connection::open(local(srv.port()));
  ASSERT_TRUE(c);
  Bytes file;
  for (int i = 0; i < 3; ++i) {
    Bytes d = doc_with("_id", i);
    file.insert(file.end(), d.begin(), d.end());
  }
  Builder wc;
  wc.append_string("w", "majority");
  Bytes wcb = wc.finish();
  auto w = insert(**c, "db", "coll", file,
                  {.ordered = false, .write_concern = DocView(wcb), .bypass_document_validation = true});
  ASSERT_TRUE(w) << w.error().to_string();
  EXPECT_EQ(w->n, 2);
  ASSERT_EQ(w->write_errors.size(), 1u);
  EXPECT_EQ(w->write_errors[0].index, 1);
  EXPECT_EQ(w->write_errors[0].code, 11000);
  EXPECT_EQ(w->write_errors[0].errmsg, "E11000 duplicate key");
  ASSERT_TRUE(w->write_concern_error.has_value());
  EXPECT_EQ(w->write_concern_error->code_name, "WriteConcernFailed");
  EXPECT_FALSE(w->ok());
  auto seen = srv.seen();
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(seen[0].sequences.size(), 1u);
  EXPECT_EQ(seen[0].sequences[0].first, "documents");
  EXPECT_EQ(seen[0].sequences[0].second, 3u);
}

TEST(CommandsTest, NextInsertBatchRespectsLimits) {
  Bytes file;
  for (int i = 0; i < 10; ++i) {
    Bytes d = doc_with("_id", i);  // 14 bytes each
    file.insert(file.end(), d.begin(), d.end());
  }
  std::size_t n = 0;
  auto b = next_insert_batch(file, 4, 1000, &n);
  ASSERT_TRUE(b);
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(b->size(), 56u);
  b = next_insert_batch(file, 100, 30, &n);
  ASSERT_TRUE(b);
  EXPECT_EQ(n, 2u);
  b = next_insert_batch(file, 100, 5, &n);  // one oversized document still goes alone
  ASSERT_TRUE(b);
  EXPECT_EQ(n, 1u);
  Bytes bad = file;
  bad[14] = 0xFF;  // second document's length
  bad[15] = 0x7F;
  auto e = next_insert_batch(bad, 100, 1000, &n);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.status().offset(), 14);
}

// A server with one collection of 5 documents served 2 per batch through cursor 77.
FakeResponse cursor_handler(const std::string& name, DocView body, const OpMsgView&, int& served) {
  auto doc = [](int i) { return doc_with("_id", i); };
  if (name == "find") {
    EXPECT_EQ(body.find("batchSize").as_int32(), 2);
    EXPECT_EQ(body.find_path("filter.x").as_int32(), 1);
    EXPECT_EQ(body.find_path("sort._id").as_int32(), 1);
    EXPECT_EQ(body.find_path("readConcern.level").as_string(), "majority");
    EXPECT_EQ(body.find_path("$readPreference.mode").as_string(), "secondaryPreferred");
    EXPECT_TRUE(body.find("noCursorTimeout").as_bool());
    served = 2;
    return FakeResponse::reply(test::cursor_reply(77, "db.c", {doc(0), doc(1)}, true));
  }
  if (name == "getMore") {
    EXPECT_EQ(body.find("getMore").as_int64(), 77);
    EXPECT_EQ(body.find("collection").as_string(), "c");
    std::vector<Bytes> docs;
    for (int k = 0; k < 2 && served < 5; ++k) docs.push_back(doc(served++));
    return FakeResponse::reply(test::cursor_reply(served >= 5 ? 0 : 77, "db.c", docs, false));
  }
  return FakeResponse::reply(test::ok_reply());
}

TEST(CursorTest, IteratesRawBatchesToTheEnd) {
  int served = 0;
  FakeServer srv([&](const std::string& n, DocView b, const OpMsgView& m) { return cursor_handler(n, b, m, served); });
  auto c = Connection::open(local(srv.port()));
  ASSERT_TRUE(c);
  Bytes filter = doc_with("x", 1), sort = doc_with("_id", 1);
  FindOptions fo;
  fo.filter = DocView(filter);
  fo.sort = DocView(sort);
  fo.batch_size = 2;
  fo.no_cursor_timeout = true;
  fo.read_concern_level = "majority";
  fo.read_preference = ReadPreferenceMode::kSecondaryPreferred;
  {
    auto cur = find(**c, "db", "c", fo);
    ASSERT_TRUE(cur) << cur.error().to_string();
    std::vector<std::int32_t> ids;
    Bytes out;
    for (;;) {
      for (ByteSpan d : cur->batch()) ids.push_back(DocView(d).find("_id").as_int32());
      cur->append_batch_to(out);
      auto more = cur->next_batch();
      ASSERT_TRUE(more) << more.error().to_string();
      if (!*more) break;
    }
    EXPECT_EQ(ids, (std::vector<std::int32_t>{0, 1, 2, 3, 4}));
    auto walked = formats::walk_documents(out);
    ASSERT_TRUE(walked);
    EXPECT_EQ(*walked, 5u);
    EXPECT_TRUE(cur->exhausted());
  }
  for (const auto& s : srv.seen()) EXPECT_NE(s.name, "killCursors");  // exhausted: nothing to kill
}

TEST(CursorTest, KilledOnDestructionWhenNotExhausted) {
  int served = 0;
  FakeServer srv([&](const std::string& n, DocView b, const OpMsgView& m) { return cursor_handler(n, b, m, served); });
  auto c = Connection::open(local(srv.port()));
  ASSERT_TRUE(c);
  Bytes filter = doc_with("x", 1), sort = doc_with("_id", 1);
  FindOptions fo;
  fo.filter = DocView(filter);
  fo.sort = DocView(sort);
  fo.batch_size = 2;
  fo.no_cursor_timeout = true;
  fo.read_concern_level = "majority";
  fo.read_preference = ReadPreferenceMode::kSecondaryPreferred;
  {
    auto cur = find(**c, "db", "c", fo);
    ASSERT_TRUE(cur);
    EXPECT_EQ(cur->batch().size(), 2u);
    EXPECT_EQ(cur->id(), 77);
    Cursor moved = std::move(*cur);  // the moved-from cursor must not kill anything
    EXPECT_EQ(moved.batch().size(), 2u);
  }
  auto seen = srv.seen();
  int kills = 0;
  for (const auto& s : seen) {
    if (s.name != "killCursors") continue;
    ++kills;
    DocView body(s.body);
    EXPECT_EQ(body.find("killCursors").as_string(), "c");
    EXPECT_EQ(body.find_path("cursors.0").as_int64(), 77);
    EXPECT_EQ(body.find("$db").as_string(), "db");
  }
  EXPECT_EQ(kills, 1);
}

TEST(ConnectionTest, ReadTimeoutIsARetryableNetworkError) {
  FakeServer srv([](const std::string& name, DocView, const OpMsgView&) {
    return name == "sleep" ? FakeResponse::stall() : FakeResponse::reply(test::ok_reply());
  });
  ConnectOptions o = local(srv.port());
  o.socket_timeout = milliseconds(200);
  auto c = Connection::open(o);
  ASSERT_TRUE(c);
  Bytes cmd = doc_with("sleep", 1);
  auto r = (*c)->run_command("admin", DocView(cmd));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_network());
  EXPECT_TRUE(r.error().is_retryable());
  EXPECT_NE(r.error().message().find("timed out"), std::string::npos) << r.error().to_string();
  EXPECT_TRUE((*c)->broken());
  // Further use fails fast, still as a network error.
  Bytes ping = doc_with("ping", 1);
  auto again = (*c)->run_command("admin", DocView(ping));
  ASSERT_FALSE(again);
  EXPECT_TRUE(again.error().is_network());
}

TEST(ConnectionTest, HandshakeTimeoutBoundsConnect) {
  FakeServer srv(ping_ok, {.never_answer_handshake = true});
  ConnectOptions o = local(srv.port());
  o.connect_timeout = milliseconds(300);
  auto c = Connection::open(o);
  ASSERT_FALSE(c);
  EXPECT_TRUE(c.error().is_network());
  EXPECT_TRUE(c.error().is_retryable());
}

TEST(ConnectionTest, RefusedConnectionIsARetryableNetworkError) {
  std::uint16_t port = 0;
  {
    FakeServer srv(ping_ok);
    port = srv.port();
  }  // closed: nothing listens there now
  auto c = Connection::open(local(port));
  ASSERT_FALSE(c);
  EXPECT_TRUE(c.error().is_network());
  EXPECT_TRUE(c.error().is_retryable());
  EXPECT_EQ(c.status().code(), ErrorCode::kNetwork);
}

TEST(ConnectionTest, ServerClosingMidRequestIsARetryableNetworkError) {
  FakeServer srv([](const std::string& name, DocView, const OpMsgView&) {
    return name == "drop" ? FakeResponse::close() : FakeResponse::reply(test::ok_reply());
  });
  auto c = Connection::open(local(srv.port()));
  ASSERT_TRUE(c);
  Error e = drop_collection(**c, "db", "c");
  ASSERT_FALSE(e);
  EXPECT_TRUE(e.is_network());
  EXPECT_TRUE(e.is_retryable());
  EXPECT_TRUE((*c)->broken());
}

TEST(ConnectionTest, CancelFromAnotherThreadAbortsTheWait) {
  FakeServer srv([](const std::string& name, DocView, const OpMsgView&) {
    return name == "sleep" ? FakeResponse::stall() : FakeResponse::reply(test::ok_reply());
  });
  ConnectOptions o = local(srv.port());
  o.socket_timeout = milliseconds(60'000);  // the cancel, not the timeout, must end the wait
  auto c = Connection::open(o);
  ASSERT_TRUE(c);
  Connection* conn = c->get();
  std::thread canceller([conn] {
    std::this_thread::sleep_for(milliseconds(100));
    conn->cancel();
  });
  Bytes cmd = doc_with("sleep", 1);
  auto r = conn->run_command("admin", DocView(cmd));
  canceller.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorCode::kCancelled);
  EXPECT_FALSE(r.error().is_retryable());
}

TEST(PoolTest, BoundedWithBlockingAcquireAndReuse) {
  FakeServer srv(ping_ok);
  Pool pool(local(srv.port()), 1);
  {
    auto a = pool.acquire(milliseconds(5000));
    ASSERT_TRUE(a) << a.error().to_string();
    EXPECT_EQ(pool.open_count(), 1u);
    auto b = pool.acquire(milliseconds(100));
    ASSERT_FALSE(b);  // the only connection is leased
    EXPECT_TRUE(b.error().is_network());
    // Handing it back from another thread wakes a waiting acquire.
    std::thread t([lease = std::move(*a)]() mutable {
      std::this_thread::sleep_for(milliseconds(50));
      lease.release();
    });
    auto c = pool.acquire(milliseconds(10'000));
    t.join();
    ASSERT_TRUE(c);
    Bytes ping = doc_with("ping", 1);
    EXPECT_TRUE((*c)->run_command("admin", DocView(ping)));
  }
  EXPECT_EQ(pool.idle_count(), 1u);
  EXPECT_EQ(srv.connections_accepted(), 1);  // reused, not reopened
  pool.clear();
  EXPECT_EQ(pool.open_count(), 0u);
}

TEST(PoolTest, BrokenConnectionsAreDropped) {
  FakeServer srv([](const std::string& name, DocView, const OpMsgView&) {
    return name == "drop" ? FakeResponse::close() : FakeResponse::reply(test::ok_reply());
  });
  Pool pool(local(srv.port()), 2);
  {
    auto a = pool.acquire(milliseconds(5000));
    ASSERT_TRUE(a);
    EXPECT_FALSE(drop_collection(**a, "db", "c"));
  }
  EXPECT_EQ(pool.open_count(), 0u);
  auto b = pool.acquire(milliseconds(5000));
  ASSERT_TRUE(b);
  EXPECT_EQ(srv.connections_accepted(), 2);
}

TEST(SelectionTest, PicksByReadPreference) {
  FakeServer primary(ping_ok, {.set_name = "rs"});
  FakeServer secondary(ping_ok, {.set_name = "rs", .secondary = true});
  std::string hosts = "127.0.0.1:" + std::to_string(secondary.port()) + ",127.0.0.1:" + std::to_string(primary.port());
  auto uri = parse_uri("mongodb://" + hosts + "/?replicaSet=rs&connectTimeoutMS=5000");
  ASSERT_TRUE(uri) << uri.status().to_string();
  auto p = connect_selected(*uri, ReadPreferenceMode::kPrimary);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ((*p)->host().port, primary.port());
  auto s = connect_selected(*uri, ReadPreferenceMode::kSecondary);
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)->host().port, secondary.port());
  EXPECT_EQ((*s)->server().kind, TopologyKind::kReplicaSetSecondary);

  auto wrong = parse_uri("mongodb://" + hosts + "/?replicaSet=other&connectTimeoutMS=5000");
  ASSERT_TRUE(wrong);
  EXPECT_FALSE(connect_selected(*wrong, ReadPreferenceMode::kPrimary));
}

TEST(CommandsTest, CatalogHelpersParseReplies) {
  FakeServer srv([](const std::string& name, DocView body, const OpMsgView&) {
    if (name == "listDatabases")
      return FakeResponse::reply(test::ok_reply([](Builder& b) {
        b.open_array("databases");
        b.open_document("0");
        b.append_string("name", "app");
        b.append_int64("sizeOnDisk", 4096);
        b.append_bool("empty", false);
        b.close();
        b.close();
      }));
    if (name == "listCollections") {
      Builder e;
      e.append_string("name", "users");
      e.append_string("type", "collection");
      e.open_document("options");
      e.append_bool("capped", true);
      e.close();
      e.open_document("info");
      e.append_bool("readOnly", false);
      std::uint8_t uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
      e.append_binary("uuid", 4, {uuid, 16});
      e.close();
      return FakeResponse::reply(test::cursor_reply(0, "app.$cmd.listCollections", {e.finish()}, true));
    }
    if (name == "listIndexes") {
      Builder b;
      b.append_double("ok", 0.0);
      b.append_int32("code", 26);
      b.append_string("codeName", "NamespaceNotFound");
      b.append_string("errmsg", "ns does not exist");
      return FakeResponse::reply(b.finish());
    }
    if (name == "count") return FakeResponse::reply(test::ok_reply([](Builder& b) { b.append_int32("n", 12); }));
    if (name == "buildInfo")
      return FakeResponse::reply(test::ok_reply([](Builder& b) {
        b.append_string("version", "7.0.2");
        b.open_array("versionArray");
        for (int v : {7, 0, 2, 0}) b.append_int32(b.next_array_key(), v);
        b.close();
      }));
    if (name == "renameCollection") {
      EXPECT_EQ(body.find("to").as_string(), "app.b");
      EXPECT_TRUE(body.find("dropTarget").as_bool());
      EXPECT_EQ(body.find("$db").as_string(), "admin");
    }
    if (name == "createIndexes") {
      EXPECT_EQ(body.find_path("indexes.0.name").as_string(), "a_1");
    }
    return FakeResponse::reply(test::ok_reply());
  });
  auto c = Connection::open(local(srv.port()));
  ASSERT_TRUE(c);
  Connection& conn = **c;
  auto dbs = list_databases(conn);
  ASSERT_TRUE(dbs) << dbs.error().to_string();
  ASSERT_EQ(dbs->size(), 1u);
  EXPECT_EQ((*dbs)[0].name, "app");
  EXPECT_EQ((*dbs)[0].size_on_disk, 4096);
  auto colls = list_collections(conn, "app");
  ASSERT_TRUE(colls) << colls.error().to_string();
  ASSERT_EQ(colls->size(), 1u);
  EXPECT_EQ((*colls)[0].name, "users");
  EXPECT_EQ((*colls)[0].type, "collection");
  EXPECT_EQ((*colls)[0].uuid.size(), 16u);
  EXPECT_TRUE(DocView((*colls)[0].options).find("capped").as_bool());
  auto idx = list_indexes(conn, "app", "missing");
  ASSERT_TRUE(idx);
  EXPECT_TRUE(idx->empty());
  auto n = count(conn, "app", "users");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 12);
  auto bi = build_info(conn);
  ASSERT_TRUE(bi);
  EXPECT_EQ(bi->version, "7.0.2");
  EXPECT_EQ(bi->version_array, (std::vector<std::int32_t>{7, 0, 2, 0}));
  EXPECT_TRUE(rename_collection(conn, "app.a", "app.b", true));
  Builder ix;
  ix.open_document("key");
  ix.append_int32("a", 1);
  ix.close();
  ix.append_string("name", "a_1");
  Bytes ixb = ix.finish();
  EXPECT_TRUE(create_indexes(conn, "app", "users", {DocView(ixb)}));
  EXPECT_TRUE(drop_indexes(conn, "app", "users", "*"));
  EXPECT_TRUE(create_collection(conn, "app", "new"));
  EXPECT_TRUE(drop_database(conn, "app"));
}

}  // namespace
}  // namespace bsonpipe::io
