// tools/call arguments for all catalog tools, shaped by each tool's input schema: the input picks
// a tool, then every decision while walking the schema (which properties, which enum value, how
// long an array, a wrong type now and then, an unknown member). Validation must never crash or
// throw; arguments it accepts must build requests or be refused with InvalidArgument or
// FailedPrecondition, and every built request must encode to a request target.
#include <cstdint>
#include <string>

#include <boost/json.hpp>

#include "absl/status/status.h"
#include "common/pagerduty/catalog.h"
#include "common/pagerduty/examples.h"
#include "common/pagerduty/request_builder.h"
#include "common/pagerduty/validate.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using bastion::fuzz::FuzzInput;
namespace json = boost::json;

json::value Generate(const json::value& schema, FuzzInput& in, int depth);

// Any JSON value, whatever the schema says: how a confused or hostile client answers.
json::value Wild(FuzzInput& in, int depth) {
  switch (in.Byte() % 7) {
    case 0: return nullptr;
    case 1: return in.Bool();
    case 2: return in.Int();
    case 3: return static_cast<double>(in.Int()) / 1000.0;
    case 4: return json::string(in.String());
    case 5: {
      json::array a;
      if (depth < 4) {
        for (size_t n = in.Below(4); n > 0; --n) a.push_back(Wild(in, depth + 1));
      }
      return a;
    }
    default: {
      json::object o;
      if (depth < 4) {
        for (size_t n = in.Below(4); n > 0; --n) o[in.String(12)] = Wild(in, depth + 1);
      }
      return o;
    }
  }
}

std::string TypeOf(const json::object& schema, FuzzInput& in) {
  const json::value* type = schema.if_contains("type");
  if (type == nullptr) return "";
  if (type->is_string()) return std::string(type->get_string());
  if (type->is_array() && !type->get_array().empty()) {
    const json::array& types = type->get_array();
    const json::value& pick = types[in.Below(types.size())];
    if (pick.is_string()) return std::string(pick.get_string());
  }
  return "";
}

int64_t Bound(const json::object& schema, const char* key, int64_t fallback) {
  const json::value* v = schema.if_contains(key);
  if (v == nullptr) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return fallback;
}

json::value GenerateString(const json::object& schema, FuzzInput& in) {
  if (const json::value* values = schema.if_contains("enum"); values && values->is_array() &&
                                                              !values->get_array().empty() && in.Byte() % 8 != 0) {
    return values->get_array()[in.Below(values->get_array().size())];
  }
  static const char* const kShaped[] = {"P1ABCDE",
                                        "2026-01-02T03:04:05Z",
                                        "2026-01-02T03:04:05+05:30",
                                        "2026-01-02",
                                        "ana@acme.com",
                                        "Europe/Berlin",
                                        "../../users/me",
                                        "a/b?c=d&e#f",
                                        "%2e%2e%2F",
                                        "\xff\xfe",
                                        "",
                                        " "};
  if (in.Bool()) return json::string(kShaped[in.Below(sizeof(kShaped) / sizeof(kShaped[0]))]);
  return json::string(in.String(static_cast<size_t>(std::min<int64_t>(Bound(schema, "maxLength", 40), 200))));
}

json::value GenerateObject(const json::object& schema, FuzzInput& in, int depth) {
  json::object out;
  if (const json::value* props = schema.if_contains("properties"); props && props->is_object()) {
    for (const auto& member : props->get_object()) {
      if (in.Byte() % 3 == 0) continue;  // leave it out (required or not)
      out[member.key()] = Generate(member.value(), in, depth + 1);
    }
  }
  if (in.Byte() % 16 == 0) out[in.String(16)] = Wild(in, depth + 1);  // a member nobody declared
  return out;
}

json::value Generate(const json::value& schema_value, FuzzInput& in, int depth) {
  if (!schema_value.is_object() || depth > 8 || in.Byte() % 32 == 0) return Wild(in, depth);
  const json::object& schema = schema_value.get_object();
  const std::string type = TypeOf(schema, in);
  if (type == "string") return GenerateString(schema, in);
  if (type == "integer") {
    const int64_t lo = Bound(schema, "minimum", -5), hi = Bound(schema, "maximum", 1000);
    if (in.Byte() % 8 == 0) return in.Int();
    return hi >= lo ? lo + static_cast<int64_t>(in.Below(static_cast<size_t>(std::min<int64_t>(hi - lo, 65535)) + 1))
                    : lo;
  }
  if (type == "number") return static_cast<double>(in.Int()) / 997.0;
  if (type == "boolean") return in.Bool();
  if (type == "array") {
    json::array a;
    const json::value* items = schema.if_contains("items");
    size_t n = in.Below(static_cast<size_t>(std::min<int64_t>(Bound(schema, "maxItems", 6), 12)) + 1);
    while (n-- > 0 && !in.empty()) a.push_back(items ? Generate(*items, in, depth + 1) : Wild(in, depth + 1));
    return a;
  }
  if (type == "object" || schema.contains("properties")) return GenerateObject(schema, in, depth);
  return Wild(in, depth);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bastion::pagerduty;
  const auto& catalog = Catalog();
  FuzzInput in(data, size);
  const ToolDef& tool = catalog[in.Below(catalog.size())];
  const bool as_user = in.Bool();
  const json::value arguments = in.Byte() % 16 == 0 ? Wild(in, 0) : Generate(tool.input_schema, in, 0);

  const absl::Status valid = ValidateArguments(tool, arguments);
  if (!valid.ok()) {
    if (valid.code() != absl::StatusCode::kInvalidArgument) __builtin_trap();
    return 0;
  }
  const json::object empty;
  const json::object& args = arguments.is_object() ? arguments.get_object() : empty;
  CallContext context = ExampleContext();
  if (!as_user) context.user.reset();
  auto requests = BuildRequests(tool, args, context);
  if (!requests.ok()) {
    const absl::StatusCode code = requests.status().code();
    if (code != absl::StatusCode::kInvalidArgument && code != absl::StatusCode::kFailedPrecondition) {
      __builtin_trap();  // valid arguments must never be an internal error
    }
    return 0;
  }
  for (const UpstreamRequest& request : *requests) {
    const std::string target = RequestTarget(request);
    if (target.empty() || target[0] != '/') __builtin_trap();
    if (request.body.has_value()) (void)json::serialize(*request.body);
  }
  return 0;
}
