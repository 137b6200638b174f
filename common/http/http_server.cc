#include "common/http/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace bastion::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

Response JsonResponse(int status, std::string body) {
  return Response{status, {{"Content-Type", "application/json"}}, std::move(body)};
}

namespace {

constexpr size_t kReadChunk = 4096;
// After an error response the client may still be sending its request; reading (and dropping)
// it for a moment lets the client see the response rather than a connection reset.
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

std::chrono::nanoseconds Chrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(std::clamp(d, absl::ZeroDuration(), absl::Hours(24)));
}

std::string ToStd(beast::string_view s) { return std::string(s.data(), s.size()); }

Response ErrorResponse(int status, absl::string_view message) {
  return JsonResponse(status, absl::StrCat(R"({"error":")", message, R"("})"));
}

// Handlers may echo client input into headers; refusing line breaks prevents header injection.
bool ValidHeader(absl::string_view name, absl::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= 0x20 || c >= 0x7f || c == ':') return false;
  }
  return value.find_first_of(absl::string_view("\r\n\0", 3)) == absl::string_view::npos;
}

// The status line and headers, or nullopt when the handler's status or headers are unsendable.
std::optional<std::string> Head(int status, const Headers& headers, absl::string_view framing,
                                bool keep_alive) {
  if (status < 200 || status > 599) return std::nullopt;
  auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  std::string out = absl::StrCat("HTTP/1.1 ", status, " ",
                                 absl::string_view(reason.data(), reason.size()), "\r\n");
  for (const auto& [name, value] : headers) {
    if (!ValidHeader(name, value)) return std::nullopt;
    if (absl::EqualsIgnoreCase(name, "Content-Length") ||
        absl::EqualsIgnoreCase(name, "Transfer-Encoding") ||
        absl::EqualsIgnoreCase(name, "Connection")) {
      continue;
    }
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  if (!framing.empty()) absl::StrAppend(&out, framing, "\r\n");
  absl::StrAppend(&out, "Connection: ", keep_alive ? "keep-alive" : "close", "\r\n\r\n");
  return out;
}

}  // namespace

namespace internal {

struct Route {
  std::string method;
  std::string path;
  bool prefix;
  Handler handler;
};

class Session;

struct ServerCore : std::enable_shared_from_this<ServerCore> {
  explicit ServerCore(HttpServerOptions o) : options(std::move(o)) {}

  // Posts unless the server has stopped: nothing would run the handler then, and a queued
  // handler would keep its session (and so this core) alive forever.
  template <class Executor, class Fn>
  void Post(const Executor& executor, Fn fn) {
    absl::MutexLock lock(&mu);
    if (!stopped) net::post(executor, std::move(fn));
  }

  bool Register(const std::shared_ptr<Session>& session) {
    absl::MutexLock lock(&mu);
    if (draining) return false;
    open.emplace(session.get(), session);
    return true;
  }
  void Forget(Session* session) {
    absl::MutexLock lock(&mu);
    open.erase(session);
  }
  // Weak so that the caller, not this lock's holder, may end up destroying a session.
  std::vector<std::weak_ptr<Session>> OpenSessions() {
    absl::MutexLock lock(&mu);
    std::vector<std::weak_ptr<Session>> out;
    for (const auto& entry : open) out.push_back(entry.second);
    return out;
  }
  bool NoOpenSessions() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return open.empty(); }

  void Accept();

  const Route* Find(const Request& request, bool* path_matched) const {
    const Route* best = nullptr;
    for (const Route& route : routes) {
      bool matches =
          route.prefix ? absl::StartsWith(request.path, route.path) : request.path == route.path;
      if (!matches) continue;
      *path_matched = true;
      if (route.method != "*" && route.method != request.method) continue;
      auto rank = [](const Route& r) { return r.prefix ? r.path.size() : SIZE_MAX; };
      if (best == nullptr || rank(route) > rank(*best)) best = &route;
    }
    return best;
  }

  const HttpServerOptions options;
  net::io_context io;
  tcp::acceptor acceptor{net::make_strand(io)};
  net::steady_timer accept_retry{acceptor.get_executor()};
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(io);
  std::vector<Route> routes;  // Immutable once started.
  std::atomic<int64_t> accepted{0};
  std::atomic<bool> draining{false};  // Written under mu.

  // Owned by the thread that calls Start() and Shutdown().
  bool started = false;
  bool shut_down = false;
  int port = 0;
  std::vector<std::thread> threads;

  absl::Mutex mu;
  bool stopped ABSL_GUARDED_BY(mu) = false;
  absl::flat_hash_map<Session*, std::weak_ptr<Session>> open ABSL_GUARDED_BY(mu);
};

