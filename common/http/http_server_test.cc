#include "common/http/http_server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace bastion::http {
namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

// Every wait is bounded so that a broken server fails a test instead of hanging it.
constexpr auto kSafetyNet = std::chrono::seconds(10);
constexpr absl::Duration kSafetyNetAbsl = absl::Seconds(10);

// A client on one real loopback connection.
class Connection {
 public:
  explicit Connection(int port) {
    error_code ec;
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    connected_ = !ec;
  }

  bool connected() const { return connected_; }

  void Send(const std::string& raw) {
    error_code ignored;
    net::write(socket_, net::buffer(raw), ignored);
  }

  // The next whole response, or nullopt if the connection closed or nothing came in time.
  std::optional<bhttp::response<bhttp::string_body>> Read() {
    bhttp::response<bhttp::string_body> response;
    auto ec = Do([&](auto done) { bhttp::async_read(socket_, buffer_, response, done); });
    if (!ec || *ec) return std::nullopt;
    return response;
  }

  // True when the server has closed the connection (and sent nothing more).
  bool ClosedByServer() {
    char byte;
    auto ec = Do([&](auto done) { socket_.async_read_some(net::buffer(&byte, 1), done); });
    return ec && *ec;
  }

  void Close() {
    error_code ignored;
    socket_.close(ignored);
  }

  // Runs one asynchronous operation: its error code, or nullopt if it timed out.
  template <class Start>
  std::optional<error_code> Do(Start start) {
    std::optional<error_code> result;
    start([&](error_code ec, size_t) { result = ec; });
    io_.restart();
    io_.run_for(kSafetyNet);
    if (!result) {
      Close();
      io_.restart();
      io_.run();
      return std::nullopt;
    }
    return result;
  }

  tcp::socket& socket() { return socket_; }
  boost::beast::flat_buffer& buffer() { return buffer_; }

 private:
  net::io_context io_;
  tcp::socket socket_{io_};
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
};

std::string Get(const std::string& target) {
  return absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: test\r\n\r\n");
}

Handler Reply(std::string body) {
  return [body](Request, std::shared_ptr<Responder> responder) {
    responder->Respond({200, {{"Content-Type", "text/plain"}}, body});
  };
}

// Responders a test keeps to complete later.
struct Parked {
  Handler Park() {
    return [this](Request, std::shared_ptr<Responder> responder) {
      absl::MutexLock lock(&mu);
      responders.push_back(std::move(responder));
    };
  }
  std::shared_ptr<Responder> WaitForOne() {
    absl::MutexLock lock(&mu);
    mu.AwaitWithTimeout(absl::Condition(this, &Parked::Any), kSafetyNetAbsl);
    return responders.empty() ? nullptr : responders.front();
  }
  bool Any() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return !responders.empty(); }

  absl::Mutex mu;
  std::vector<std::shared_ptr<Responder>> responders ABSL_GUARDED_BY(mu);
};

TEST(HttpServer, RoutesExactPathsThenTheLongestPrefix) {
  HttpServer server;
  server.Route("GET", "/a", Reply("exact"));
  server.RoutePrefix("GET", "/a/", Reply("a prefix"));
  server.RoutePrefix("*", "/a/b/", Reply("a/b prefix"));
  ASSERT_TRUE(server.Start().ok());
  Connection c(server.port());

  auto body_of = [&](const std::string& target) {
    c.Send(Get(target));
    auto response = c.Read();
    return response ? response->body() : "<no response>";
  };
  EXPECT_EQ(body_of("/a"), "exact");
  EXPECT_EQ(body_of("/a/x"), "a prefix");
  EXPECT_EQ(body_of("/a/b/c?q=1"), "a/b prefix");
}

TEST(HttpServer, UnknownPathIs404JsonAndWrongMethodIs405) {
  HttpServer server;
  server.Route("GET", "/only-get", Reply("ok"));
  ASSERT_TRUE(server.Start().ok());
  Connection c(server.port());

  c.Send(Get("/nowhere"));
  auto missing = c.Read();
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->result_int(), 404);
  EXPECT_EQ(missing->at(bhttp::field::content_type), "application/json");
  EXPECT_EQ(missing->body(), R"({"error":"not found"})");

  c.Send("DELETE /only-get HTTP/1.1\r\nHost: test\r\n\r\n");
  auto wrong_method = c.Read();
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->result_int(), 405);
}

