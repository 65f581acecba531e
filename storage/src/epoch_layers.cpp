#include "epoch_layers.hpp"

#include <map>
#include <utility>

#include "record_sql.hpp"
#include "sqlite_util.hpp"

namespace ternbench::storage::epoch_layers {

using sqlite::Statement;

void write(sqlite::StatementCache& stmts, const EpochRecord& e) {
  if (e.layers.empty()) return;
  static const std::string sql = "INSERT OR REPLACE INTO epoch_layers(run_key, stage, epoch, " +
                                 record_sql::names<EpochLayerColumns, EpochLayerRecord>() + ") VALUES(?1, ?2, ?3, " +
                                 record_sql::placeholders<EpochLayerColumns, EpochLayerRecord>(4) + ")";
  Statement st(stmts, sql);
  for (const EpochLayerRecord& l : e.layers) {
    st.reset();
    st.bind(1, e.run_key);
    st.bind(2, e.stage);
    st.bind(3, e.epoch);
    record_sql::bind<EpochLayerColumns>(st, l, 4);
    st.run();
  }
}

void read(sqlite3* db, const std::string& path, const std::string& run_key, std::vector<EpochRecord>& epochs) {
  std::map<std::pair<std::string, int>, EpochRecord*> by_epoch;
  for (EpochRecord& e : epochs) by_epoch[{e.stage, e.epoch}] = &e;
  Statement st(db, path,
               "SELECT stage, epoch, " + record_sql::names<EpochLayerColumns, EpochLayerRecord>() +
                   " FROM epoch_layers WHERE run_key = ?1 ORDER BY rowid");
  st.bind(1, run_key);
  while (st.step()) {
    // Rows of an epoch without its epochs row (written by hand) belong to no record.
    const auto it = by_epoch.find({st.text(0), st.int32(1)});
    if (it == by_epoch.end()) continue;
    EpochLayerRecord l;
    record_sql::read<EpochLayerColumns>(st, l, 2);
    it->second->layers.push_back(std::move(l));
  }
}

}  // namespace ternbench::storage::epoch_layers
