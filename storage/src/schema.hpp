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

// Steps of migrate() written in C++ (schema_data.cpp), each inside its caller's transaction.
// Version 5: the 10,000-image "mnist" runs become "mnist-10k", with their run keys rehashed.
void rename_mnist_subset_runs(sqlite3* db, const std::string& path);
// Version 7: config_json gains the keys a version-6 row could leave out at their default.
void add_omitted_defaults(sqlite3* db, const std::string& path);

}  // namespace ternbench::storage::schema
