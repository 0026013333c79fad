#include "fake_server.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

namespace bsonpipe::io::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using formats::BsonType;
using formats::Builder;
using minimongod::ScramServer;

Bytes ok_reply(const std::function<void(Builder&)>& extra) {
  Builder b;
  if (extra) extra(b);
  b.append_double("ok", 1.0);
  return b.finish();
}

Bytes cursor_reply(std::int64_t id, const std::string& ns, const std::vector<Bytes>& docs, bool first) {
  Builder b;
  b.open_document("cursor");
  b.append_int64("id", id);
  b.append_string("ns", ns);
  b.open_array(first ? "firstBatch" : "nextBatch");
  for (const auto& d : docs) b.append_document(b.next_array_key(), DocView(d));
  b.close();
  b.close();
  b.append_double("ok", 1.0);
  return b.finish();
}

struct FakeServer::Impl {
  Handler handler;
  FakeServerOptions opts;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::thread accept_thread;
  mutable std::mutex mu;
  std::vector<std::thread> conn_threads;
  std::vector<int> fds;
  std::vector<SeenCommand> seen;
  Bytes handshake;
  std::atomic<bool> stopping{false};

  Bytes hello(DocView request) {
    Builder b;
    b.append_bool("isWritablePrimary", !opts.secondary);
    b.append_bool("ismaster", !opts.secondary);
    if (!opts.set_name.empty()) {
      b.append_string("setName", opts.set_name);
      b.append_bool("secondary", opts.secondary);
    }
    b.append_int32("maxBsonObjectSize", 16 * 1024 * 1024);
    b.append_int32("maxMessageSizeBytes", 48000000);
    b.append_int32("maxWriteBatchSize", 100000);
    b.append_int32("minWireVersion", 0);
    b.append_int32("maxWireVersion", 17);
    b.append_int32("connectionId", 42);
    b.open_array("compression");
    if (auto c = request.find("compression"); c.valid() && c.type() == BsonType::kArray)
      for (auto e : c.as_document())
        for (const auto& mine : opts.compressors)
          if (e.as_string() == mine) b.append_string(b.next_array_key(), mine);
    b.close();
    if (request.find("saslSupportedMechs").valid()) {
      b.open_array("saslSupportedMechs");
      if (opts.credentials) b.append_string("0", mechanism_name(opts.credentials->mechanism));
      b.close();
    }
    b.append_double("ok", 1.0);
    return b.finish();
  }

  void serve(tcp::socket& sock) {
    std::optional<ScramServer> scram;
    for (;;) {
      std::uint8_t head[kHeaderSize];
      boost::system::error_code ec;
      asio::read(sock, asio::buffer(head, kHeaderSize), ec);
      if (ec) return;
      std::int32_t len = formats::load_i32(head);
      if (len < static_cast<std::int32_t>(kHeaderSize) || len > 48'000'000) return;
      Bytes buf(static_cast<std::size_t>(len));
      std::memcpy(buf.data(), head, kHeaderSize);
      asio::read(sock, asio::buffer(buf.data() + kHeaderSize, buf.size() - kHeaderSize), ec);
      if (ec) return;
      auto m = decode_owned(std::move(buf), {.validate_documents = true});
      if (!m) return;
      const std::int32_t req_id = m->view.header.request_id;
      if (const auto* q = m->view.query()) {
        {
          std::lock_guard lock(mu);
          handshake.assign(q->query.bytes().begin(), q->query.bytes().end());
        }
        if (opts.never_answer_handshake) continue;
        Bytes h = hello(q->query);
        auto r = encode_op_reply(next_request_id(), req_id, {.documents = h});
        asio::write(sock, asio::buffer(r->flatten()), ec);
        if (ec) return;
        continue;
      }
      const OpMsgView* msg = m->view.msg();
      if (msg == nullptr) return;
      std::string name(msg->body.begin() == msg->body.end() ? "" : (*msg->body.begin()).key());
      SeenCommand sc{name, Bytes(msg->body.bytes().begin(), msg->body.bytes().end()), m->was_compressed,
                     msg->checksum_present()};
      for (const auto& s : msg->sequences) sc.sequences.emplace_back(std::string(s.identifier), s.count);
      {
        std::lock_guard lock(mu);
        seen.push_back(std::move(sc));
      }
      FakeResponse resp;
      if (name == "saslStart" || name == "saslContinue") {
        resp = sasl(name, msg->body, scram);
      } else {
        resp = handler(name, msg->body, *msg);
      }
      if (resp.kind == FakeResponse::Kind::kClose) return;
      if (resp.kind == FakeResponse::Kind::kStall) continue;
      auto out = encode_op_msg(next_request_id(), req_id, {.body = resp.body});
      if (!out) return;
      Bytes wire;
      if (m->was_compressed) {
        auto z = compress_message(*out, m->compressor);
        if (!z) return;
        wire = z->flatten();
      } else {
        wire = out->flatten();
      }
      asio::write(sock, asio::buffer(wire), ec);
      if (ec) return;
    }
  }

