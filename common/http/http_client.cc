#include "common/http/http_client.h"

#include <algorithm>
#include <future>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace bastion::http {

absl::StatusOr<ClientResponse> HttpClient::SendSync(ClientRequest request) {
  auto result = std::make_shared<std::promise<absl::StatusOr<ClientResponse>>>();
  auto future = result->get_future();
  Send(std::move(request), [result](absl::StatusOr<ClientResponse> response) {
    result->set_value(std::move(response));
  });
  return future.get();
}

namespace {

constexpr int kMaxPollMs = 1000;

bool IsToken(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return c > 0x20 && c < 0x7f && c != ':' && c != '(' && c != ')' && c != '"';
  });
}

bool HasLineBreak(absl::string_view s) {
  return s.find_first_of(absl::string_view("\r\n\0", 3)) != absl::string_view::npos;
}

// RFC 9110's idempotent methods: sending one twice has the effect of sending it once.
bool IsIdempotent(absl::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

// Error messages name the request without its query, which may carry tokens.
std::string Describe(const ClientRequest& request) {
  return absl::StrCat(request.method, " ", request.url.substr(0, request.url.find_first_of("?#")));
}

}  // namespace

struct CurlHttpClient::Transfer {
  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_slist_free_all(header_list);
  }

  // libcurl callbacks; `p` is the Transfer.
  static size_t OnBody(char* data, size_t size, size_t n, void* p) {
    auto* t = static_cast<Transfer*>(p);
    if (t->response.body.size() + size * n > t->max_body) {
      t->too_large = true;
      return 0;  // Makes curl abort the transfer.
    }
    t->response.body.append(data, size * n);
    return size * n;
  }
  static size_t OnHeader(char* data, size_t size, size_t n, void* p) {
    auto* t = static_cast<Transfer*>(p);
    absl::string_view line(data, size * n);
    if (absl::StartsWith(line, "HTTP/")) {
      t->response.headers.clear();  // A new response: the final one follows any 1xx.
    } else if (size_t colon = line.find(':'); colon != absl::string_view::npos) {
      t->response.headers.emplace_back(
          absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon))),
          std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
    }
    return size * n;
  }

  absl::Status Prepare(const CurlHttpClientOptions& options) {
    if (!IsToken(request.method)) return absl::InvalidArgumentError("invalid HTTP method");
    for (const auto& [name, value] : request.headers) {
      if (!IsToken(name) || HasLineBreak(value)) {
        return absl::InvalidArgumentError(
            absl::StrCat(Describe(request),
                         ": header names must be tokens and values must not "
                         "contain line breaks"));
      }
      // "Name;" is curl's way to send a header with an empty value.
      if (!AddHeader(value.empty() ? absl::StrCat(name, ";") : absl::StrCat(name, ": ", value))) {
        return absl::ResourceExhaustedError("cannot allocate a curl header list");
      }
    }
    // Skip the 100-continue round trip curl would otherwise make before larger bodies.
    easy = curl_easy_init();
    if (!AddHeader("Expect:") || easy == nullptr) {
      return absl::ResourceExhaustedError("cannot allocate a curl transfer");
    }
    long timeout_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(request.timeout));
    long connect_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(options.connect_timeout));
    curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, connect_ms));
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, header_list);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
    // libcurl silently sends a request again when the kept-alive connection it reused closes
    // without an answer. The server may have acted on it (a POST may have created something),
    // so a request that is unsafe to repeat gets a new connection, where libcurl never does that.
    if (!IsIdempotent(request.method)) curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    if (request.method == "HEAD") {
      curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (request.method != "GET" || !request.body.empty()) {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      bool sends_body = !request.body.empty() || request.method == "POST" ||
                        request.method == "PUT" || request.method == "PATCH";
      if (sends_body) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.c_str());
      }
    }
    return absl::OkStatus();
  }

  bool AddHeader(const std::string& line) {
    curl_slist* extended = curl_slist_append(header_list, line.c_str());
    if (extended == nullptr) return false;
    header_list = extended;
    return true;
  }

  absl::StatusOr<ClientResponse> Result(CURLcode code) {
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      response.status = static_cast<int>(status);
      return std::move(response);
    }
    std::string what = absl::StrCat(Describe(request), ": ", curl_easy_strerror(code));
    switch (code) {
      case CURLE_OPERATION_TIMEDOUT:
        return absl::DeadlineExceededError(what);
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return absl::InvalidArgumentError(what);
      case CURLE_WRITE_ERROR:
        if (too_large) {
          return absl::ResourceExhaustedError(
              absl::StrCat(Describe(request), ": response body exceeds ", max_body, " bytes"));
        }
        return absl::UnavailableError(what);
      default:
        // Connect, DNS, TLS and transport failures: the other side is not usable right now.
        return absl::UnavailableError(what);
    }
  }

  ClientRequest request;
  Callback done;
  size_t max_body = 0;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  ClientResponse response;
  bool too_large = false;
};

