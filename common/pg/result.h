// RAII ownership of PGresult and a typed, bounds-checked view of a successful statement's rows.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

// Debian installs libpq under postgresql/, and @system//:pq adds no include path.
#include <postgresql/libpq-fe.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace bastion::pg {

struct PGresultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, PGresultDeleter>;

// Names a column by index or by name, so every accessor takes either: `GetString(0, "name")`.
class ColumnRef {
 public:
  ColumnRef(int index) : index_(index) {}  // NOLINT: implicit by design.
  ColumnRef(absl::string_view name) : name_(name) {}  // NOLINT
  ColumnRef(const char* name) : name_(name) {}  // NOLINT

 private:
  friend class Result;
  int index_ = -1;
  absl::string_view name_;
};

// The rows of a statement that succeeded (errors never become a Result; they are a Status).
// Values arrive in text format; the getters parse them and return an error, never crash, on a
// missing row or column, a NULL, or text that is not of the asked type.
class Result {
 public:
  explicit Result(ResultPtr result) : result_(std::move(result)) {}

  int rows() const { return PQntuples(result_.get()); }
  int columns() const { return PQnfields(result_.get()); }
  // Rows inserted, updated or deleted (0 for statements that do not report a count).
  int64_t affected_rows() const;

  // The index of the column called `name`, or NotFound.
  absl::StatusOr<int> ColumnIndex(absl::string_view name) const;

  // True when the value is SQL NULL, and also when the row or column does not exist.
  bool IsNull(int row, ColumnRef column) const;

  absl::StatusOr<std::string> GetString(int row, ColumnRef column) const;
  absl::StatusOr<int64_t> GetInt64(int row, ColumnRef column) const;
  absl::StatusOr<bool> GetBool(int row, ColumnRef column) const;
  // A bytea column, decoded from Postgres's hex output ("\x...") to the raw bytes.
  absl::StatusOr<std::string> GetBytes(int row, ColumnRef column) const;
  // A timestamptz column ('infinity' and '-infinity' map to absl's infinite times).
  absl::StatusOr<absl::Time> GetTime(int row, ColumnRef column) const;

  PGresult* raw() const { return result_.get(); }

 private:
  absl::StatusOr<int> Resolve(const ColumnRef& column) const;
  // The text of a non-NULL cell.
  absl::StatusOr<absl::string_view> Text(int row, const ColumnRef& column) const;

  ResultPtr result_;
};

}  // namespace bastion::pg
