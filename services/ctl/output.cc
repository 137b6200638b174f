#include "services/ctl/output.h"

#include <algorithm>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace bastion::ctl {

Table::Table(std::vector<std::string> headers) { rows_.push_back(std::move(headers)); }

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(rows_.front().size());
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(rows_.front().size(), 0);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    // The last column is not padded, so no row ends in spaces.
    out << line << "\n";
  }
}

void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [label, value] : fields) width = std::max(width, label.size());
  for (const auto& [label, value] : fields) {
    out << label << ":" << std::string(width - label.size() + 2, ' ') << value << "\n";
  }
}

namespace {

// Appends `message` as one JSON object to `json`.
absl::Status ToJson(const google::protobuf::Message& message, std::string* json) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // Scripts should see `"ai_access_active": false`, not a missing key.
  options.always_print_primitive_fields = true;
  std::string one;
  auto s = google::protobuf::util::MessageToJsonString(message, &one, options);
  if (!s.ok()) return absl::InternalError(absl::StrCat("cannot print JSON: ", s.ToString()));
  json->append(one);
  return absl::OkStatus();
}

}  // namespace

absl::Status PrintJson(std::ostream& out, const google::protobuf::Message& message) {
  std::string json;
  if (absl::Status s = ToJson(message, &json); !s.ok()) return s;
  out << json << "\n";
  return absl::OkStatus();
}

absl::Status PrintJsonArray(std::ostream& out,
                            const std::vector<const google::protobuf::Message*>& messages) {
  std::string json = "[";
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i > 0) json += ",";
    json += "\n  ";
    if (absl::Status s = ToJson(*messages[i], &json); !s.ok()) return s;
  }
  json += messages.empty() ? "]" : "\n]";
  out << json << "\n";
  return absl::OkStatus();
}

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  absl::Time t = absl::FromUnixSeconds(ts.seconds());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace bastion::ctl