CurlHttpClient::CurlHttpClient(CurlHttpClientOptions options) : options_(options) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  multi_ = curl_multi_init();
  worker_ = std::thread([this] { Run(); });
}

CurlHttpClient::~CurlHttpClient() {
  Shutdown();
  curl_multi_cleanup(multi_);
}

void CurlHttpClient::Send(ClientRequest request, Callback done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  transfer->max_body = options_.max_response_bytes;
  if (transfer->request.max_response_bytes > 0) {
    transfer->max_body = std::min(transfer->max_body, transfer->request.max_response_bytes);
  }
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(std::move(transfer));
      curl_multi_wakeup(multi_);
      return;
    }
  }
  transfer->done(absl::CancelledError("HTTP client is shut down"));
}

void CurlHttpClient::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    curl_multi_wakeup(multi_);
  }
  if (worker_.joinable()) worker_.join();
}

void CurlHttpClient::Run() {
  const size_t max_in_flight = std::max(1, options_.max_in_flight);
  for (;;) {
    std::vector<std::unique_ptr<Transfer>> admitted;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      while (!queue_.empty() && active_.size() + admitted.size() < max_in_flight) {
        admitted.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    for (auto& transfer : admitted) Begin(std::move(transfer));
    int running = 0;
    curl_multi_perform(multi_, &running);
    // A completion may have freed a slot for a queued request: admit it before sleeping.
    if (Reap() == 0) curl_multi_poll(multi_, nullptr, 0, kMaxPollMs, nullptr);
  }

  std::vector<std::unique_ptr<Transfer>> cancelled;
  for (auto& [easy, transfer] : active_) {
    curl_multi_remove_handle(multi_, easy);
    cancelled.push_back(std::move(transfer));
  }
  active_.clear();
  {
    absl::MutexLock lock(&mu_);
    for (auto& transfer : queue_) cancelled.push_back(std::move(transfer));
    queue_.clear();
  }
  for (auto& transfer : cancelled) {
    transfer->done(
        absl::CancelledError(absl::StrCat(Describe(transfer->request), ": HTTP client shut down")));
  }
}

void CurlHttpClient::Begin(std::unique_ptr<Transfer> transfer) {
  absl::Status prepared = transfer->Prepare(options_);
  if (prepared.ok() && curl_multi_add_handle(multi_, transfer->easy) != CURLM_OK) {
    prepared = absl::InternalError("curl_multi_add_handle failed");
  }
  if (!prepared.ok()) return transfer->done(prepared);
  CURL* easy = transfer->easy;
  active_.emplace(easy, std::move(transfer));
}

int CurlHttpClient::Reap() {
  int finished = 0;
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    CURLcode code = message->data.result;  // Read before remove_handle invalidates `message`.
    auto it = active_.find(easy);
    if (it == active_.end()) continue;
    std::unique_ptr<Transfer> transfer = std::move(it->second);
    active_.erase(it);
    curl_multi_remove_handle(multi_, easy);
    transfer->done(transfer->Result(code));
    ++finished;
  }
  return finished;
}

}  // namespace bastion::http
