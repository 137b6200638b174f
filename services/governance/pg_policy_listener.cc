#include "services/governance/pg_policy_listener.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "common/log/log.h"

namespace bastion::governance {
namespace {

constexpr char kListen[] = "LISTEN governance_policy";
constexpr int kPollMillis = 200;

}  // namespace

PgPolicyListener::PgPolicyListener(pg::ConnectOptions options, OnVersion on_version,
                                   OnConnected on_connected, absl::Duration ping_interval)
    : options_(std::move(options)),
      on_version_(std::move(on_version)),
      on_connected_(std::move(on_connected)),
      ping_interval_(ping_interval) {}

PgPolicyListener::~PgPolicyListener() { Stop(); }

void PgPolicyListener::Start() { thread_ = std::thread([this] { Run(); }); }

void PgPolicyListener::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void PgPolicyListener::Run() {
  absl::Duration backoff = absl::Milliseconds(100);
  bool warned = false;
  while (!stop_) {
    auto conn = pg::Connection::Open(options_);
    absl::Status s = conn.ok() ? (*conn)->ExecuteScript(kListen, "listen") : conn.status();
    if (!s.ok()) {
      // Logged once per outage: decisions keep working, but changes made on other replicas
      // reach this one only after the connection is back.
      if (!warned) log::Warn("cannot listen for policy changes; retrying", {{"error", s.message()}});
      warned = true;
      for (absl::Time until = absl::Now() + backoff; !stop_ && absl::Now() < until;) {
        absl::SleepFor(absl::Milliseconds(50));
      }
      backoff = std::min(backoff * 2, absl::Seconds(5));
      continue;
    }
    if (warned) log::Info("listening for policy changes again");
    warned = false;
    backoff = absl::Milliseconds(100);
    listening_ = true;
    // Changes committed while nobody listened are only visible in the table.
    on_connected_();
    Listen(**conn);
    listening_ = false;
  }
}

void PgPolicyListener::Listen(pg::Connection& conn) {
  PGconn* c = conn.raw();
  absl::Time next_ping = absl::Now() + ping_interval_;
  while (!stop_) {
    pollfd fd{PQsocket(c), POLLIN, 0};
    const int ready = poll(&fd, 1, kPollMillis);
    if (ready < 0 && errno != EINTR) return;
    if (ready > 0 && PQconsumeInput(c) == 0) return;
    while (PGnotify* n = PQnotifies(c)) {
      Deliver(n->extra);
      PQfreemem(n);
    }
    if (PQstatus(c) != CONNECTION_OK) return;
    if (absl::Now() >= next_ping) {
      // A peer that vanished without closing the socket is only noticed by talking to it.
      if (!conn.ExecuteScript("SELECT 1", "listener ping").ok()) return;
      next_ping = absl::Now() + ping_interval_;
    }
  }
}

void PgPolicyListener::Deliver(const char* payload) {
  absl::string_view p(payload == nullptr ? "" : payload);
  const size_t colon = p.rfind(':');
  int64_t version = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(p.substr(colon + 1), &version)) {
    log::Warn("ignoring a malformed policy notification");
    return;
  }
  on_version_(std::string(p.substr(0, colon)), version);
}

}  // namespace bastion::governance