class StreamWriterImpl;

// One connection. Every method runs on the connection's strand; other threads go through Run().
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<ServerCore> core, tcp::socket socket)
      : core_(std::move(core)), stream_(std::move(socket)) {}
  ~Session() {
    if (!closed_) core_->Forget(this);
  }

  template <class Fn>
  void Run(Fn fn) {
    core_->Post(stream_.get_executor(),
                [self = shared_from_this(), fn = std::move(fn)]() mutable { fn(*self); });
  }

  void Start() {
    error_code ec;
    auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_address_ = peer.address().to_string();
    if (!core_->Register(shared_from_this())) return Close();
    ReadRequest();
  }

  void Drain() {
    if (!busy_) Close();
  }

  void Close();

  void SendResponse(Response response) {
    if (closed_) return;
    keep_alive_ = keep_alive_ && !core_->draining;
    bool bodiless = response.status == 204 || response.status == 304;
    auto head =
        Head(response.status, response.headers,
             bodiless ? "" : absl::StrCat("Content-Length: ", response.body.size()), keep_alive_);
    if (!head) return SendResponse(ErrorResponse(500, "handler produced an invalid response"));
    finished_ = true;
    // A HEAD response announces the body's length but carries none.
    Enqueue(bodiless || head_request_ ? *std::move(head) : absl::StrCat(*head, response.body));
  }

  void BeginStream(int status, const Headers& headers, std::weak_ptr<StreamWriterImpl> writer);

  void SendChunk(const std::string& chunk) {
    if (closed_ || !streaming_ || finished_ || chunk.empty()) return;
    Enqueue(absl::StrCat(absl::Hex(chunk.size()), "\r\n", chunk, "\r\n"));
  }

  void EndStream() {
    if (closed_ || !streaming_ || finished_) return;
    finished_ = true;
    Enqueue("0\r\n\r\n");
  }

 private:
  void ReadRequest() {
    busy_ = false;
    head_request_ = false;
    if (core_->draining) return Close();
    parser_.emplace();
    parser_->body_limit(core_->options.max_body_bytes);
    if (buffer_.size() > 0) return ReadHeader();
    // The idle timeout covers the wait for a first byte; the read timeout starts after it.
    stream_.expires_after(Chrono(core_->options.idle_timeout));
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = shared_from_this()](error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    busy_ = true;
    stream_.expires_after(Chrono(core_->options.read_timeout));
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (ec) return OnReadError(ec);
    const auto& message = parser_->get();
    keep_alive_ = message.keep_alive();
    head_request_ = message.method() == bhttp::verb::head;
    if (parser_->content_length().value_or(0) > core_->options.max_body_bytes) {
      return Fail(413, "request body too large");
    }
    if (parser_->is_done()) return OnBody({});
    if (absl::EqualsIgnoreCase(ToStd(message[bhttp::field::expect]), "100-continue")) {
      Enqueue("HTTP/1.1 100 Continue\r\n\r\n");
    }
    stream_.expires_after(Chrono(core_->options.read_timeout));
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(error_code ec) {
    if (ec) return OnReadError(ec);
    stream_.expires_never();
    Dispatch();
  }

  void OnReadError(error_code ec) {
    if (ec == bhttp::error::body_limit) return Fail(413, "request body too large");
    if (ec == bhttp::error::header_limit) return Fail(431, "request headers too large");
    bool malformed = ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
                     ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
    if (malformed) return Fail(400, "malformed HTTP request");
    Close();  // The client went away or was too slow.
  }

  void Fail(int status, absl::string_view message) {
    keep_alive_ = false;
    linger_ = true;
    parser_.reset();
    SendResponse(ErrorResponse(status, message));
  }

  void Dispatch();

  void Enqueue(std::string bytes) {
    if (closed_) return;
    outbox_.push_back(std::move(bytes));
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    if (outbox_.empty()) {
      writing_ = false;
      if (finished_) Finish();
      return;
    }
    writing_ = true;
    stream_.expires_after(Chrono(core_->options.write_timeout));
    net::async_write(stream_, net::buffer(outbox_.front()),
                     [self = shared_from_this()](error_code ec, size_t) {
                       self->outbox_.pop_front();
                       if (ec) return self->Close();
                       self->WriteNext();
                     });
  }

  void Finish() {
    finished_ = false;
    if (!linger_ && keep_alive_) return ReadRequest();
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (!linger_) return Close();
    stream_.expires_after(kLingerTime);
    Discard();
  }

  void Discard() {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->Discard();
                            });
  }

  // A streaming client sends nothing more, so a completed read means it went away. The raw
  // socket is read so that this wait carries no timeout.
  void WatchForDisconnect() {
    stream_.socket().async_read_some(net::buffer(scratch_),
                                     [self = shared_from_this()](error_code ec, size_t) {
                                       if (ec) return self->Close();
                                       self->WatchForDisconnect();
                                     });
  }

  std::shared_ptr<ServerCore> core_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string remote_address_;
  std::deque<std::string> outbox_;  // A deque, so queued strings never move while being written.
  std::weak_ptr<StreamWriterImpl> writer_;
  std::array<char, 512> scratch_;
  bool busy_ = false;  // From a request's first byte to the end of its response.
  bool keep_alive_ = false;
  bool head_request_ = false;
  bool writing_ = false;
  bool finished_ = false;  // The whole response is queued.
  bool streaming_ = false;
  bool linger_ = false;
  bool closed_ = false;
};

