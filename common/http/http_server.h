// Asynchronous HTTP/1.1 server (Boost.Beast) behind every Bastion listener: the admin port and
// the edge's MCP endpoint. Handlers never block an I/O thread; they answer through a Responder.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/http/headers.h"

namespace bastion::http {

struct Request {
  std::string method;
  std::string target;  // Path and query as sent, not percent-decoded.
  std::string path;
  std::string query;  // Without the leading '?'.
  Headers headers;
  std::string body;
  std::string remote_address;  // The peer's IP address.

  std::optional<absl::string_view> Header(absl::string_view name) const {
    return FindHeader(headers, name);
  }
};

struct Response {
  int status = 200;
  // The server sets Content-Length, Transfer-Encoding and Connection itself.
  Headers headers;
  std::string body;
};

// A response with `Content-Type: application/json`.
Response JsonResponse(int status, std::string body);

// The body of a streamed (chunked) response, e.g. Server-Sent Events. Thread-safe; chunks are
// sent in the order Write() was called. Destroying the writer closes the stream.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Queues a chunk; false once the stream is closed (the chunk is dropped).
  virtual bool Write(std::string chunk) = 0;
  // Ends the response. Idempotent.
  virtual void Close() = 0;
  virtual bool closed() const = 0;
  // Runs `callback` once, when Close() is called (on that thread) or the client goes away (on an
  // I/O thread, so it must not block); at once if already closed.
  virtual void OnClose(std::function<void()> callback) = 0;
};

// Completes one request, from any thread, exactly once: later calls are ignored. Dropping it
// unanswered sends a 500, so a buggy handler never leaves a client hanging.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void Respond(Response response) = 0;
  // Sends status and headers now and the body as chunks through the writer. The connection
  // closes when the stream ends (no keep-alive after a stream). After Respond() or a first
  // StartStream(), returns an already closed writer.
  virtual std::shared_ptr<StreamWriter> StartStream(int status, Headers headers) = 0;
  // Closes the connection without sending a byte of response, as a network failure would: the
  // client cannot tell whether the request was acted on. For fault injection (the PagerDuty
  // simulator); it completes the request like Respond().
  virtual void Abort() = 0;
};

// Runs on an I/O thread, concurrently with other requests' handlers. It must return quickly and
// hand slow work (database, outbound HTTP, anything blocking) to another executor, answering
// through the Responder later.
using Handler = std::function<void(Request, std::shared_ptr<Responder>)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // An IP address; "0.0.0.0" or "::" for all interfaces.
  int port = 0;                    // 0 picks a free port; see HttpServer::port().
  int io_threads = 2;
  size_t max_body_bytes = 1 << 20;  // Larger bodies get 413 before they are read.
  // Limits that stop slow or idle clients from pinning connections.
  absl::Duration idle_timeout = absl::Seconds(60);   // For a kept-alive connection's next request.
  absl::Duration read_timeout = absl::Seconds(10);   // For a request's headers, then its body.
  absl::Duration write_timeout = absl::Seconds(30);  // For each write to the client.
};

namespace internal {
struct ServerCore;
}

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options = {});
  // Shuts down without draining if Shutdown() was not called.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes are registered before Start(). `method` "*" matches any method. An exact path beats a
  // prefix and the longest prefix wins; a path that matches only with another method gets 405,
  // one that matches nothing gets 404.
  void Route(std::string method, std::string path, Handler handler);
  void RoutePrefix(std::string method, std::string prefix, Handler handler);

  // Binds, listens and starts the I/O threads.
  absl::Status Start();
  // The bound port, valid after Start() succeeded.
  int port() const;

  // Stops accepting, closes idle connections, lets requests in flight (streams included) finish
  // until `drain` has passed, then closes everything and joins the I/O threads. Idempotent.
  // Never call it from a handler or callback: it waits for the I/O threads.
  void Shutdown(absl::Duration drain);

  // Connections accepted since Start(), for tests and metrics.
  int64_t connections_accepted() const;

 private:
  std::shared_ptr<internal::ServerCore> core_;
};

}  // namespace bastion::http
