// UTF-8 checks for text that arrives from outside (HTTP headers, JSON built by hand, arguments
// made by code rather than parsed): JSON and Postgres text both need valid UTF-8.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace bastion::text {

// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF). NUL is valid UTF-8; callers that cannot store it check for it themselves.
bool IsValidUtf8(absl::string_view s);

// `s` with each byte that is not part of a well-formed sequence replaced by U+FFFD, so it can be
// shown (e.g. echoed in an error message) without breaking the JSON it is put in.
std::string ToValidUtf8(absl::string_view s);

}  // namespace bastion::text