class StreamWriterImpl : public StreamWriter {
 public:
  // A null session makes a writer that starts closed.
  explicit StreamWriterImpl(std::shared_ptr<Session> session) : session_(std::move(session)) {}
  ~StreamWriterImpl() override { Close(); }

  bool Write(std::string chunk) override {
    absl::MutexLock lock(&mu_);  // Held while posting, so chunks keep the callers' order.
    if (session_ == nullptr) return false;
    session_->Run([chunk = std::move(chunk)](Session& s) { s.SendChunk(chunk); });
    return true;
  }
  void Close() override { MarkClosed(/*end_stream=*/true); }
  // The connection is gone; there is nobody to end the stream for.
  void Disconnected() { MarkClosed(/*end_stream=*/false); }

  bool closed() const override {
    absl::MutexLock lock(&mu_);
    return session_ == nullptr;
  }

  void OnClose(std::function<void()> callback) override {
    {
      absl::MutexLock lock(&mu_);
      if (session_ != nullptr) {
        on_close_ = std::move(callback);
        return;
      }
    }
    callback();
  }

 private:
  void MarkClosed(bool end_stream) {
    std::shared_ptr<Session> session;
    std::function<void()> on_close;
    {
      absl::MutexLock lock(&mu_);
      session = std::move(session_);
      session_ = nullptr;
      on_close = std::move(on_close_);
    }
    if (session == nullptr) return;
    if (end_stream) session->Run([](Session& s) { s.EndStream(); });
    if (on_close) on_close();
  }

  mutable absl::Mutex mu_;
  std::shared_ptr<Session> session_ ABSL_GUARDED_BY(mu_);
  std::function<void()> on_close_ ABSL_GUARDED_BY(mu_);
};

class ResponderImpl : public Responder {
 public:
  explicit ResponderImpl(std::shared_ptr<Session> session) : session_(std::move(session)) {}
  ~ResponderImpl() override { Respond(ErrorResponse(500, "handler did not respond")); }

  void Respond(Response response) override {
    if (done_.exchange(true)) return;
    session_->Run([response = std::move(response)](Session& s) mutable {
      s.SendResponse(std::move(response));
    });
  }

  void Abort() override {
    if (done_.exchange(true)) return;
    session_->Run([](Session& s) { s.Close(); });
  }

  std::shared_ptr<StreamWriter> StartStream(int status, Headers headers) override {
    if (done_.exchange(true)) return std::make_shared<StreamWriterImpl>(nullptr);
    auto writer = std::make_shared<StreamWriterImpl>(session_);
    session_->Run([status, headers = std::move(headers),
                   weak = std::weak_ptr<StreamWriterImpl>(writer)](Session& s) {
      s.BeginStream(status, headers, weak);
    });
    return writer;
  }

 private:
  std::shared_ptr<Session> session_;
  std::atomic<bool> done_{false};
};

void Session::Close() {
  if (closed_) return;
  auto self = shared_from_this();  // The writer may hold the only other reference.
  closed_ = true;
  stream_.close();
  core_->Forget(this);
  if (auto writer = writer_.lock()) writer->Disconnected();
}

void Session::BeginStream(int status, const Headers& headers,
                          std::weak_ptr<StreamWriterImpl> writer) {
  writer_ = std::move(writer);
  keep_alive_ = false;  // Streams end by closing the connection; see Responder::StartStream.
  auto head = Head(status, headers, "Transfer-Encoding: chunked", keep_alive_);
  if (closed_ || !head) {
    SendResponse(ErrorResponse(500, "handler produced an invalid response"));
    if (auto w = writer_.lock()) w->Disconnected();
    return;
  }
  streaming_ = true;
  Enqueue(*std::move(head));
  WatchForDisconnect();
}

