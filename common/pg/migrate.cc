#include "common/pg/migrate.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/status/status_macros.h"

namespace bastion::pg {
namespace {

constexpr absl::Duration kAcquireTimeout = absl::Seconds(30);

inline constexpr Statement kLock{"bastion_migrate_lock", "SELECT pg_advisory_lock($1::bigint)"};
inline constexpr Statement kUnlock{"bastion_migrate_unlock",
                                   "SELECT pg_advisory_unlock($1::bigint)"};

bool IsLowerAlnumOrUnderscore(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

std::string FileNameOf(const Migration& migration) {
  return absl::StrFormat("%04d_%s.sql", migration.version, migration.name);
}

// The same key in every process and build (unlike std::hash), so all replicas contend on it.
int64_t AdvisoryLockKey(absl::string_view schema) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a 64.
  for (char c : absl::StrCat("bastion.migrations.", schema)) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return static_cast<int64_t>(hash);
}

// `status` with `prefix` in front of its message, keeping its code and SQLSTATE payload.
absl::Status Prefixed(const absl::Status& status, absl::string_view prefix) {
  absl::Status prefixed(status.code(), absl::StrCat(prefix, ": ", status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    prefixed.SetPayload(url, payload);
  });
  return prefixed;
}

absl::Status SortAndCheck(std::vector<Migration>& migrations) {
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("migration \"", migrations[i].name,
                                                     "\" has version ", migrations[i].version,
                                                     "; versions start at 1"));
    }
    if (i > 0 && migrations[i].version == migrations[i - 1].version) {
      return absl::InvalidArgumentError(absl::StrCat(
          "migration version ", migrations[i].version, " is used twice: \"",
          migrations[i - 1].name, "\" and \"", migrations[i].name, "\""));
    }
  }
  return absl::OkStatus();
}

// Runs with the advisory lock held on `connection`.
absl::Status ApplyPending(Connection& connection, absl::string_view schema,
                          const std::vector<Migration>& migrations) {
  // Validated by the caller; quoting still keeps names like "user" from meaning a keyword.
  const std::string quoted = absl::StrCat("\"", schema, "\"");
  RETURN_IF_ERROR(connection.ExecuteScript(
      absl::StrCat("CREATE SCHEMA IF NOT EXISTS ", quoted,
                   "; CREATE TABLE IF NOT EXISTS ", quoted,
                   ".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                   "applied_at timestamptz NOT NULL DEFAULT now())"),
      "create schema_migrations"));

  const std::string select_sql = absl::StrCat("SELECT version FROM ", quoted, ".schema_migrations");
  ASSIGN_OR_RETURN(Result applied, connection.Execute(Statement{"", select_sql}));
  absl::flat_hash_set<int64_t> applied_versions;
  for (int row = 0; row < applied.rows(); ++row) {
    ASSIGN_OR_RETURN(int64_t version, applied.GetInt64(row, 0));
    applied_versions.insert(version);
  }

  const std::string set_search_path = absl::StrCat("SET LOCAL search_path TO ", quoted);
  const std::string record_sql =
      absl::StrCat("INSERT INTO ", quoted,
                   ".schema_migrations (version, name, applied_at) VALUES ($1, $2, now())");
  for (const Migration& migration : migrations) {
    if (applied_versions.contains(migration.version)) continue;
    absl::Status status = connection.InTransaction([&](Tx& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.ExecuteScript(set_search_path, "SET search_path"));
      RETURN_IF_ERROR(tx.ExecuteScript(migration.sql, "migration SQL"));
      return tx.Execute(Statement{"", record_sql}, {migration.version, migration.name}).status();
    });
    if (!status.ok()) {
      return Prefixed(status, absl::StrCat("schema \"", schema, "\": migration ",
                                           FileNameOf(migration), " failed"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MigrationFileName> ParseMigrationFileName(absl::string_view path) {
  absl::string_view file = path.substr(path.rfind('/') == absl::string_view::npos
                                          ? 0
                                          : path.rfind('/') + 1);
  auto bad = [file](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("bad migration file name \"", file, "\": ", why,
                                                   " (expected e.g. 0001_create_tenants.sql)"));
  };
  absl::string_view stem = file;
  if (!absl::ConsumeSuffix(&stem, ".sql")) return bad("it must end in .sql");
  const size_t underscore = stem.find('_');
  if (underscore == absl::string_view::npos) return bad("it needs a '_' after the version");
  const absl::string_view digits = stem.substr(0, underscore);
  const absl::string_view title = stem.substr(underscore + 1);
  if (digits.size() < 4 || !std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit)) {
    return bad("the version must be at least four digits");
  }
  MigrationFileName parsed;
  if (!absl::SimpleAtoi(digits, &parsed.version) || parsed.version <= 0) {
    return bad("the version must be between 1 and 2147483647");
  }
  if (title.empty() || !std::all_of(title.begin(), title.end(), IsLowerAlnumOrUnderscore)) {
    return bad("the title must be lowercase letters, digits and underscores");
  }
  parsed.name = std::string(title);
  return parsed;
}

absl::StatusOr<std::vector<Migration>> ReadMigrationFiles(const std::vector<std::string>& paths) {
  std::vector<Migration> migrations;
  for (const std::string& path : paths) {
    ASSIGN_OR_RETURN(MigrationFileName parsed, ParseMigrationFileName(path));
    std::ifstream in(path, std::ios::binary);
    if (!in.is_open()) return absl::NotFoundError(absl::StrCat("cannot read migration file ", path));
    std::stringstream sql;
    sql << in.rdbuf();
    migrations.push_back(Migration{parsed.version, std::move(parsed.name), sql.str()});
  }
  RETURN_IF_ERROR(SortAndCheck(migrations));
  return migrations;
}

absl::Status ValidateSchemaName(absl::string_view schema) {
  const bool valid = !schema.empty() && schema.size() <= 63 &&
                     !absl::ascii_isdigit(schema[0]) &&
                     std::all_of(schema.begin(), schema.end(), IsLowerAlnumOrUnderscore);
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("bad schema name \"", schema,
                   "\": use lowercase letters, digits and '_', not starting with a digit, "
                   "at most 63 characters"));
}

absl::Status Migrate(Pool& pool, absl::string_view schema,
                     const std::vector<Migration>& migrations) {
  RETURN_IF_ERROR(ValidateSchemaName(schema));
  std::vector<Migration> sorted = migrations;
  RETURN_IF_ERROR(SortAndCheck(sorted));

  // One connection throughout: the advisory lock belongs to its session.
  ASSIGN_OR_RETURN(Lease lease, pool.Acquire(kAcquireTimeout));
  const int64_t key = AdvisoryLockKey(schema);
  if (absl::Status locked = lease->Execute(kLock, {key}).status(); !locked.ok()) {
    return Prefixed(locked, absl::StrCat("schema \"", schema, "\": taking the migration lock"));
  }
  absl::Status status = ApplyPending(*lease, schema, sorted);
  absl::StatusOr<Result> unlocked = lease->Execute(kUnlock, {key});
  if (!unlocked.ok() || !unlocked->GetBool(0, 0).value_or(false)) {
    // Closing the session is the sure way to release a lock we could not release.
    lease->MarkBroken();
  }
  return status;
}

}  // namespace bastion::pg
