#include "io/connection.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "io/auth_x509.hpp"
#include "io/scram.hpp"

namespace bsonpipe::io {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using formats::BsonType;
using formats::Builder;
using std::chrono::milliseconds;

namespace {

constexpr std::string_view kDriverName = "bsonpipe";
constexpr std::string_view kDriverVersion = "0.1.0";
// OP_MSG needs wire version 6 (MongoDB 3.6).
constexpr std::int32_t kMinWireVersion = 6;

bool reply_ok(DocView body) {
  auto ok = body.find("ok");
  if (!ok.valid()) return false;
  if (ok.type() == BsonType::kBool) return ok.as_bool();
  return ok.number_as_double() == 1.0;
}

// Commands whose bodies must never be compressed (the compression spec).
bool compressible(DocView cmd) {
  auto it = cmd.begin();
  if (it == cmd.end()) return true;
  std::string_view name = (*it).key();
  static constexpr std::string_view kNever[] = {"hello",        "isMaster",        "ismaster",       "saslStart",
                                                "saslContinue", "getnonce",        "authenticate",   "createUser",
                                                "updateUser",   "copydbSaslStart", "copydbgetnonce", "copydb"};
  return std::find(std::begin(kNever), std::end(kNever), name) == std::end(kNever);
}

std::int64_t as_int(const formats::ElementView& e, std::int64_t fallback) {
  if (!e.valid()) return fallback;
  switch (e.type()) {
    case BsonType::kInt32: return e.as_int32();
    case BsonType::kInt64: return e.as_int64();
    case BsonType::kDouble: return static_cast<std::int64_t>(e.as_double());
    default: return fallback;
  }
}

bool as_flag(const formats::ElementView& e) {
  if (!e.valid()) return false;
  if (e.type() == BsonType::kBool) return e.as_bool();
  return e.number_as_double() != 0;
}

std::vector<std::string> string_array(const formats::ElementView& e) {
  std::vector<std::string> out;
  if (!e.valid() || e.type() != BsonType::kArray) return out;
  for (auto x : e.as_document())
    if (x.type() == BsonType::kString) out.emplace_back(x.as_string());
  return out;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

std::string_view topology_kind_name(TopologyKind k) {
  switch (k) {
    case TopologyKind::kStandalone: return "standalone";
    case TopologyKind::kReplicaSetPrimary: return "replica-set primary";
    case TopologyKind::kReplicaSetSecondary: return "replica-set secondary";
    case TopologyKind::kReplicaSetOther: return "replica-set member";
    case TopologyKind::kMongos: return "mongos";
  }
  return "unknown";
}

ConnectOptions ConnectOptions::from_uri(const Uri& uri, const HostPort& host) {
  ConnectOptions o;
  o.host = host;
  o.tls = uri.tls;
  o.connect_timeout = uri.connect_timeout;
  o.socket_timeout = uri.socket_timeout;
  o.app_name = uri.app_name;
  o.compressors = uri.compressors;
  o.zlib_level = uri.zlib_compression_level;
  // MONGODB-X509 needs no user name: the server takes it from the client certificate.
  if (uri.has_credentials || uri.auth_mechanism == kX509Mechanism)
    o.credentials = Credentials{uri.username, uri.password, uri.auth_database(), uri.auth_mechanism};
  return o;
}

DocView Reply::body() const {
  if (const auto* m = message.view.msg()) return m->body;
  if (const auto* r = message.view.reply()) return r->first();
  return {};
}

ServerInfo parse_hello(DocView reply, const std::vector<CompressorId>& offered) {
  ServerInfo s;
  s.max_bson_object_size = static_cast<std::size_t>(as_int(reply.find("maxBsonObjectSize"), kDefaultMaxBsonObjectSize));
  s.max_message_size_bytes =
      static_cast<std::size_t>(as_int(reply.find("maxMessageSizeBytes"), kDefaultMaxMessageSize));
  s.max_write_batch_size = static_cast<std::size_t>(as_int(reply.find("maxWriteBatchSize"), kDefaultMaxWriteBatchSize));
  s.min_wire_version = static_cast<std::int32_t>(as_int(reply.find("minWireVersion"), 0));
  s.max_wire_version = static_cast<std::int32_t>(as_int(reply.find("maxWireVersion"), 0));
  s.connection_id = as_int(reply.find("connectionId"), 0);
  if (auto e = reply.find("setName"); e.valid() && e.type() == BsonType::kString)
    s.set_name = std::string(e.as_string());
  if (auto e = reply.find("me"); e.valid() && e.type() == BsonType::kString) s.me = std::string(e.as_string());
  if (auto e = reply.find("primary"); e.valid() && e.type() == BsonType::kString)
    s.primary = std::string(e.as_string());
  s.hosts = string_array(reply.find("hosts"));
  s.sasl_supported_mechs = string_array(reply.find("saslSupportedMechs"));
  bool writable = as_flag(reply.find("isWritablePrimary")) || as_flag(reply.find("ismaster"));
  auto msg = reply.find("msg");
  if (msg.valid() && msg.type() == BsonType::kString && msg.as_string() == "isdbgrid") {
    s.kind = TopologyKind::kMongos;
  } else if (!s.set_name.empty()) {
    if (writable)
      s.kind = TopologyKind::kReplicaSetPrimary;
    else if (as_flag(reply.find("secondary")))
      s.kind = TopologyKind::kReplicaSetSecondary;
    else
      s.kind = TopologyKind::kReplicaSetOther;
  } else if (as_flag(reply.find("isreplicaset"))) {
    s.kind = TopologyKind::kReplicaSetOther;
  } else {
    s.kind = TopologyKind::kStandalone;
  }
  // The server answers with the subset of our list it supports; the first in our order wins.
  auto accepted = string_array(reply.find("compression"));
  for (CompressorId id : offered) {
    if (std::find(accepted.begin(), accepted.end(), compressor_name(id)) != accepted.end()) {
      s.compressor = id;
      break;
    }
  }
  return s;
}

Bytes make_handshake_command(const ConnectOptions& opts, const std::string& user_for_mechs) {
  Builder b;
  b.append_int32("isMaster", 1);
  b.append_bool("helloOk", true);
  b.open_document("client");
  if (!opts.app_name.empty()) {
    b.open_document("application");
    b.append_string("name", opts.app_name);
    b.close();
  }
  b.open_document("driver");
  b.append_string("name", kDriverName);
  b.append_string("version", kDriverVersion);
  b.close();
  b.open_document("os");
  b.append_string("type", "Linux");
  b.close();
  b.append_string("platform", "C++20, Boost.Asio");
  b.close();
  b.open_array("compression");
  for (CompressorId id : opts.compressors) b.append_string(b.next_array_key(), compressor_name(id));
  b.close();
  if (!user_for_mechs.empty()) b.append_string("saslSupportedMechs", user_for_mechs);
  return b.finish();
}

// ---------------------------------------------------------------------------------------------

struct Connection::Impl {
  asio::io_context ioc{1};
  tcp::resolver resolver{ioc};
  tcp::socket socket{ioc};
  asio::steady_timer timer{ioc};
  std::unique_ptr<asio::ssl::context> ssl_ctx;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;
  std::atomic<bool> cancelled{false};

  // Stops whatever is in flight; the connection is unusable afterwards.
  void abort_io() {
    resolver.cancel();
    boost::system::error_code ig;
    socket.close(ig);
  }

  // Runs one asynchronous operation to completion on this thread, bounded by `timeout`.
  // `start(complete)` must begin exactly one operation that calls complete(error_code).
  template <class Start>
  Error run(Start&& start, milliseconds timeout, const std::string& what) {
    if (cancelled.load()) return Status(ErrorCode::kCancelled, what + ": cancelled");
    bool done = false;
    bool timer_pending = false;
    bool timer_cancelled = false;
    bool timed_out = false;
    boost::system::error_code result;
    ioc.restart();
    start([&](boost::system::error_code ec) {
      result = ec;
      done = true;
    });
    if (timeout.count() > 0) {
      timer.expires_after(timeout);
      timer_pending = true;
      timer.async_wait([&](boost::system::error_code ec) {
        timer_pending = false;
        if (!ec && !done) {
          timed_out = true;
          abort_io();
        }
      });
    }
    while (!done || timer_pending) {
      if (done && timer_pending && !timer_cancelled) {
        timer.cancel();
        timer_cancelled = true;
      }
      if (ioc.run_one() == 0) {
        // Stopped without completing (cannot happen while work is pending); fail safe.
        if (!done) return Error::network(what + ": I/O loop stopped");
        break;
      }
    }
    if (cancelled.load()) return Status(ErrorCode::kCancelled, what + ": cancelled");
    if (timed_out) return Error::network(what + ": timed out after " + std::to_string(timeout.count()) + " ms");
    if (result) return Error::network(what + ": " + result.message());
    return {};
  }

  template <class F>
  auto with_stream(F&& f) {
    if (tls) return f(*tls);
    return f(socket);
  }
};

Connection::Connection(const ConnectOptions& opts) : opts_(opts), impl_(std::make_unique<Impl>()) {}

Connection::~Connection() {
  if (impl_) impl_->abort_io();
}

void Connection::cancel() {
  impl_->cancelled.store(true);
  // post() is thread-safe; the handler runs inside the owner's next run_one.
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->abort_io(); });
}

milliseconds Connection::effective(milliseconds t) const {
  return t.count() > 0 ? t : opts_.socket_timeout;
}

Expected<std::unique_ptr<Connection>> Connection::open(const ConnectOptions& opts) {
  std::unique_ptr<Connection> c(new Connection(opts));
  Impl& im = *c->impl_;
  const std::string where = opts.host.to_string();
  const auto deadline = std::chrono::steady_clock::now() + opts.connect_timeout;
  auto remaining = [&]() -> milliseconds {
    if (opts.connect_timeout.count() <= 0) return milliseconds(0);
    auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    return std::max(left, milliseconds(1));
  };

  tcp::resolver::results_type endpoints;
  Error e = im.run(
      [&](auto complete) {
        im.resolver.async_resolve(opts.host.host, std::to_string(opts.host.port),
                                  [&, complete](boost::system::error_code ec, tcp::resolver::results_type r) {
                                    endpoints = std::move(r);
                                    complete(ec);
                                  });
      },
      remaining(), "resolving " + where);
  if (!e) return e;
  e = im.run(
      [&](auto complete) {
        asio::async_connect(im.socket, endpoints,
                            [complete](boost::system::error_code ec, const tcp::endpoint&) { complete(ec); });
      },
      remaining(), "connecting to " + where);
  if (!e) return e;
  boost::system::error_code ig;
  im.socket.set_option(tcp::no_delay(true), ig);

  if (opts.tls.enabled) {
    boost::system::error_code ec;
    im.ssl_ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    auto& ctx = *im.ssl_ctx;
    if (!opts.tls.ca_file.empty()) {
      ctx.load_verify_file(opts.tls.ca_file, ec);
      if (ec) return Status(ErrorCode::kInvalidArgument, "tlsCAFile " + opts.tls.ca_file + ": " + ec.message());
    } else {
      ctx.set_default_verify_paths(ec);
    }
    if (!opts.tls.certificate_key_file.empty()) {
      Status s =
          use_client_certificate(ctx.native_handle(), opts.tls.certificate_key_file, opts.tls.certificate_key_password);
      if (!s) return s;
    }
    ctx.set_verify_mode(opts.tls.allow_invalid_certificates ? asio::ssl::verify_none : asio::ssl::verify_peer, ec);
    im.tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(im.socket, ctx);
    if (!is_ip_literal(opts.host.host)) SSL_set_tlsext_host_name(im.tls->native_handle(), opts.host.host.c_str());
    if (!opts.tls.allow_invalid_certificates && !opts.tls.allow_invalid_hostnames)
      im.tls->set_verify_callback(asio::ssl::host_name_verification(opts.host.host), ec);
    e = im.run([&](auto complete) { im.tls->async_handshake(asio::ssl::stream_base::client, complete); }, remaining(),
               "TLS handshake with " + where);
    if (!e) return e;
  }

  // The handshake and authentication share the connect deadline.
  ConnectOptions& mo = c->opts_;
  milliseconds saved = mo.socket_timeout;
  mo.socket_timeout = remaining();
  e = c->handshake();
  if (e && opts.credentials) e = c->authenticate(*opts.credentials);
  mo.socket_timeout = saved;
  if (!e) return e;
  return c;
}

Error Connection::send(const OutgoingMessage& msg, milliseconds timeout) {
  if (broken_) return Error::network("connection to " + opts_.host.to_string() + " is closed");
  std::vector<asio::const_buffer> bufs;
  for (ByteSpan b : msg.buffers()) bufs.emplace_back(b.data(), b.size());
  Error e = impl_->run(
      [&](auto complete) {
        impl_->with_stream([&](auto& s) {
          asio::async_write(s, bufs, [complete](boost::system::error_code ec, std::size_t) { complete(ec); });
        });
      },
      timeout, "writing to " + opts_.host.to_string());
  if (!e) {
    broken_ = true;
    impl_->abort_io();
  }
  return e;
}

Expected<OwnedMessage> Connection::receive(milliseconds timeout) {
  if (broken_) return Error::network("connection to " + opts_.host.to_string() + " is closed");
  const std::string what = "reading from " + opts_.host.to_string();
  auto fail = [&](Error e) -> Error {
    broken_ = true;
    impl_->abort_io();
    return e;
  };
  std::uint8_t head[kHeaderSize];
  auto read_exact = [&](std::uint8_t* p, std::size_t n) {
    return impl_->run(
        [&](auto complete) {
          impl_->with_stream([&](auto& s) {
            asio::async_read(s, asio::buffer(p, n),
                             [complete](boost::system::error_code ec, std::size_t) { complete(ec); });
          });
        },
        timeout, what);
  };
  // One deadline per read call keeps the API simple; a message is at most two reads.
  if (Error e = read_exact(head, kHeaderSize); !e) return fail(e);
  auto h = parse_header({head, kHeaderSize}, info_.max_message_size_bytes);
  if (!h) return fail(Error::network(what + ": " + h.status().to_string()));
  const auto length = static_cast<std::size_t>(h->message_length);
  Bytes buf;
  for (auto it = spare_.begin(); it != spare_.end(); ++it)
    if (it->capacity() >= length) {
      buf = std::move(*it);
      spare_.erase(it);
      break;
    }
  // A fresh buffer gets room for a slightly larger reply, so the next ones can reuse it.
  if (buf.capacity() < length) buf.reserve(length + length / 8);
  buf.resize(length);  // zero-fills only what a recycled buffer did not hold before
  std::memcpy(buf.data(), head, kHeaderSize);
  if (Error e = read_exact(buf.data() + kHeaderSize, buf.size() - kHeaderSize); !e) return fail(e);
  auto m = decode_owned(std::move(buf), {.max_message_size = info_.max_message_size_bytes});
  if (!m) return fail(Error::network(what + ": " + m.status().to_string()));
  return std::move(*m);
}

// Nothing reads a reply before it is checked, so a faulty or hostile server cannot make the client
// read out of bounds. Small replies are validated whole. Large ones are cursor batches: checked
// down to the batch array, whose documents are checked to fit and end with a NUL; their bytes are
// passed on as they are, and code that looks inside one checks it first (formats::find_checked).
Error Connection::check_reply(DocView body) {
  constexpr std::size_t kWholeCheckBytes = 64 * 1024;
  formats::ValidateOptions vo;
  vo.full_depth = body.size() > kWholeCheckBytes ? 3 : 0;  // {cursor: {firstBatch: [documents]}}
  Status s = formats::validate(body.bytes(), vo);
  if (s) return {};
  broken_ = true;
  impl_->abort_io();
  return Error::network("malformed reply from " + opts_.host.to_string() + ": " + s.message() + " (at byte " +
                        std::to_string(s.offset()) + " of its body)");
}

Error Connection::handshake() {
  std::string user_for_mechs;
  if (opts_.credentials && opts_.credentials->mechanism.empty())
    user_for_mechs = opts_.credentials->source + "." + opts_.credentials->username;
  Bytes cmd = make_handshake_command(opts_, user_for_mechs);
  const std::int32_t id = next_request_id();
  auto started = std::chrono::steady_clock::now();
  OutgoingMessage q = encode_op_query(id, {.flags = 0, .full_collection_name = "admin.$cmd", .query = cmd});
  if (Error e = send(q, opts_.socket_timeout); !e) return e;
  auto m = receive(opts_.socket_timeout);
  if (!m) return m.error();
  const OpReplyView* r = m->view.reply();
  if (r == nullptr || m->view.header.response_to != id || r->number_returned < 1) {
    broken_ = true;
    impl_->abort_io();
    return Error::network("handshake with " + opts_.host.to_string() + ": unexpected reply");
  }
  DocView body = r->first();
  if (Error e = check_reply(body); !e) return e;
  if (!reply_ok(body)) return Error::from_reply(body);
  info_ = parse_hello(body, opts_.compressors);
  info_.round_trip = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
  if (info_.max_wire_version < kMinWireVersion)
    return Status(ErrorCode::kServer, "server " + opts_.host.to_string() + " has maxWireVersion " +
                                          std::to_string(info_.max_wire_version) + "; OP_MSG needs 6 (MongoDB 3.6+)");
  return {};
}

Error Connection::authenticate(const Credentials& c) {
  if (c.mechanism == kX509Mechanism) {
    if (!opts_.tls.enabled || opts_.tls.certificate_key_file.empty())
      return Status(ErrorCode::kInvalidArgument,
                    "MONGODB-X509 authentication needs TLS and a client certificate (--tlsCertificateKeyFile)");
    Bytes cmd = make_x509_authenticate_command(c.username);
    auto r = run_command(c.source.empty() ? std::string(kExternalDb) : c.source, DocView(cmd));
    if (!r) return r.error();
    return {};
  }
  ScramMechanism mech = ScramMechanism::kSha1;
  if (!c.mechanism.empty()) {
    auto m = parse_mechanism(c.mechanism);
    if (!m) return m.status();
    mech = *m;
  } else {
    // SCRAM-SHA-256 when the server lists it for this user, else SCRAM-SHA-1.
    const auto& mechs = info_.sasl_supported_mechs;
    if (std::find(mechs.begin(), mechs.end(), "SCRAM-SHA-256") != mechs.end()) mech = ScramMechanism::kSha256;
  }
  ScramClient scram(mech, c.username, c.password);
  auto first = scram.first_message();
  if (!first) return first.status();
  auto payload_of = [](DocView body) -> std::string {
    auto p = body.find("payload");
    if (!p.valid() || p.type() != BsonType::kBinary) return {};
    auto bin = p.as_binary();
    return {reinterpret_cast<const char*>(bin.data.data()), bin.data.size()};
  };
  Builder start;
  start.append_int32("saslStart", 1);
  start.append_string("mechanism", mechanism_name(mech));
  start.append_binary("payload", 0, as_bytes(*first));
  start.append_int32("autoAuthorize", 1);
  start.open_document("options");
  start.append_bool("skipEmptyExchange", true);
  start.close();
  Bytes start_cmd = start.finish();
  auto r1 = run_command(c.source, DocView(start_cmd));
  if (!r1) return r1.error();
  auto conv = r1->body().find("conversationId");
  std::int32_t conversation = static_cast<std::int32_t>(as_int(conv, 1));
  auto final_msg = scram.handle_server_first(payload_of(r1->body()));
  if (!final_msg) return final_msg.status();
  auto cont = [&](std::string_view payload) {
    Builder b;
    b.append_int32("saslContinue", 1);
    b.append_int32("conversationId", conversation);
    b.append_binary("payload", 0, as_bytes(payload));
    Bytes cmd = b.finish();
    return run_command(c.source, DocView(cmd));
  };
  auto r2 = cont(*final_msg);
  if (!r2) return r2.error();
  if (Status s = scram.handle_server_final(payload_of(r2->body())); !s) return s;
  bool done = as_flag(r2->body().find("done"));
  for (int i = 0; !done && i < 2; ++i) {
    auto r3 = cont("");
    if (!r3) return r3.error();
    done = as_flag(r3->body().find("done"));
  }
  if (!done) return Status(ErrorCode::kServer, "Authentication failed: the SASL conversation did not finish");
  return {};
}

Expected<Reply> Connection::run_command(std::string_view db, DocView command) {
  return run_command(CommandRequest{.db = db, .command = command});
}

void Connection::recycle(Bytes&& buffer) {
  if (buffer.capacity() == 0) return;
  if (spare_.size() >= 2) {
    // Keep the larger ones.
    auto smallest = std::min_element(spare_.begin(), spare_.end(),
                                     [](const Bytes& a, const Bytes& b) { return a.capacity() < b.capacity(); });
    if (smallest->capacity() >= buffer.capacity()) return;
    *smallest = std::move(buffer);
    return;
  }
  spare_.push_back(std::move(buffer));
}

Expected<Reply> Connection::run_command(const CommandRequest& req) {
  auto id = send_command(req);
  if (!id) return id.error();
  return receive_reply(*id, req.timeout);
}

Expected<std::int32_t> Connection::send_command(const CommandRequest& req) {
  Builder b;
  bool has_db = false;
  for (auto e : req.command) {
    if (e.key() == "$db") has_db = true;
    b.append_raw_element(e.raw());
  }
  if (!has_db) b.append_string("$db", req.db);
  Bytes body = b.finish();
  const std::int32_t id = next_request_id();
  auto msg = encode_op_msg(id, 0, {.flags = 0, .body = body, .sequences = req.sequences, .checksum = opts_.checksum},
                           info_.max_message_size_bytes);
  if (!msg) return msg.status();
  const milliseconds timeout = effective(req.timeout);
  if (info_.compressor && compressible(req.command)) {
    auto z = compress_message(*msg, *info_.compressor, opts_.zlib_level);
    if (!z) return z.status();
    if (Error e = send(*z, timeout); !e) return e;
  } else {
    if (Error e = send(*msg, timeout); !e) return e;
  }
  return id;
}

Expected<Reply> Connection::receive_reply(std::int32_t id, milliseconds timeout_override) {
  const milliseconds timeout = effective(timeout_override);
  auto m = receive(timeout);
  if (!m) return m.error();
  if (m->view.header.response_to != id || m->view.msg() == nullptr) {
    broken_ = true;
    impl_->abort_io();
    return Error::network("reply from " + opts_.host.to_string() + " does not answer request " + std::to_string(id));
  }
  Reply reply{std::move(*m)};
  if (Error e = check_reply(reply.body()); !e) return e;
  if (!reply_ok(reply.body())) return Error::from_reply(reply.body());
  return reply;
}

}  // namespace bsonpipe::io
