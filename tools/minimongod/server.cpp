#include "tools/minimongod/server.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <iostream>

#include "io/wire.hpp"
#include "tools/minimongod/engine_internal.hpp"
#include "tools/minimongod/fault_gate.hpp"

namespace bsonpipe::minimongod {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Commands whose replies must never be compressed (the compression spec).
bool never_compress(std::string_view name) {
  return name == "hello" || name == "isMaster" || name == "ismaster" || name == "saslStart" || name == "saslContinue" ||
         name == "getnonce" || name == "authenticate" || name == "createUser" || name == "updateUser" ||
         name == "copydbSaslStart" || name == "copydbgetnonce" || name == "copydb";
}

// A command's writeConcern.w as text ("majority", "1"); "" when absent.
std::string write_concern_w(formats::DocView command) {
  formats::ElementView wc = command.find("writeConcern");
  if (!wc.valid() || wc.type() != formats::BsonType::kDocument) return {};
  formats::ElementView w = wc.as_document().find("w");
  if (!w.valid()) return {};
  if (w.type() == formats::BsonType::kString) return std::string(w.as_string());
  if (w.type() == formats::BsonType::kInt32 || w.type() == formats::BsonType::kInt64 ||
      w.type() == formats::BsonType::kDouble)
    return std::to_string(static_cast<long long>(w.number_as_double()));
  return "?";
}

// The peer certificate's subject in RFC 2253 form (most specific attribute first, special
// characters escaped), which is how mongod names a MONGODB-X509 user; empty without one. The
// handshake already verified it against the CA file.
std::string peer_subject(SSL* ssl) {
  X509* cert = SSL_get_peer_certificate(ssl);
  if (cert == nullptr) return {};
  std::string out;
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
      char* data = nullptr;
      long n = BIO_get_mem_data(bio, &data);
      if (n > 0 && data != nullptr) out.assign(data, static_cast<std::size_t>(n));
    }
    BIO_free(bio);
  }
  X509_free(cert);
  return out;
}

}  // namespace

struct Server::Impl {
  struct Conn {
    tcp::socket socket;
    std::thread thread;
    std::atomic<bool> done{false};
    explicit Conn(tcp::socket s) : socket(std::move(s)) {}
  };

  explicit Impl(Engine& e, const ServerOptions& o) : engine(e), opts(o), acceptor(ctx) {}

  Engine& engine;
  const ServerOptions& opts;
  asio::io_context ctx;  // only owns the sockets; all I/O is blocking, one thread per connection
  tcp::acceptor acceptor;
  std::unique_ptr<asio::ssl::context> tls;
  std::thread accept_thread;
  std::mutex mu;
  std::list<std::shared_ptr<Conn>> conns;  // guarded by mu
  std::atomic<bool> stopping{false};
  FaultGate gate;  // used only with opts.fault_gate

  void reap_locked() {
    for (auto it = conns.begin(); it != conns.end();) {
      if ((*it)->done) {
        if ((*it)->thread.joinable()) (*it)->thread.join();
        it = conns.erase(it);
      } else {
        ++it;
      }
    }
  }

