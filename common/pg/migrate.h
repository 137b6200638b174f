// Numbered SQL migrations for a service's own schema: naming rules for migration files, reading
// them, and applying them once, under an advisory lock, when replicas start.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/pg/pool.h"

namespace bastion::pg {

// One migration, usually from a file named "<version>_<name>.sql" such as 0001_create_tenants.sql.
struct Migration {
  int version = 0;
  std::string name;
  std::string sql;
};

// The version and name of a migration file: "NNNN_title.sql" with at least four digits (the
// version, > 0) and a title of lowercase letters, digits and underscores. A leading directory is
// ignored. InvalidArgument explains what is wrong with any other name.
struct MigrationFileName {
  int version = 0;
  std::string name;
};
absl::StatusOr<MigrationFileName> ParseMigrationFileName(absl::string_view path);

// Reads migration files (see ParseMigrationFileName) and returns them sorted by version;
// InvalidArgument on a bad name or a version used twice, NotFound when a file cannot be read.
absl::StatusOr<std::vector<Migration>> ReadMigrationFiles(const std::vector<std::string>& paths);

// OK when `schema` is a plain identifier: ^[a-z_][a-z0-9_]*$, at most 63 characters.
absl::Status ValidateSchemaName(absl::string_view schema);

// Brings `schema` up to date: creates the schema and <schema>.schema_migrations(version, name,
// applied_at) if missing, then applies, in version order, every migration not yet recorded there,
// each in its own transaction with search_path set to `schema`, recording it in the same
// transaction. Holds a session advisory lock keyed on the schema name throughout, so replicas
// starting together apply each migration exactly once; the others wait (bounded by the pool's
// statement_timeout) and then find nothing to do.
//
// Migration SQL must not contain BEGIN/COMMIT or statements that cannot run in a transaction
// (CREATE INDEX CONCURRENTLY). A failing migration is rolled back, and the error names its file;
// migrations before it stay applied.
absl::Status Migrate(Pool& pool, absl::string_view schema, const std::vector<Migration>& migrations);

}  // namespace bastion::pg
