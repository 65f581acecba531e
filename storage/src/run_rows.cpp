// The runs table's row: its columns as RunColumns lists them, binding and reading them.
#include "run_rows.hpp"

#include <string>

#include "record_sql.hpp"
#include "ternbench/base/error.hpp"

namespace ternbench::storage::run_rows {
namespace {

using sqlite::Statement;

// run_key is ?1 and the key of the row; every other column is set.
std::string update_run_sql() {
  std::string sets;
  int i = 0;
  RunRecord r;
  RunColumns::visit(r, [&](std::string_view name, auto&, Empty) {
    ++i;
    if (i == 1) return;
    if (!sets.empty()) sets += ", ";
    sets.append(name).append(" = ?").append(std::to_string(i));
  });
  return "UPDATE runs SET " + sets + " WHERE run_key = ?1";
}

}  // namespace

std::string column_list() {
  static const std::string names = record_sql::names<RunColumns, RunRecord>();
  return names;
}

RunRecord read(const Statement& st) {
  RunRecord r;
  record_sql::read<RunColumns>(st, r);
  return r;
}

bool upsert(sqlite3* db, sqlite::StatementCache& stmts, const RunRecord& r) {
  static const std::string update_sql = update_run_sql(), insert_sql = record_sql::insert<RunColumns, RunRecord>("INSERT", "runs");
  Statement update(stmts, update_sql);
  record_sql::bind<RunColumns>(update, r);
  update.run();
  if (sqlite3_changes(db) > 0) return true;
  Statement insert(stmts, insert_sql);
  record_sql::bind<RunColumns>(insert, r);
  insert.run();
  return false;
}

}  // namespace ternbench::storage::run_rows
