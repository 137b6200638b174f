// Reading result rows column by column, in the order a statement names them, with the store's
// defaults for NULLs; and ReadOne/ReadAll to turn a result into domain structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/pg/result.h"
#include "common/pg/statement.h"

namespace bastion::pg {

class RowReader {
 public:
  RowReader(const Result& r, int row) : r_(r), row_(row) {}

  std::string Str() { return r_.GetString(row_, col_++).value_or(""); }
  bool Bool() { return r_.GetBool(row_, col_++).value_or(false); }
  int64_t Int() { return r_.GetInt64(row_, col_++).value_or(0); }
  // bytea; NULL reads as empty.
  std::string Bytes() {
    if (r_.IsNull(row_, col_)) {
      ++col_;
      return "";
    }
    return r_.GetBytes(row_, col_++).value_or("");
  }
  absl::Time Time() { return r_.GetTime(row_, col_++).value_or(absl::InfinitePast()); }
  std::optional<absl::Time> OptTime() {
    if (r_.IsNull(row_, col_)) {
      ++col_;
      return std::nullopt;
    }
    return Time();
  }
  // A text column holding a `sep`-separated list (e.g. from array_to_string); empty items dropped.
  std::vector<std::string> List(char sep = ',') {
    return absl::StrSplit(Str(), sep, absl::SkipEmpty());
  }

 private:
  const Result& r_;
  int row_;
  int col_ = 0;
};

// The first row read by `read`, or NotFound("<what> not found") when there is none.
template <typename T, typename F>
absl::StatusOr<T> ReadOne(const Result& r, F read, const char* what) {
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat(what, " not found"));
  RowReader in(r, 0);
  return read(in);
}

template <typename T, typename F>
std::vector<T> ReadAll(const Result& r, F read) {
  std::vector<T> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) {
    RowReader in(r, i);
    out.push_back(read(in));
  }
  return out;
}

// NULL for an absent time.
inline Param OptTime(const std::optional<absl::Time>& t) { return t.has_value() ? Param(*t) : Param(std::nullopt); }

}  // namespace bastion::pg
