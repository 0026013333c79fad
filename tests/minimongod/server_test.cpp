#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "io/wire.hpp"
#include "tests/minimongod/mm_util.hpp"
#include "tools/minimongod/server.hpp"

namespace bsonpipe::minimongod::test {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// A minimal blocking client over the io/wire codec.
class Client {
 public:
  explicit Client(std::uint16_t port) : socket_(ctx_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  void send(const io::OutgoingMessage& m) {
    std::vector<asio::const_buffer> bufs;
    for (auto& b : m.buffers()) bufs.emplace_back(b.data(), b.size());
    asio::write(socket_, bufs);
  }
  // Reads one message; returns false on EOF.
  bool receive(io::OwnedMessage& out) {
    std::array<std::uint8_t, 16> head{};
    boost::system::error_code ec;
    asio::read(socket_, asio::buffer(head), ec);
    if (ec) return false;
    auto h = io::parse_header(formats::ByteSpan(head.data(), head.size()));
    if (!h.is_ok()) return false;
    Bytes msg(static_cast<std::size_t>(h->message_length));
    std::memcpy(msg.data(), head.data(), 16);
    asio::read(socket_, asio::buffer(msg.data() + 16, msg.size() - 16), ec);
    if (ec) return false;
    auto d = io::decode_owned(std::move(msg));
    if (!d.is_ok()) return false;
    out = std::move(*d);
    return true;
  }
  // OP_MSG command; returns the reply body.
  Bytes command(const Bytes& body, std::vector<io::SequenceOut> seqs = {},
                io::CompressorId compress = io::CompressorId::kNoop, bool* reply_compressed = nullptr) {
    io::OpMsgOut m;
    m.body = body;
    m.sequences = std::move(seqs);
    auto enc = io::encode_op_msg(io::next_request_id(), 0, m);
    EXPECT_TRUE(enc.is_ok());
    if (compress != io::CompressorId::kNoop) {
      auto z = io::compress_message(*enc, compress);
      EXPECT_TRUE(z.is_ok());
      send(*z);
    } else {
      send(*enc);
    }
    io::OwnedMessage r;
    if (!receive(r) || !r.view.msg()) return {};
    if (reply_compressed) *reply_compressed = r.was_compressed;
    DocView b = r.view.msg()->body;
    return Bytes(b.bytes().begin(), b.bytes().end());
  }

 private:
  asio::io_context ctx_;
  tcp::socket socket_;
};

Bytes with_db(std::string_view json, std::string_view db = "test") {
  Bytes body = J(json);
  Builder b;
  for (auto e : DocView(body)) b.append_raw_element(e.raw());
  b.append_string("$db", db);
  return b.finish();
}

TEST(Server, OpQueryHandshakeThenOpMsgCrud) {
  Engine engine;
  Server server(engine, {});
  ASSERT_TRUE(server.start().is_ok());
  ASSERT_NE(server.port(), 0);
  Client c(server.port());

  // Legacy handshake: OP_QUERY isMaster on admin.$cmd, answered with OP_REPLY.
  Bytes q = J(R"({"isMaster":1,"helloOk":true,"compression":["zstd"],"client":{"application":{"name":"t"}}})");
  io::OpQueryOut oq;
  oq.full_collection_name = "admin.$cmd";
  oq.query = q;
  c.send(io::encode_op_query(io::next_request_id(), oq));
  io::OwnedMessage m;
  ASSERT_TRUE(c.receive(m));
  ASSERT_NE(m.view.reply(), nullptr);
  DocView hello = m.view.reply()->first();
  EXPECT_TRUE(hello.find("ismaster").as_bool());
  EXPECT_EQ(num(hello, "maxWireVersion"), kMaxWireVersion);
  EXPECT_EQ(hello.find_path("compression.0").as_string(), "zstd");

  // Insert via a kind-1 document sequence.
  Bytes docs;
  for (int i = 0; i < 300; ++i) {
    Builder b;
    b.append_int32("_id", i).append_string("s", "value " + std::to_string(i));
    Bytes d = b.finish();
    docs.insert(docs.end(), d.begin(), d.end());
  }
  Bytes r = c.command(with_db(R"({"insert":"c","ordered":false,"lsid":{"id":1}})"), {{"documents", docs}});
  ASSERT_TRUE(ok(r));
  EXPECT_EQ(num(DocView(r), "n"), 300);

  // find / getMore over the wire, then a compressed round trip.
  r = c.command(with_db(R"({"find":"c","filter":{"_id":{"$gte":100}},"batchSize":150})"));
  EXPECT_EQ(batch(r).size(), 150u);
  std::int64_t id = cursor_id(r);
  ASSERT_NE(id, 0);
  bool compressed = false;
  r = c.command(with_db(R"({"getMore":{"$numberLong":")" + std::to_string(id) + R"("},"collection":"c"})"), {},
                io::CompressorId::kZstd, &compressed);
  EXPECT_TRUE(compressed);
  auto rest = batch(r);
  ASSERT_EQ(rest.size(), 50u);
  EXPECT_EQ(num(DocView(rest.back()), "_id"), 299);
  EXPECT_EQ(cursor_id(r), 0);

  // zlib was not negotiated: the reply comes back uncompressed but correct.
  r = c.command(with_db(R"({"count":"c"})"), {}, io::CompressorId::kZlib, &compressed);
  EXPECT_FALSE(compressed);
  EXPECT_EQ(num(DocView(r), "n"), 300);
  r = c.command(with_db(R"({"nope":1})"));
  EXPECT_EQ(code(r), 59);
  server.stop();
}

TEST(Server, FaultCloseAfterAndDelay) {
  Engine engine;
  ServerOptions o;
  o.fault_close_after = 2;
  Server server(engine, o);
  ASSERT_TRUE(server.start().is_ok());
  Client c(server.port());
  EXPECT_TRUE(ok(c.command(with_db(R"({"ping":1})", "admin"))));
  EXPECT_TRUE(ok(c.command(with_db(R"({"ping":1})", "admin"))));
  EXPECT_TRUE(c.command(with_db(R"({"ping":1})", "admin")).empty());  // closed
  Client d(server.port());                                            // a new connection works again
  EXPECT_TRUE(ok(d.command(with_db(R"({"ping":1})", "admin"))));
}

TEST(Server, ManyConnectionsInParallel) {
  Engine engine;
  Server server(engine, {});
  ASSERT_TRUE(server.start().is_ok());
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Client c(server.port());
      for (int i = 0; i < 50; ++i) {
        Bytes r = c.command(with_db(R"({"insert":"p","documents":[{"t":)" + std::to_string(t) + "}]}"));
        if (ok(r)) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 400);
  Client c(server.port());
  EXPECT_EQ(num(DocView(c.command(with_db(R"({"count":"p"})"))), "n"), 400);
  server.stop();
}

}  // namespace
}  // namespace bsonpipe::minimongod::test
