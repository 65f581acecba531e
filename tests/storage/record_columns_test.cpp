// The column lists of record_columns.hpp are the tables' columns, in order: a migration that
// adds a column and a record field that is not listed (or listed out of order) both fail
// here, against the schema a new DB really has.
#include "ternbench/storage/record_columns.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "support/tmp_dir.hpp"
#include "ternbench/storage/metrics_db.hpp"
#include "ternbench/storage/query.hpp"

namespace ternbench::storage {
namespace {

std::vector<std::string> table_columns(const std::string& db, const std::string& table) {
  std::vector<std::string> out;
  for (const auto& row : run_query(db, "SELECT name FROM pragma_table_info('" + table + "') ORDER BY cid").rows)
    out.push_back(row.at(0).bytes);
  return out;
}

template <class Columns, class Record>
std::vector<std::string> listed(std::vector<std::string> key = {}) {
  Record r;
  Columns::visit(r, [&](std::string_view name, auto&, Empty) { key.emplace_back(name); });
  return key;
}

TEST(RecordColumns, EveryListIsItsTablesColumnsInOrder) {
  testing::TmpDir tmp;
  const std::string db = tmp.file("schema.sqlite");
  { MetricsDb create(db); }
  EXPECT_EQ(table_columns(db, "runs"), (listed<RunColumns, RunRecord>()));
  EXPECT_EQ(table_columns(db, "epochs"), (listed<EpochColumns, EpochRecord>()));
  EXPECT_EQ(table_columns(db, "epoch_layers"),
            (listed<EpochLayerColumns, EpochLayerRecord>({"run_key", "stage", "epoch"})));
  EXPECT_EQ(table_columns(db, "layers"), (listed<LayerColumns, LayerRecord>()));
  EXPECT_EQ(table_columns(db, "stages"), (listed<StageColumns, StageRecord>()));
  EXPECT_EQ(table_columns(db, "inference"), (listed<InferenceColumns, InferenceRecord>()));
}

}  // namespace
}  // namespace ternbench::storage