TEST(HttpServer, HandlerSeesTheWholeRequest) {
  HttpServer server;
  server.Route("POST", "/echo", [](Request r, std::shared_ptr<Responder> responder) {
    responder->Respond({201,
                        {{"X-Method", r.method},
                         {"X-Path", r.path},
                         {"X-Query", r.query},
                         {"X-Target", r.target},
                         {"X-Remote", r.remote_address},
                         {"X-Thing", std::string(r.Header("x-THING").value_or("missing"))}},
                        r.body});
  });
  ASSERT_TRUE(server.Start().ok());
  Connection c(server.port());

  c.Send(
      "POST /echo?a=1&b=2 HTTP/1.1\r\nHost: test\r\nX-Thing: value\r\nContent-Length: 5\r\n\r\n"
      "hello");
  auto response = c.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 201);
  EXPECT_EQ(response->at("X-Method"), "POST");
  EXPECT_EQ(response->at("X-Path"), "/echo");
  EXPECT_EQ(response->at("X-Query"), "a=1&b=2");
  EXPECT_EQ(response->at("X-Target"), "/echo?a=1&b=2");
  EXPECT_EQ(response->at("X-Remote"), "127.0.0.1");
  EXPECT_EQ(response->at("X-Thing"), "value");
  EXPECT_EQ(response->body(), "hello");
}

TEST(HttpServer, HandlerMayRespondLaterFromAnotherThread) {
  std::vector<std::thread> workers;
  absl::Mutex mu;
  HttpServer server;
  server.Route("GET", "/later", [&](Request, std::shared_ptr<Responder> responder) {
    absl::MutexLock lock(&mu);
    workers.emplace_back([responder] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      responder->Respond({200, {}, "from a worker"});
    });
  });
  ASSERT_TRUE(server.Start().ok());
  Connection c(server.port());

  c.Send(Get("/later"));
  auto response = c.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body(), "from a worker");

  absl::MutexLock lock(&mu);
  for (auto& worker : workers) worker.join();
}

TEST(HttpServer, KeepAliveServesTwoRequestsOnOneConnection) {
  HttpServer server;
  server.Route("GET", "/x", Reply("x"));
  ASSERT_TRUE(server.Start().ok());
  Connection c(server.port());

  c.Send(Get("/x"));
  auto first = c.Read();
  c.Send(Get("/x"));
  auto second = c.Read();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body(), "x");
  EXPECT_EQ(second->body(), "x");
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(HttpServer, BodyOverTheLimitGets413BeforeItIsRead) {
  std::atomic<bool> handler_ran{false};
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  HttpServer server(options);
  server.Route("POST", "/upload", [&](Request, std::shared_ptr<Responder> responder) {
    handler_ran = true;
    responder->Respond({});
  });
  ASSERT_TRUE(server.Start().ok());

  // Announced too large: answered after the headers, long before 10 MB could arrive.
  Connection announced(server.port());
  announced.Send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 10000000\r\n\r\n" +
                 std::string(100, 'x'));
  auto response = announced.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 413);
  EXPECT_FALSE(response->keep_alive());

  // Chunked, so the size shows only while reading.
  Connection chunked(server.port());
  chunked.Send("POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
               std::string(0x800, 'y') + "\r\n0\r\n\r\n");
  response = chunked.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 413);
  EXPECT_FALSE(handler_ran);
}

TEST(HttpServer, ExpectContinueGetsAnInterimResponseBeforeTheBody) {
  HttpServer server;
  server.Route("POST", "/upload", [](Request r, std::shared_ptr<Responder> responder) {
    responder->Respond({200, {}, r.body});
  });
  ASSERT_TRUE(server.Start().ok());
  Connection c(server.port());

  c.Send(
      "POST /upload HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  auto interim = c.Read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->result_int(), 100);
  c.Send("data");
  auto response = c.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body(), "data");
}

TEST(HttpServer, HeadResponseCarriesNoBody) {
  HttpServer server;
  server.Route("GET", "/x", Reply("x"));
  ASSERT_TRUE(server.Start().ok());
  Connection c(server.port());

  // The 405 for HEAD must not leave a body on the wire to be misread as the next response.
  c.Send("HEAD /x HTTP/1.1\r\nHost: test\r\n\r\n" + Get("/x"));
  bhttp::response_parser<bhttp::empty_body> head;
  head.skip(true);  // Beast's way of saying "this answers a HEAD request".
  auto ec = c.Do([&](auto done) { bhttp::async_read(c.socket(), c.buffer(), head, done); });
  ASSERT_TRUE(ec && !*ec);
  EXPECT_EQ(head.get().result_int(), 405);
  auto next = c.Read();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body(), "x");
}

