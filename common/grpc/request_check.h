// One rule for every string a gRPC request carries, checked once in the shared call path: it
// must be valid UTF-8 and hold no NUL (Postgres text cannot store one; a stored prefix would
// differ from what was hashed or audited). `bytes` fields are exempt.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace bastion::grpcutil {

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool IsValidUtf8(absl::string_view s);

// InvalidArgument naming the first offending field (e.g. `records[2].request_id`, or
// `labels["env"]` for a map value) when any `string` field of `request`, at any depth, holds a
// NUL or invalid UTF-8. The message never repeats the value.
absl::Status CheckRequestStrings(const google::protobuf::Message& request);

}  // namespace bastion::grpcutil
