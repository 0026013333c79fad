// Client certificates and MONGODB-X509: loading the PEM that --tlsCertificateKeyFile names (its
// private key possibly encrypted) into a TLS context with errors that name the file, and the
// `authenticate` command the MONGODB-X509 mechanism sends to $external.
#pragma once

#include <openssl/ssl.h>

#include <string>
#include <string_view>

#include "formats/bson.hpp"
#include "formats/status.hpp"

namespace bsonpipe::io {

inline constexpr std::string_view kX509Mechanism = "MONGODB-X509";
inline constexpr std::string_view kExternalDb = "$external";

// Loads the certificate (then any chain certificates) and the private key from the PEM file
// `path` into `ctx`; `password` decrypts an encrypted key ("ENCRYPTED PRIVATE KEY" or a legacy
// Proc-Type: 4,ENCRYPTED block). OpenSSL's terminal prompt is never used. Every failure is one
// kInvalidArgument line naming the file: unreadable, no certificate, no key, an encrypted key and
// no password, a password that does not decrypt it, a key that does not match the certificate.
// The password never appears in a message.
Status use_client_certificate(SSL_CTX* ctx, const std::string& path, const std::string& password);

// Whether a PEM text holds an encrypted private key (so a password is needed).
bool pem_has_encrypted_key(std::string_view pem);

// {authenticate: 1, mechanism: "MONGODB-X509"[, user: <user>]}: run on $external. Without a user
// the server takes the name from the certificate (MongoDB 3.4+).
formats::Bytes make_x509_authenticate_command(std::string_view user);

}  // namespace bsonpipe::io
