// RETURN_IF_ERROR and ASSIGN_OR_RETURN over absl::Status / absl::StatusOr.
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define BASTION_STATUS_CONCAT_INNER(a, b) a##b
#define BASTION_STATUS_CONCAT(a, b) BASTION_STATUS_CONCAT_INNER(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status bastion_status_ = (expr);           \
    if (!bastion_status_.ok()) return bastion_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, Foo());` declares x from an OK StatusOr, or returns its status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  BASTION_ASSIGN_OR_RETURN_IMPL(BASTION_STATUS_CONCAT(bastion_statusor_, __LINE__), lhs, expr)

#define BASTION_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()
