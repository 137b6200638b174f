// Named SQL statements with $1..$n placeholders and their text-format parameters: the only way
// values reach Postgres, so SQL is never built by concatenating values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace bastion::pg {

// A SQL statement with a stable name, declared once as a constant:
//
//   inline constexpr pg::Statement kGetTenant{
//       "get_tenant", "SELECT name FROM tenants WHERE id = $1"};
//
// A named statement is prepared on first use on each connection and re-executed from then on.
// An empty name runs the SQL unprepared (PQexecParams); use it for SQL assembled at run time
// from trusted identifiers, never from values.
struct Statement {
  absl::string_view name;
  absl::string_view sql;
};

// One parameter value, sent in text format; std::nullopt is SQL NULL. Implicit conversions let
// call sites write `{tenant_id, int64_t{42}, true, std::nullopt, absl::Now()}`.
class Param {
 public:
  Param(std::nullopt_t) {}  // NOLINT: implicit by design.
  Param(const char* value) : text_(std::string(value)) {}  // NOLINT
  Param(absl::string_view value) : text_(std::string(value)) {}  // NOLINT
  Param(std::string_view value) : text_(std::string(value)) {}  // NOLINT
  Param(std::string value) : text_(std::move(value)) {}  // NOLINT
  Param(std::optional<std::string> value) : text_(std::move(value)) {}  // NOLINT
  Param(int value) : text_(std::to_string(value)) {}  // NOLINT
  Param(long value) : text_(std::to_string(value)) {}  // NOLINT
  Param(long long value) : text_(std::to_string(value)) {}  // NOLINT
  Param(bool value) : text_(value ? "true" : "false") {}  // NOLINT
  // RFC 3339 in UTC; absl::InfiniteFuture()/InfinitePast() become 'infinity'/'-infinity'.
  Param(absl::Time value);  // NOLINT

  // The text sent to the server, or std::nullopt for NULL.
  const std::optional<std::string>& text() const { return text_; }

 private:
  std::optional<std::string> text_;
};

using Params = std::vector<Param>;

// A bytea parameter: raw bytes encoded as the hex text form ("\x0a1b...") Postgres accepts.
Param Bytea(absl::string_view bytes);

}  // namespace bastion::pg
