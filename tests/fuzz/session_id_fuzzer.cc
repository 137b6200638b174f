// MCP-Session-Id values as a client may send them: arbitrary bytes, and edits of a real id
// (a byte changed, inserted or removed, the id cut or extended). Verify must never crash and
// must accept exactly the id it issued and has not ended, in the one spelling it wrote.
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "common/time/clock.h"
#include "services/edge/session.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

struct Fixture {
  bastion::FakeClock clock{absl::FromUnixSeconds(1767225600)};
  bastion::edge::SessionCodec codec{{"current-key", "previous-key"}, clock, absl::Hours(24)};
  std::string issued = codec.Issue("t-acme", "u-ana", "pagerduty", "2025-11-25");
  std::string ended = codec.Issue("t-acme", "u-bo", "pagerduty", "2025-06-18");
  Fixture() { codec.End(ended); }
};

// Only the exact id issued passes: another spelling of it (padding, whitespace, changed unused
// bits) would let an ended session come back, and anything else was never signed.
void CheckAccepted(const Fixture& f, const std::string& id, const bastion::edge::Session& s) {
  if (id != f.issued) __builtin_trap();
  if (s.tenant_id != "t-acme" || s.user_id != "u-ana" || s.server != "pagerduty" ||
      s.protocol_version != "2025-11-25") {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = new Fixture();
  bastion::fuzz::FuzzInput in(data, size);
  const uint8_t mode = in.Byte() % 3;
  std::string id;
  if (mode == 0) {
    id = in.Rest();
  } else {
    id = mode == 1 ? f->issued : f->ended;
    while (!in.empty()) {
      const size_t at = in.Below(id.size() + 1);
      switch (in.Byte() % 4) {
        case 0:
          if (at < id.size()) id[at] = static_cast<char>(in.Byte());
          break;
        case 1:
          id.insert(id.begin() + at, static_cast<char>(in.Byte()));
          break;
        case 2:
          if (at < id.size()) id.erase(at, 1);
          break;
        default:
          id.resize(at);
      }
    }
  }
  auto session = f->codec.Verify(id);
  if (session.ok()) CheckAccepted(*f, id, *session);
  return 0;
}