void Session::Dispatch() {
  auto& message = parser_->get();
  Request request;
  request.method = ToStd(message.method_string());
  request.target = ToStd(message.target());
  size_t question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos) request.query = request.target.substr(question + 1);
  for (const auto& field : message) {
    request.headers.emplace_back(ToStd(field.name_string()), ToStd(field.value()));
  }
  request.body = std::move(message.body());
  request.remote_address = remote_address_;
  parser_.reset();

  bool path_matched = false;
  const Route* route = core_->Find(request, &path_matched);
  if (route == nullptr) {
    return SendResponse(path_matched ? ErrorResponse(405, "method not allowed")
                                     : ErrorResponse(404, "not found"));
  }
  try {
    route->handler(std::move(request), std::make_shared<ResponderImpl>(shared_from_this()));
  } catch (...) {
    // The handler's Responder died with the exception and answers 500.
  }
}

void ServerCore::Accept() {
  acceptor.async_accept(net::make_strand(io), [this](error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors or similar: back off instead of spinning.
      accept_retry.expires_after(kAcceptRetryDelay);
      accept_retry.async_wait([this](error_code) { Accept(); });
      return;
    }
    ++accepted;
    auto executor = socket.get_executor();
    auto session = std::make_shared<Session>(shared_from_this(), std::move(socket));
    net::dispatch(executor, [session] { session->Start(); });
    Accept();
  });
}

}  // namespace internal

namespace {

void AddRoute(internal::ServerCore& core, internal::Route route) {
  if (core.started) {
    // I/O threads read the routes without a lock.
    std::fprintf(stderr, "HttpServer: routes must be added before Start()\n");
    std::abort();
  }
  core.routes.push_back(std::move(route));
}

void RunIo(net::io_context& io) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (...) {
      // A throwing user callback (e.g. OnClose) must not take an I/O thread down.
    }
  }
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options)
    : core_(std::make_shared<internal::ServerCore>(std::move(options))) {}

HttpServer::~HttpServer() { Shutdown(absl::ZeroDuration()); }

void HttpServer::Route(std::string method, std::string path, Handler handler) {
  AddRoute(*core_, {std::move(method), std::move(path), false, std::move(handler)});
}

void HttpServer::RoutePrefix(std::string method, std::string prefix, Handler handler) {
  AddRoute(*core_, {std::move(method), std::move(prefix), true, std::move(handler)});
}

absl::Status HttpServer::Start() {
  internal::ServerCore& core = *core_;
  const HttpServerOptions& options = core.options;
  if (core.started) return absl::FailedPreconditionError("HttpServer is already started");
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen port ", options.port, " is out of range"));
  }
  error_code ec;
  auto address = net::ip::make_address(options.host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen host \"", options.host, "\" is not an IP address"));
  }
  tcp::endpoint endpoint(address, static_cast<uint16_t>(options.port));
  core.acceptor.open(endpoint.protocol(), ec);
  if (!ec) core.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) core.acceptor.bind(endpoint, ec);
  if (!ec) core.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (!ec) core.port = core.acceptor.local_endpoint(ec).port();
  if (ec) {
    error_code ignored;
    core.acceptor.close(ignored);
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.host, ":", options.port, ": ", ec.message()));
  }
  core.started = true;
  core.Accept();
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    core.threads.emplace_back([&core] { RunIo(core.io); });
  }
  return absl::OkStatus();
}

int HttpServer::port() const { return core_->port; }

int64_t HttpServer::connections_accepted() const { return core_->accepted; }

void HttpServer::Shutdown(absl::Duration drain) {
  internal::ServerCore& core = *core_;
  if (!core.started || core.shut_down) return;
  core.shut_down = true;
  {
    absl::MutexLock lock(&core.mu);
    core.draining = true;
  }
  net::post(core.acceptor.get_executor(), [&core] {
    error_code ignored;
    core.acceptor.close(ignored);
    core.accept_retry.cancel();
  });
  for (const auto& weak : core.OpenSessions()) {
    if (auto session = weak.lock()) session->Run([](internal::Session& s) { s.Drain(); });
  }
  {
    absl::MutexLock lock(&core.mu);
    core.mu.AwaitWithDeadline(absl::Condition(&core, &internal::ServerCore::NoOpenSessions),
                              absl::Now() + drain);
  }
  for (const auto& weak : core.OpenSessions()) {
    if (auto session = weak.lock()) session->Run([](internal::Session& s) { s.Close(); });
  }
  {
    absl::MutexLock lock(&core.mu);
    core.stopped = true;
  }
  // With every socket closed the remaining operations finish at once and run() returns.
  core.work.reset();
  for (auto& thread : core.threads) thread.join();
  core.threads.clear();
}

}  // namespace bastion::http
