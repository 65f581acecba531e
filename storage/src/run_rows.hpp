#pragma once
// The runs table's row (private to tb::storage): one RunRecord per run_key.
#include <sqlite3.h>

#include <string>

#include "sqlite_util.hpp"
#include "ternbench/storage/records.hpp"

namespace ternbench::storage::run_rows {

// The columns, comma-separated, as RunColumns lists them: SELECT <column_list()> FROM runs.
std::string column_list();

// The RunRecord of a row selected with column_list().
RunRecord read(const sqlite::Statement& st);

// Updates the run's row, or inserts it; returns true when the row already existed.
bool upsert(sqlite3* db, sqlite::StatementCache& stmts, const RunRecord& r);

}  // namespace ternbench::storage::run_rows