  FakeResponse sasl(const std::string& name, DocView body, std::optional<ScramServer>& scram) {
    auto fail = [](const std::string& why) {
      Builder b;
      b.append_double("ok", 0.0);
      b.append_string("errmsg", "Authentication failed. " + why);
      b.append_int32("code", 18);
      b.append_string("codeName", "AuthenticationFailed");
      return FakeResponse::reply(b.finish());
    };
    if (!opts.credentials) return fail("no users");
    auto payload = body.find("payload").as_binary().data;
    std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
    std::string out;
    bool done = false;
    if (name == "saslStart") {
      scram.emplace(opts.credentials->mechanism);
      auto user = scram->receive_client_first(text);
      if (!user || *user != opts.user) return fail("unknown user");
      auto sf = scram->server_first(*opts.credentials);
      if (!sf) return fail(sf.status().message());
      out = *sf;
    } else {
      if (!scram) return fail("no conversation");
      if (scram->done()) {
        done = true;
      } else {
        auto fin = scram->receive_client_final(text);
        if (!fin) return fail(fin.status().message());
        out = *fin;
        done = true;
      }
    }
    Builder b;
    b.append_int32("conversationId", 1);
    b.append_bool("done", done);
    b.append_binary("payload", 0, as_bytes(out));
    b.append_double("ok", 1.0);
    return FakeResponse::reply(b.finish());
  }
};

FakeServer::FakeServer(Handler handler, FakeServerOptions opts) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->opts = std::move(opts);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept_thread = std::thread([this] {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s(impl_->ioc);
      impl_->acceptor.accept(s, ec);
      if (impl_->stopping.load() || ec) return;
      ++accepted_;
      std::lock_guard lock(impl_->mu);
      const int fd = s.native_handle();
      impl_->fds.push_back(fd);
      impl_->conn_threads.emplace_back([this, fd, sock = std::move(s)]() mutable {
        impl_->serve(sock);
        // Forget the fd before the socket closes, so shutdown() never hits a reused descriptor.
        std::lock_guard l(impl_->mu);
        std::erase(impl_->fds, fd);
      });
    }
  });
}

FakeServer::~FakeServer() {
  impl_->stopping.store(true);
  {  // Wake the blocking accept with a throwaway connection.
    asio::io_context ioc;
    tcp::socket s(ioc);
    boost::system::error_code ec;
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
  }
  impl_->accept_thread.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mu);
    // shutdown(2) on the fds unblocks reads in the connection threads (the sockets stay owned
    // by those threads, which close them on exit).
    for (int fd : impl_->fds) ::shutdown(fd, SHUT_RDWR);
    threads.swap(impl_->conn_threads);
  }
  for (auto& t : threads) t.join();
}

std::vector<SeenCommand> FakeServer::seen() const {
  std::lock_guard lock(impl_->mu);
  return impl_->seen;
}

Bytes FakeServer::last_handshake() const {
  std::lock_guard lock(impl_->mu);
  return impl_->handshake;
}

}  // namespace bsonpipe::io::test
