// SCRAM-SHA-1/256 login over saslStart/saslContinue, using scram_server.hpp's conversation, and
// MONGODB-X509 login over `authenticate` with the session's verified client certificate.
#include "tools/minimongod/engine_internal.hpp"
#include "tools/minimongod/scram_server.hpp"

namespace bsonpipe::minimongod {

class ScramConversation {
 public:
  explicit ScramConversation(io::ScramMechanism m) : server(m) {}
  ScramServer server;
  std::int32_t id = 0;
  bool skip_empty_exchange = false;
  bool final_sent = false;
  std::string user;
};

Session::Session() = default;
Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

namespace {

CmdError auth_failed() {
  return CmdError{code::kAuthenticationFailed, "Authentication failed."};
}

std::optional<std::string> payload_of(DocView cmd) {
  ElementView p = cmd.find("payload");
  if (!p.valid()) return std::nullopt;
  if (p.type() == BsonType::kBinary) {
    auto d = p.as_binary().data;
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
  }
  if (p.type() == BsonType::kString) return std::string(p.as_string());
  return std::nullopt;
}

Bytes sasl_reply(std::int32_t id, bool done, std::string_view payload) {
  formats::Builder b;
  b.append_int32("conversationId", id).append_bool("done", done);
  b.append_binary("payload", 0, io::as_bytes(payload));
  return finish_ok(b);
}

}  // namespace

Expected<Bytes> Engine::cmd_sasl_start(Ctx& ctx) {
  ctx.session.scram.reset();
  auto mech_name = get_string(ctx.cmd, "mechanism");
  if (!mech_name) return CmdError{code::kBadValue, "saslStart needs a mechanism"};
  auto mech = io::parse_mechanism(*mech_name);
  if (!mech)
    return CmdError{2, "Received authentication for mechanism " + std::string(*mech_name) + " which is not enabled"};
  auto payload = payload_of(ctx.cmd);
  if (!payload) return CmdError{code::kBadValue, "saslStart needs a payload"};
  auto conv = std::make_unique<ScramConversation>(*mech);
  auto user = conv->server.receive_client_first(*payload);
  if (!user) return auth_failed();
  const ScramCredentials* creds = nullptr;
  for (auto& c : credentials_)
    if (c.mechanism == *mech) creds = &c;
  std::optional<ScramCredentials> stored;  // a user of admin.system.users (users.cpp)
  // The --user of the command line is a user of admin, as a real server's would be.
  if (!auth_required() || *user != opts_.user || creds == nullptr || ctx.db != "admin") {
    stored = stored_credentials(ctx.db, *user, *mech);
    if (!stored) return auth_failed();
    creds = &*stored;
  }
  auto first = conv->server.server_first(*creds);
  if (!first) return auth_failed();
  conv->id = ctx.session.next_conversation_id++;
  conv->user = *user;
  if (auto opts = get_doc(ctx.cmd, "options")) conv->skip_empty_exchange = get_bool(*opts, "skipEmptyExchange");
  std::int32_t id = conv->id;
  ctx.session.scram = std::move(conv);
  return sasl_reply(id, false, *first);
}

Expected<Bytes> Engine::cmd_sasl_continue(Ctx& ctx) {
  auto& conv = ctx.session.scram;
  auto id = get_int(ctx.cmd, "conversationId");
  if (!conv || !id || *id != conv->id) return CmdError{code::kBadValue, "no SASL session state found"};
  auto payload = payload_of(ctx.cmd);
  if (!payload) return CmdError{code::kBadValue, "saslContinue needs a payload"};
  std::int32_t cid = conv->id;
  if (conv->final_sent) {
    // The empty exchange that ends the conversation when skipEmptyExchange was not asked for.
    ctx.session.scram.reset();
    return sasl_reply(cid, true, "");
  }
  auto final_msg = conv->server.receive_client_final(*payload);
  if (!final_msg) {
    ctx.session.scram.reset();
    return auth_failed();
  }
  ctx.session.authenticated = true;
  ctx.session.authenticated_user = conv->user;
  ctx.session.authenticated_db = std::string(ctx.db);
  conv->final_sent = true;
  bool done = conv->skip_empty_exchange;
  if (done) ctx.session.scram.reset();
  return sasl_reply(cid, done, *final_msg);
}

Expected<Bytes> Engine::cmd_logout(Ctx& ctx) {
  ctx.session.authenticated = false;
  ctx.session.authenticated_user.clear();
  ctx.session.authenticated_db = "admin";
  return ok_only();
}

// {authenticate: 1, mechanism: "MONGODB-X509", user?: "<subject>"} on $external, as mongod takes
// it: the user is the verified client certificate's subject; a user name given must equal it; the
// user must exist in $external. Failures other than a malformed command say only "Authentication
// failed." (mongod does not tell a client which part was wrong).
Expected<Bytes> Engine::cmd_authenticate(Ctx& ctx) {
  auto mech = get_string(ctx.cmd, "mechanism");
  if (!mech) return CmdError{code::kBadValue, "authenticate needs a mechanism"};
  if (*mech != "MONGODB-X509")
    return CmdError{code::kBadValue, "Unsupported mechanism " + std::string(*mech) + " for authenticate"};
  if (ctx.db != "$external")
    return CmdError{code::kProtocolError, "X.509 authentication must always use the $external database."};
  const std::string& subject = ctx.session.client_subject;
  if (subject.empty()) return auth_failed();
  if (auto user = get_string(ctx.cmd, "user"); user && !user->empty() && *user != subject) return auth_failed();
  if (!user_exists("$external", subject)) return auth_failed();
  ctx.session.scram.reset();
  ctx.session.authenticated = true;
  ctx.session.authenticated_user = subject;
  ctx.session.authenticated_db = "$external";
  formats::Builder b;
  b.append_string("dbname", "$external").append_string("user", subject);
  return finish_ok(b);
}

}  // namespace bsonpipe::minimongod