TEST(HttpServer, MalformedRequestGets400AndTheConnectionCloses) {
  HttpServer server;
  server.Route("GET", "/", Reply("ok"));
  ASSERT_TRUE(server.Start().ok());
  Connection c(server.port());

  c.Send("\x01\x02 nonsense\r\n\r\n");
  auto response = c.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 400);
  EXPECT_TRUE(c.ClosedByServer());
}

TEST(HttpServer, DroppedOrThrowingHandlerAnswers500) {
  HttpServer server;
  server.Route("GET", "/drop", [](Request, std::shared_ptr<Responder>) {});
  server.Route("GET", "/throw",
               [](Request, std::shared_ptr<Responder>) { throw std::runtime_error("bug"); });
  ASSERT_TRUE(server.Start().ok());
  Connection c(server.port());

  c.Send(Get("/drop"));
  auto dropped = c.Read();
  ASSERT_TRUE(dropped);
  EXPECT_EQ(dropped->result_int(), 500);

  c.Send(Get("/throw"));
  auto threw = c.Read();
  ASSERT_TRUE(threw);
  EXPECT_EQ(threw->result_int(), 500);
}

TEST(HttpServer, AbortClosesTheConnectionWithoutAByteOfResponse) {
  HttpServer server;
  // The later Respond() must be ignored: Abort completed the request.
  server.Route("POST", "/abort", [](Request, std::shared_ptr<Responder> responder) {
    responder->Abort();
    responder->Respond({200, {}, "too late"});
  });
  server.Route("GET", "/ok", Reply("still serving"));
  ASSERT_TRUE(server.Start().ok());

  Connection aborted(server.port());
  aborted.Send("POST /abort HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_TRUE(aborted.ClosedByServer());  // False if even one byte had arrived.

  Connection next(server.port());
  next.Send(Get("/ok"));
  auto response = next.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body(), "still serving");
}

TEST(HttpServer, AbortAfterRespondLeavesTheConnectionOpen) {
  HttpServer server;
  server.Route("GET", "/x", [](Request, std::shared_ptr<Responder> responder) {
    responder->Respond({200, {}, "answered"});
    responder->Abort();
  });
  ASSERT_TRUE(server.Start().ok());
  Connection c(server.port());

  for (int i = 0; i < 2; ++i) {
    c.Send(Get("/x"));
    auto response = c.Read();
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(response->body(), "answered");
  }
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(HttpServer, HeaderInjectionFromAHandlerBecomes500) {
  HttpServer server;
  server.Route("GET", "/", [](Request, std::shared_ptr<Responder> responder) {
    responder->Respond({200, {{"X-Echo", "a\r\nSet-Cookie: stolen=1"}}, "ok"});
  });
  ASSERT_TRUE(server.Start().ok());
  Connection c(server.port());

  c.Send(Get("/"));
  auto response = c.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 500);
  EXPECT_EQ(response->count(bhttp::field::set_cookie), 0);
}

// Shared between an SSE handler and the test.
struct StreamState {
  absl::Notification started;
  absl::Notification closed;
  std::shared_ptr<StreamWriter> writer;
};

Handler StartSse(StreamState* state) {
  return [state](Request, std::shared_ptr<Responder> responder) {
    state->writer = responder->StartStream(200, {{"Content-Type", "text/event-stream"}});
    state->writer->OnClose([state] { state->closed.Notify(); });
    state->started.Notify();
  };
}

