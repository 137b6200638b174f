// Turns Postgres and libpq failures into absl::Status, keeping the SQLSTATE so callers can decide
// (for example, retry on Aborted, report a duplicate on AlreadyExists).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace bastion::pg {

// The payload type URL under which a failed statement's SQLSTATE is attached to its status.
inline constexpr absl::string_view kSqlStatePayloadUrl = "type.bastion.dev/pg.sqlstate";

// Well-known SQLSTATEs callers branch on.
inline constexpr absl::string_view kUniqueViolation = "23505";
inline constexpr absl::string_view kForeignKeyViolation = "23503";
inline constexpr absl::string_view kSerializationFailure = "40001";
inline constexpr absl::string_view kDeadlockDetected = "40P01";
inline constexpr absl::string_view kQueryCanceled = "57014";

// The status for a server error with SQLSTATE `sqlstate`:
//   23505 unique_violation      -> AlreadyExists
//   23503 foreign_key_violation -> FailedPrecondition
//   40001, 40P01                -> Aborted (retry the transaction)
//   57014 query_canceled        -> DeadlineExceeded (statement_timeout fired)
//   08xxx, 57P01..57P03, 53300  -> Unavailable (connection lost or refused)
//   anything else               -> Internal
// The message reads "<context>: <message> (SQLSTATE <code>)" and the code is also attached as
// the kSqlStatePayloadUrl payload.
absl::Status StatusFromSqlState(absl::string_view sqlstate, absl::string_view context,
                                absl::string_view message);

// The SQLSTATE attached to `status`, or "" when it did not come from a server error.
std::string SqlState(const absl::Status& status);

}  // namespace bastion::pg
