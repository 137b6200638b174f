// What PagerDuty answers, as the connector reads it: status, Retry-After / ratelimit headers and
// bodies, page after page, for a valid call of any catalog tool. The input is text:
//
//   <tool name>            (its first example's arguments, from common/pagerduty/examples.h)
//   ====
//   <status> [header: value lines]
//   <blank line>
//   <body>
//   ====
//   ... one block per HTTP exchange; when the blocks run out the last one repeats
//
// The executor must end (a fake clock moves with every wait, so the time budget holds), never
// crash, never put the credential in what the model sees, and send a bounded number of requests.
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/http/http_client.h"
#include "common/pagerduty/catalog.h"
#include "common/pagerduty/examples.h"
#include "common/pagerduty/executor.h"
#include "common/time/clock.h"

namespace {

using namespace bastion;

constexpr char kSecretValue[] = "fuzz-secret-y7Qw";
constexpr char kSecret[] = "Token token=fuzz-secret-y7Qw";
constexpr int kMaxExchanges = 5000;

class ScriptedPagerDuty : public http::HttpClient {
 public:
  explicit ScriptedPagerDuty(std::vector<http::ClientResponse> answers) : answers_(std::move(answers)) {}
  void Send(http::ClientRequest request, Callback done) override {
    if (++sent_ > kMaxExchanges) __builtin_trap();  // the executor does not stop asking
    if (answers_.empty()) return done(absl::UnavailableError("connection refused"));
    const size_t i = std::min(next_++, answers_.size() - 1);
    if (answers_[i].status == 0) return done(absl::UnavailableError("connection reset"));
    done(answers_[i]);
  }

 private:
  std::vector<http::ClientResponse> answers_;
  size_t next_ = 0;
  int sent_ = 0;
};

class ClockSleeper : public pagerduty::Sleeper {
 public:
  explicit ClockSleeper(FakeClock& clock) : clock_(clock) {}
  void Sleep(absl::Duration d) override { clock_.Advance(d); }

 private:
  FakeClock& clock_;
};

http::ClientResponse ParseAnswer(absl::string_view block) {
  http::ClientResponse r;
  const size_t blank = block.find("\n\n");
  absl::string_view head = block.substr(0, blank);
  if (blank != absl::string_view::npos) r.body = std::string(block.substr(blank + 2));
  bool first = true;
  for (absl::string_view line : absl::StrSplit(head, '\n')) {
    if (first) {
      first = false;
      int status = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &status)) r.status = status;
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    r.headers.emplace_back(absl::AsciiStrToLower(line.substr(0, colon)),
                           std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<absl::string_view> blocks =
      absl::StrSplit(absl::string_view(reinterpret_cast<const char*>(data), size), "\n====\n");
  const absl::string_view name = absl::StripAsciiWhitespace(blocks[0]);
  const pagerduty::ToolExample* example = pagerduty::FindExample(std::string_view(name.data(), name.size()));
  if (example == nullptr) {
    const auto& all = pagerduty::Examples();
    example = &all[blocks[0].size() % all.size()];
  }
  std::vector<http::ClientResponse> answers;
  for (size_t i = 1; i < blocks.size() && answers.size() < 64; ++i) answers.push_back(ParseAnswer(blocks[i]));

  FakeClock clock(absl::FromUnixSeconds(1767225600));
  ClockSleeper sleeper(clock);
  ScriptedPagerDuty upstream(std::move(answers));
  pagerduty::ExecutorOptions options;
  options.us_base_url = "http://pagerduty.invalid";
  pagerduty::Executor executor(upstream, options, clock, sleeper);
  pagerduty::Credential credential{kSecret, "ana@acme.com", "us"};
  pagerduty::Outcome outcome = executor.Run(example->tool, example->arguments, credential);

  // The credential leaked into what the model sees, unless PagerDuty's scripted answers carried
  // the same text themselves (then it is upstream data passed on, not a leak).
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string seen = outcome.message + boost::json::serialize(outcome.result);
  if (seen.find(kSecretValue) != std::string::npos && !absl::StrContains(input, kSecretValue)) {
    __builtin_trap();
  }
  if (clock.Now() - absl::FromUnixSeconds(1767225600) > options.total_budget + options.max_backoff) {
    __builtin_trap();  // waited past the call's time budget
  }
  return 0;
}
