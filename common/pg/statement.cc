#include "common/pg/statement.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace bastion::pg {

Param::Param(absl::Time value) {
  if (value == absl::InfiniteFuture()) {
    text_ = "infinity";
  } else if (value == absl::InfinitePast()) {
    text_ = "-infinity";
  } else {
    text_ = absl::FormatTime(absl::RFC3339_full, value, absl::UTCTimeZone());
  }
}

Param Bytea(absl::string_view bytes) { return Param(absl::StrCat("\\x", absl::BytesToHexString(bytes))); }

}  // namespace bastion::pg
