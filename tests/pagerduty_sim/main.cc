// The PagerDuty simulator as a process, for deploy/local and out-of-process tests: wiring only.
#include <csignal>

#include "absl/flags/flag.h"
#include "common/config/config.h"
#include "common/log/log.h"
#include "tests/pagerduty_sim/simulator.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "listen address");
ABSL_FLAG(int, port, 8090, "listen port (REST API, OAuth endpoints and /_sim controls)");
ABSL_FLAG(uint64_t, seed, 1, "seed for the ids of objects created at run time");
ABSL_FLAG(std::string, api_keys, "", "REST API keys, e.g. key:full,readonlykey:read_only");
ABSL_FLAG(std::string, oauth_clients, "", "OAuth clients, client_id:secret,...");
ABSL_FLAG(int, access_token_lifetime_seconds, 3600, "lifetime of OAuth access tokens");
ABSL_FLAG(std::string, default_oauth_user, "PAL1CE7", "user id or email that consents by default");

int main(int argc, char** argv) {
  bastion::config::Parse(argc, argv, "A fake PagerDuty REST API and OAuth server.");
  bastion::log::Init("pagerduty_sim");

  auto keys = bastion::pagerduty_sim::ParseApiKeys(absl::GetFlag(FLAGS_api_keys));
  auto clients = bastion::pagerduty_sim::ParseOAuthClients(absl::GetFlag(FLAGS_oauth_clients));
  if (!keys.ok() || !clients.ok()) {
    bastion::log::Error("bad flags", {{"error", (keys.ok() ? clients.status() : keys.status()).message()}});
    return 2;
  }
  bastion::pagerduty_sim::SimulatorOptions options;
  options.host = absl::GetFlag(FLAGS_host);
  options.port = absl::GetFlag(FLAGS_port);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.api_keys = *std::move(keys);
  options.oauth_clients = *std::move(clients);
  options.access_token_lifetime = absl::Seconds(absl::GetFlag(FLAGS_access_token_lifetime_seconds));
  options.default_oauth_user = absl::GetFlag(FLAGS_default_oauth_user);

  // Block the signals before any thread starts so that only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const int key_count = static_cast<int>(options.api_keys.size());
  bastion::pagerduty_sim::Simulator simulator(std::move(options));
  if (absl::Status s = simulator.Start(); !s.ok()) {
    bastion::log::Error("cannot start", {{"error", s.message()}});
    return 1;
  }
  bastion::log::Info("pagerduty simulator listening",
                     {{"url", simulator.base_url()}, {"api_keys", key_count}});
  int received = 0;
  sigwait(&signals, &received);
  bastion::log::Info("shutting down", {{"signal", received}});
  simulator.Shutdown();
  return 0;
}