TEST(HttpServer, StreamDeliversChunksInOrderAndSeesTheClientLeave) {
  StreamState state;
  HttpServer server;
  server.Route("GET", "/events", StartSse(&state));
  ASSERT_TRUE(server.Start().ok());
  Connection c(server.port());

  c.Send(Get("/events"));
  ASSERT_TRUE(state.started.WaitForNotificationWithTimeout(kSafetyNetAbsl));
  const std::vector<std::string> events = {"data: 1\n\n", "data: 2\n\n", "data: 3\n\n"};
  for (const auto& event : events) EXPECT_TRUE(state.writer->Write(event));

  bhttp::response_parser<bhttp::string_body> parser;
  auto ec =
      c.Do([&](auto done) { bhttp::async_read_header(c.socket(), c.buffer(), parser, done); });
  ASSERT_TRUE(ec && !*ec);
  EXPECT_EQ(parser.get().result_int(), 200);
  EXPECT_EQ(parser.get()[bhttp::field::content_type], "text/event-stream");
  EXPECT_TRUE(parser.chunked());
  const std::string expected = events[0] + events[1] + events[2];
  while (parser.get().body().size() < expected.size()) {
    ec = c.Do([&](auto done) { bhttp::async_read_some(c.socket(), c.buffer(), parser, done); });
    ASSERT_TRUE(ec && !*ec);
  }
  EXPECT_EQ(parser.get().body(), expected);
  EXPECT_FALSE(state.closed.HasBeenNotified());

  c.Close();
  ASSERT_TRUE(state.closed.WaitForNotificationWithTimeout(kSafetyNetAbsl));
  EXPECT_TRUE(state.writer->closed());
  EXPECT_FALSE(state.writer->Write("data: too late\n\n"));
}

TEST(HttpServer, ClosingAStreamEndsTheResponse) {
  StreamState state;
  HttpServer server;
  server.Route("GET", "/events", StartSse(&state));
  ASSERT_TRUE(server.Start().ok());
  Connection c(server.port());

  c.Send(Get("/events"));
  ASSERT_TRUE(state.started.WaitForNotificationWithTimeout(kSafetyNetAbsl));
  state.writer->Write("data: last\n\n");
  state.writer->Close();
  EXPECT_TRUE(state.closed.HasBeenNotified());

  auto response = c.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body(), "data: last\n\n");
  EXPECT_TRUE(c.ClosedByServer());
}

TEST(HttpServer, ShutdownLetsARequestInFlightFinish) {
  Parked parked;
  HttpServer server;
  server.Route("GET", "/slow", parked.Park());
  ASSERT_TRUE(server.Start().ok());
  Connection c(server.port());
  c.Send(Get("/slow"));
  auto responder = parked.WaitForOne();
  ASSERT_NE(responder, nullptr);

  std::thread shutdown([&] { server.Shutdown(absl::Seconds(30)); });
  // New connections are refused once the drain has begun.
  absl::Time give_up = absl::Now() + kSafetyNetAbsl;
  while (Connection(server.port()).connected() && absl::Now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  responder->Respond({200, {}, "finished"});
  auto response = c.Read();
  shutdown.join();

  ASSERT_TRUE(response);
  EXPECT_EQ(response->body(), "finished");
  EXPECT_FALSE(response->keep_alive());
  EXPECT_FALSE(Connection(server.port()).connected());
}

TEST(HttpServer, ShutdownDeadlineClosesRequestsThatNeverFinish) {
  Parked parked;
  std::shared_ptr<Responder> responder;
  {
    HttpServer server;
    server.Route("GET", "/stuck", parked.Park());
    ASSERT_TRUE(server.Start().ok());
    Connection c(server.port());
    c.Send(Get("/stuck"));
    responder = parked.WaitForOne();
    ASSERT_NE(responder, nullptr);

    server.Shutdown(absl::Milliseconds(50));
    EXPECT_FALSE(c.Read());  // Closed, not left hanging.
  }
  // Answering after the server is gone is harmless.
  responder->Respond({200, {}, "too late"});
}

TEST(HttpServer, SlowAndIdleClientsAreDisconnected) {
  HttpServerOptions options;
  options.read_timeout = absl::Milliseconds(100);
  options.idle_timeout = absl::Milliseconds(100);
  HttpServer server(options);
  server.Route("GET", "/", Reply("ok"));
  ASSERT_TRUE(server.Start().ok());

  Connection slow(server.port());
  slow.Send("GET / HTTP/1.1\r\nHost: te");
  EXPECT_TRUE(slow.ClosedByServer());

  Connection idle(server.port());
  EXPECT_TRUE(idle.ClosedByServer());
}

TEST(HttpServer, StartFailsWhenThePortIsTaken) {
  HttpServer first;
  ASSERT_TRUE(first.Start().ok());
  HttpServerOptions options;
  options.port = first.port();
  HttpServer second(options);
  EXPECT_EQ(second.Start().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace bastion::http