  void accept_loop() {
    while (!stopping) {
      boost::system::error_code ec;
      tcp::socket s(ctx);
      acceptor.accept(s, ec);
      if (ec) {
        if (stopping) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      s.set_option(tcp::no_delay(true), ec);
      std::lock_guard lock(mu);
      reap_locked();
      if (stopping || conns.size() >= opts.max_connections) continue;  // socket closes here
      auto c = std::make_shared<Conn>(std::move(s));
      conns.push_back(c);
      c->thread = std::thread([this, c] {
        serve(*c);
        boost::system::error_code ignored;
        c->socket.shutdown(tcp::socket::shutdown_both, ignored);
        c->done = true;
      });
    }
  }

  void serve(Conn& c) {
    if (tls) {
      asio::ssl::stream<tcp::socket&> stream(c.socket, *tls);
      boost::system::error_code ec;
      stream.handshake(asio::ssl::stream_base::server, ec);
      if (ec) return;
      // No TLS close_notify exchange: it would block on a client that keeps the socket open.
      serve_stream(stream, peer_subject(stream.native_handle()));
    } else {
      serve_stream(c.socket, {});
    }
  }

  template <class Stream>
  void serve_stream(Stream& stream, std::string client_subject) {
    Session session;
    session.client_subject = std::move(client_subject);
    session.connection_id = engine.new_connection_id();
    int replies = 0;
    boost::system::error_code ec;
    std::array<std::uint8_t, io::kHeaderSize> head{};
    while (!stopping) {
      asio::read(stream, asio::buffer(head), ec);
      if (ec) return;
      auto h = io::parse_header(formats::ByteSpan(head.data(), head.size()), kMaxMessageSizeBytes);
      if (!h) return;
      Bytes msg(static_cast<std::size_t>(h->message_length));
      std::memcpy(msg.data(), head.data(), head.size());
      asio::read(stream, asio::buffer(msg.data() + head.size(), msg.size() - head.size()), ec);
      if (ec) return;
      auto decoded =
          io::decode_owned(std::move(msg), {.max_message_size = kMaxMessageSizeBytes, .validate_documents = true});
      if (!decoded) return;
      if (opts.fault_delay_ms > 0 && opts.fault_delay_command.empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(opts.fault_delay_ms));
      auto out = handle(session, *decoded);
      if (!out) return;                    // protocol error: drop the connection as the server does
      if (out->msg.size() == 0) continue;  // moreToCome: no reply
      std::vector<asio::const_buffer> bufs;
      for (auto& b : out->msg.buffers()) bufs.emplace_back(b.data(), b.size());
      asio::write(stream, bufs, ec);
      if (ec) return;
      if (opts.fault_close_after > 0 && ++replies >= opts.fault_close_after) return;
    }
  }

  // --fault-corrupt: the first document of the reply's cursor batch claims to be longer than the
  // whole reply.
  static void corrupt_first_batch_document(Bytes& body) {
    ElementView c = DocView(body).find("cursor");
    if (!c.valid() || c.type() != BsonType::kDocument) return;
    ElementView batch = c.as_document().find("firstBatch");
    if (!batch.valid()) batch = c.as_document().find("nextBatch");
    if (!batch.valid() || batch.type() != BsonType::kArray || batch.as_document().empty()) return;
    ElementView first = *batch.as_document().begin();
    auto at = static_cast<std::size_t>(first.value().data() - body.data());
    const std::uint8_t huge[4] = {0x00, 0xFF, 0xFF, 0x7F};  // 0x7FFFFF00, little-endian
    std::memcpy(body.data() + at, huge, sizeof huge);
  }

  // A reply ready to send: `msg` may borrow `body` (moving a vector keeps its heap buffer).
  struct Outgoing {
    Bytes body;
    io::OutgoingMessage msg;
  };

  // The reply, an empty message when none is due, or an error to drop the connection.
  Result<Outgoing> handle(Session& session, const io::OwnedMessage& m) {
    const auto& header = m.view.header;
    Outgoing out;
    if (const io::OpQueryView* q = m.view.query()) {
      auto name = q->full_collection_name;
      if (name.size() < 5 || name.substr(name.size() - 5) != ".$cmd")
        return Status(ErrorCode::kInvalidArgument, "OP_QUERY is only supported for commands");
      DocView query = q->query;
      ElementView wrapped = query.find("$query");
      if (!wrapped.valid()) wrapped = query.find("query");
      if (wrapped.valid() && wrapped.type() == BsonType::kDocument) query = wrapped.as_document();
      formats::Builder b;
      for (auto e : query)
        if (e.key() != "$db") b.append_raw_element(e.raw());
      b.append_string("$db", name.substr(0, name.size() - 5));
      Bytes body = b.finish();
      out.body = engine.run(session, DocView(body));
      io::OpReplyOut r;
      r.response_flags = io::kReplyAwaitCapable;
      r.documents = out.body;
      auto enc = io::encode_op_reply(io::next_request_id(), header.request_id, r);
      if (!enc) return enc.status();
      out.msg = std::move(*enc);
      return out;
    }
    const io::OpMsgView* msg = m.view.msg();
    if (msg == nullptr) return Status(ErrorCode::kInvalidArgument, "unsupported opcode");
    std::vector<Sequence> seqs;
    seqs.reserve(msg->sequences.size());
    for (auto& s : msg->sequences) seqs.push_back({s.identifier, s.documents});
    std::string_view cmd_name;
    if (auto it = msg->body.begin(); it != msg->body.end()) cmd_name = (*it).key();
    if (opts.fault_delay_ms > 0 && !opts.fault_delay_command.empty() && cmd_name == opts.fault_delay_command)
      std::this_thread::sleep_for(std::chrono::milliseconds(opts.fault_delay_ms));
    const bool check_w = !opts.require_write_concern.empty() && cmd_name == "insert";
    const std::string sent_w = check_w ? write_concern_w(msg->body) : std::string();
    if (check_w && sent_w != opts.require_write_concern) {
      out.body = error_reply({code::kBadValue, "this server requires writeConcern {w: " + opts.require_write_concern +
                                                   "}, the insert sent '" + sent_w + "'"});
    } else if (opts.fault_gate && FaultGate::is_control(msg->body)) {
      out.body = gate.control(msg->body);
    } else {
      if (opts.fault_gate) gate.pass(msg->body);  // may wait here until the test opens the gate
      out.body = engine.run(session, CommandRequest{msg->body, seqs});
    }
    if (msg->more_to_come()) return out;
    if (!opts.fault_corrupt.empty() && cmd_name == opts.fault_corrupt) corrupt_first_batch_document(out.body);
    io::OpMsgOut reply;
    reply.body = out.body;
    auto enc = io::encode_op_msg(io::next_request_id(), header.request_id, reply, kMaxMessageSizeBytes);
    if (!enc) {
      out.body = error_reply({code::kBSONObjectTooLarge, "reply too large: " + enc.status().to_string()});
      reply.body = out.body;
      enc = io::encode_op_msg(io::next_request_id(), header.request_id, reply);
      if (!enc) return enc.status();
    }
    if (m.was_compressed && m.compressor != io::CompressorId::kNoop && !never_compress(cmd_name) &&
        std::find(session.compression.begin(), session.compression.end(), io::compressor_name(m.compressor)) !=
            session.compression.end()) {
      if (auto z = io::compress_message(*enc, m.compressor)) {
        out.msg = std::move(*z);
        return out;
      }
    }
    out.msg = std::move(*enc);
    return out;
  }
};
Server::Server(Engine& engine, ServerOptions opts) : engine_(engine), opts_(std::move(opts)) {}

Server::~Server() {
  stop();
}

Status Server::start() {
  if (opts_.bind != "127.0.0.1" && opts_.bind != "::1" && opts_.bind != "localhost")
    return Status(ErrorCode::kInvalidArgument, "minimongod binds to loopback addresses only");
  impl_ = std::make_unique<Impl>(engine_, opts_);
  boost::system::error_code ec;
  if (!opts_.tls_certificate_key_file.empty()) {
    impl_->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    impl_->tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                                asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                                asio::ssl::context::no_tlsv1_1,
                            ec);
    impl_->tls->use_certificate_chain_file(opts_.tls_certificate_key_file, ec);
    if (!ec) impl_->tls->use_private_key_file(opts_.tls_certificate_key_file, asio::ssl::context::pem, ec);
    if (ec)
      return Status(ErrorCode::kIo, "TLS certificate/key " + opts_.tls_certificate_key_file + ": " + ec.message());
    if (!opts_.tls_ca_file.empty()) {
      impl_->tls->load_verify_file(opts_.tls_ca_file, ec);
      if (ec) return Status(ErrorCode::kIo, "TLS CA file " + opts_.tls_ca_file + ": " + ec.message());
      // The CA names go into the certificate request, so a client can pick the matching certificate.
      if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(opts_.tls_ca_file.c_str()))
        SSL_CTX_set_client_CA_list(impl_->tls->native_handle(), names);
      auto mode = asio::ssl::verify_peer;
      if (opts_.tls_require_client_cert) mode |= asio::ssl::verify_fail_if_no_peer_cert;
      impl_->tls->set_verify_mode(mode, ec);
      if (ec) return Status(ErrorCode::kIo, "TLS verify mode: " + ec.message());
    }
  } else if (!opts_.tls_ca_file.empty() || opts_.tls_require_client_cert) {
    return Status(ErrorCode::kInvalidArgument, "--tlsCAFile and --tlsRequireClientCert need --tlsCertificateKeyFile");
  }
  if (opts_.tls_require_client_cert && opts_.tls_ca_file.empty())
    return Status(ErrorCode::kInvalidArgument, "--tlsRequireClientCert needs --tlsCAFile");
  auto addr = asio::ip::make_address(opts_.bind == "localhost" ? "127.0.0.1" : opts_.bind, ec);
  if (ec) return Status(ErrorCode::kInvalidArgument, "bad bind address " + opts_.bind);
  tcp::endpoint ep(addr, opts_.port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status(ErrorCode::kNetwork,
                  "cannot listen on " + opts_.bind + ":" + std::to_string(opts_.port) + ": " + ec.message());
  port_ = impl_->acceptor.local_endpoint().port();
  engine_.set_host((addr.is_v6() ? "[" + opts_.bind + "]" : addr.to_string()) + ":" + std::to_string(port_));
  impl_->accept_thread = std::thread([this] { impl_->accept_loop(); });
  return Status::ok();
}

void Server::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  impl_->gate.shutdown();  // commands held by --fault-gate go on, so their threads can be joined
  // shutdown(2) wakes threads blocked in accept/read on these sockets; close happens after join.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  std::list<std::shared_ptr<Impl::Conn>> conns;
  {
    std::lock_guard lock(impl_->mu);
    conns.swap(impl_->conns);
  }
  for (auto& c : conns) ::shutdown(c->socket.native_handle(), SHUT_RDWR);
  for (auto& c : conns)
    if (c->thread.joinable()) c->thread.join();
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}

}  // namespace bsonpipe::minimongod
