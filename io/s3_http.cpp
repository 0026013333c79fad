#include "io/s3_http.hpp"

#include <curl/curl.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "io/s3_xml.hpp"

namespace bsonpipe::io {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string sha256_hex(formats::ByteSpan data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(data.data(), data.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::size_t on_body(char* ptr, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(ptr, size * n);
  return size * n;
}

std::size_t on_header(char* ptr, std::size_t size, std::size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string_view line(ptr, size * n);
  if (line.rfind("HTTP/", 0) == 0) headers->clear();  // a new response (after 100 Continue)
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    (*headers)[name] = std::string(value);
  }
  return size * n;
}

bool retryable_transport(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SSL_CONNECT_ERROR: return true;
    default: return false;
  }
}

bool retryable_status(const S3Response& r) {
  return r.status >= 500 || r.status == 429 || r.error_code() == "SlowDown";
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// One handle per thread, reset before each request: its connection cache keeps connections
// (and TLS sessions) open from one request to the next.
CURL* thread_handle() {
  thread_local std::unique_ptr<CURL, CurlDeleter> handle(curl_easy_init());
  if (handle) curl_easy_reset(handle.get());
  return handle.get();
}

}  // namespace

std::string S3Response::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string S3Response::error_code() const {
  if (body.empty()) return {};
  auto xml = parse_xml(body);
  if (!xml || xml->name != "Error") return {};
  return xml->child_text("Code");
}

std::string S3Response::error_text() const {
  std::string code, message;
  if (!body.empty())
    if (auto xml = parse_xml(body); xml && xml->name == "Error") {
      code = xml->child_text("Code");
      message = xml->child_text("Message");
    }
  if (code.empty()) return "HTTP " + std::to_string(status);
  std::string out = "S3 error " + code;
  if (!message.empty()) out += ": " + message;
  return out + " (HTTP " + std::to_string(status) + ")";
}

std::string s3_uri_encode(std::string_view s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

S3Client::S3Client(AwsConfig config, std::string bucket, S3RetryPolicy retry)
    : config_(std::move(config)), bucket_(std::move(bucket)), retry_(retry) {
  global_init();
}

std::string S3Client::url(const S3Request& r) const {
  std::string base;
  if (!config_.endpoint_url.empty())
    base = config_.endpoint_url + "/" + bucket_;
  else if (bucket_.find('.') != std::string::npos)  // dots break the wildcard certificate
    base = "https://s3." + config_.region + ".amazonaws.com/" + bucket_;
  else
    base = "https://" + bucket_ + ".s3." + config_.region + ".amazonaws.com";
  // The bucket itself is "/bucket", not "/bucket/" (s3rver signs the path without the slash).
  std::string out = r.key.empty() ? base : base + "/" + s3_uri_encode(r.key, true);
  // curl 7.88 signs the query as given: it must already be canonical (sorted, encoded, k=v).
  auto query = r.query;
  std::sort(query.begin(), query.end());
  for (std::size_t i = 0; i < query.size(); ++i)
    out += (i == 0 ? "?" : "&") + s3_uri_encode(query[i].first, false) + "=" + s3_uri_encode(query[i].second, false);
  return out;
}

Result<S3Response> S3Client::send(const S3Request& r, const std::string& what) const {
  const std::string target = url(r);
  const std::string sigv4 = "aws:amz:" + config_.region + ":s3";
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add = [&](const std::string& h) { headers.reset(curl_slist_append(headers.release(), h.c_str())); };
  bool typed = false;
  for (const auto& h : r.headers) {
    add(h);
    typed = typed || h.rfind("Content-Type:", 0) == 0;
  }
  // Else curl would send (and sign) a form content type for the POSTFIELDS body.
  if (!typed && (r.method == "PUT" || r.method == "POST")) add("Content-Type: application/octet-stream");
  // curl 7.88 does not send the payload hash S3 requires; it is the same one curl signs.
  add("x-amz-content-sha256: " + sha256_hex(r.body));
  if (!config_.session_token.empty()) add("x-amz-security-token: " + config_.session_token);
  static const std::uint8_t kNothing = 0;
  std::mt19937 jitter(std::random_device{}());
  for (int attempt = 1;; ++attempt) {
    CURL* c = thread_handle();
    if (c == nullptr) return Status(ErrorCode::kInternal, "cannot create a curl handle");
    S3Response resp;
    char errbuf[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(c, CURLOPT_URL, target.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(c, CURLOPT_USERNAME, config_.access_key_id.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, config_.secret_access_key.c_str());
    if (!config_.ca_bundle.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, config_.ca_bundle.c_str());
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);  // a stalled transfer fails after a minute
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp.headers);
    if (r.method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (r.method == "PUT" || r.method == "POST") {
      // POSTFIELDS, not a read callback: curl 7.88 signs the hash of the POSTFIELDS payload.
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.empty() ? &kNothing : r.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      if (r.method == "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    } else if (r.method != "GET") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
    bool again = rc != CURLE_OK ? retryable_transport(rc) : retryable_status(resp);
    if (!again || attempt >= retry_.max_attempts) {
      if (rc != CURLE_OK)
        return Status(ErrorCode::kNetwork, what + ": " + (errbuf[0] != 0 ? errbuf : curl_easy_strerror(rc)));
      return resp;
    }
    auto base = retry_.first_backoff * (1 << std::min(attempt - 1, 6));
    std::uniform_int_distribution<long> spread(0, static_cast<long>(base.count()));
    std::this_thread::sleep_for(base + std::chrono::milliseconds(spread(jitter)));
  }
}

}  // namespace bsonpipe::io
