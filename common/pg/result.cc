#include "common/pg/result.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace bastion::pg {

int64_t Result::affected_rows() const {
  int64_t count = 0;
  // PQcmdTuples is "" for statements without a row count.
  if (!absl::SimpleAtoi(PQcmdTuples(result_.get()), &count)) return 0;
  return count;
}

absl::StatusOr<int> Result::ColumnIndex(absl::string_view name) const {
  for (int i = 0; i < columns(); ++i) {
    if (name == PQfname(result_.get(), i)) return i;
  }
  return absl::NotFoundError(absl::StrCat("result has no column \"", name, "\""));
}

absl::StatusOr<int> Result::Resolve(const ColumnRef& column) const {
  if (column.index_ < 0) return ColumnIndex(column.name_);
  if (column.index_ >= columns()) {
    return absl::OutOfRangeError(
        absl::StrFormat("column %d out of range: result has %d columns", column.index_, columns()));
  }
  return column.index_;
}

bool Result::IsNull(int row, ColumnRef column) const {
  absl::StatusOr<int> index = Resolve(column);
  if (!index.ok() || row < 0 || row >= rows()) return true;
  return PQgetisnull(result_.get(), row, *index) == 1;
}

absl::StatusOr<absl::string_view> Result::Text(int row, const ColumnRef& column) const {
  absl::StatusOr<int> index = Resolve(column);
  if (!index.ok()) return index.status();
  if (row < 0 || row >= rows()) {
    return absl::OutOfRangeError(
        absl::StrFormat("row %d out of range: result has %d rows", row, rows()));
  }
  if (PQgetisnull(result_.get(), row, *index)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "column \"%s\" of row %d is NULL", PQfname(result_.get(), *index), row));
  }
  return absl::string_view(PQgetvalue(result_.get(), row, *index),
                          PQgetlength(result_.get(), row, *index));
}

absl::StatusOr<std::string> Result::GetString(int row, ColumnRef column) const {
  absl::StatusOr<absl::string_view> text = Text(row, column);
  if (!text.ok()) return text.status();
  return std::string(*text);
}

absl::StatusOr<int64_t> Result::GetInt64(int row, ColumnRef column) const {
  absl::StatusOr<absl::string_view> text = Text(row, column);
  if (!text.ok()) return text.status();
  int64_t value = 0;
  if (!absl::SimpleAtoi(*text, &value)) {
    return absl::InvalidArgumentError(absl::StrCat("not an integer: \"", *text, "\""));
  }
  return value;
}

absl::StatusOr<bool> Result::GetBool(int row, ColumnRef column) const {
  absl::StatusOr<absl::string_view> text = Text(row, column);
  if (!text.ok()) return text.status();
  if (*text == "t") return true;
  if (*text == "f") return false;
  return absl::InvalidArgumentError(absl::StrCat("not a boolean: \"", *text, "\""));
}

absl::StatusOr<std::string> Result::GetBytes(int row, ColumnRef column) const {
  absl::StatusOr<absl::string_view> text = Text(row, column);
  if (!text.ok()) return text.status();
  absl::string_view hex = *text;
  // Connections set bytea_output=hex, so the escape format never needs decoding here.
  if (hex.substr(0, 2) != "\\x" || hex.size() % 2 != 0) {
    return absl::InvalidArgumentError("not a hex-encoded bytea value");
  }
  hex.remove_prefix(2);
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("not a hex-encoded bytea value");
    }
  }
  return absl::HexStringToBytes(hex);
}

absl::StatusOr<absl::Time> Result::GetTime(int row, ColumnRef column) const {
  absl::StatusOr<absl::string_view> text = Text(row, column);
  if (!text.ok()) return text.status();
  if (*text == "infinity") return absl::InfiniteFuture();
  if (*text == "-infinity") return absl::InfinitePast();
  // Connections set DateStyle=ISO, so timestamptz reads like "2024-05-01 12:34:56.789+00"; the
  // offset may lack minutes, which %Ez accepts.
  absl::Time time;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%d %H:%M:%E*S%Ez", *text, &time, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a timestamptz: \"", *text, "\": ", error));
  }
  return time;
}

}  // namespace bastion::pg
