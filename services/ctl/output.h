// bastionctl's two output modes: aligned text for people, JSON (proto3 JSON mapping, lists as
// arrays) for scripts.
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include "absl/status/status.h"

namespace bastion::ctl {

// Columns padded to their widest cell; the header row is always printed, even with no rows.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void AddRow(std::vector<std::string> cells);
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header
};

// One object as aligned "label:  value" lines.
void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

// One message as a JSON object on one line (field names as in the .proto, defaults included).
absl::Status PrintJson(std::ostream& out, const google::protobuf::Message& message);
// Messages as one JSON array.
absl::Status PrintJsonArray(std::ostream& out,
                            const std::vector<const google::protobuf::Message*>& messages);

template <typename Range>
absl::Status PrintJsonList(std::ostream& out, const Range& messages) {
  std::vector<const google::protobuf::Message*> all;
  for (const auto& m : messages) all.push_back(&m);
  return PrintJsonArray(out, all);
}

// "2024-05-01T09:30:00Z" (UTC, whole seconds).
std::string FormatTime(const google::protobuf::Timestamp& ts);

}  // namespace bastion::ctl
