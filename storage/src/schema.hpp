#pragma once
// The SQL of every results-DB schema version and the steps between them (private to
// tb::storage). docs/schema.md documents the tables and views they create.
#include <sqlite3.h>

#include <string>

namespace ternbench::storage::schema {

// Brings a DB from `from_version` (0 = empty file) to MetricsDb::kSchemaVersion: creates
// version 1 if empty, runs each migration in order, re-creates the views and sets
// user_version. The caller holds the write transaction and keeps foreign keys off, since
// rebuilding a parent table with them on would cascade-delete its children.
void migrate(sqlite3* db, const std::string& path, int from_version);

}  // namespace ternbench::storage::schema
