// Canonical JSON: one text per value (object keys sorted bytewise, no whitespace), so equal
// definitions and audit events always hash the same.
#pragma once

#include <string>

#include <boost/json/value.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bastion::governance {

std::string CanonicalJson(const boost::json::value& value);
// Parses `text` and returns its canonical form; InvalidArgument when it is not JSON.
absl::StatusOr<std::string> CanonicalizeJson(absl::string_view text);
std::string Sha256Hex(absl::string_view data);

}  // namespace bastion::governance
