#include "common/pg/errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace bastion::pg {
namespace {

absl::StatusCode CodeFor(absl::string_view sqlstate) {
  if (sqlstate == kUniqueViolation) return absl::StatusCode::kAlreadyExists;
  if (sqlstate == kForeignKeyViolation) return absl::StatusCode::kFailedPrecondition;
  if (sqlstate == kSerializationFailure || sqlstate == kDeadlockDetected) {
    return absl::StatusCode::kAborted;
  }
  if (sqlstate == kQueryCanceled) return absl::StatusCode::kDeadlineExceeded;
  // Class 08 is "connection exception"; 57P01..03 are the server shutting a session down or
  // refusing new ones; 53300 is too_many_connections. All are worth retrying elsewhere/later.
  if (absl::StartsWith(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03" || sqlstate == "53300") {
    return absl::StatusCode::kUnavailable;
  }
  return absl::StatusCode::kInternal;
}

}  // namespace

absl::Status StatusFromSqlState(absl::string_view sqlstate, absl::string_view context,
                                absl::string_view message) {
  absl::Status status(CodeFor(sqlstate),
                      absl::StrCat(context, ": ", message, " (SQLSTATE ", sqlstate, ")"));
  status.SetPayload(kSqlStatePayloadUrl, absl::Cord(sqlstate));
  return status;
}

std::string SqlState(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kSqlStatePayloadUrl);
  return payload ? std::string(*payload) : std::string();
}

}  // namespace bastion::pg
