#include "epoch_layers.hpp"

#include <map>
#include <utility>

#include "sqlite_util.hpp"

namespace ternbench::storage::epoch_layers {

using sqlite::Statement;

void write(sqlite::StatementCache& stmts, const EpochRecord& e) {
  if (e.layers.empty()) return;
  Statement st(stmts,
               "INSERT OR REPLACE INTO epoch_layers(run_key, stage, epoch, layer, precision, n, n_zero, "
               "n_pos, n_neg, sparsity, scale, delta, codes_changed) "
               "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  for (const EpochLayerRecord& l : e.layers) {
    st.reset();
    st.bind(1, e.run_key);
    st.bind(2, e.stage);
    st.bind(3, e.epoch);
    st.bind(4, l.layer);
    st.bind(5, l.precision);
    st.bind(6, l.n);
    st.bind(7, l.n_zero);
    st.bind(8, l.n_pos);
    st.bind(9, l.n_neg);
    st.bind(10, l.sparsity);
    st.bind(11, l.scale);
    st.bind(12, l.delta);
    st.bind(13, l.codes_changed);
    st.run();
  }
}

void read(sqlite3* db, const std::string& path, const std::string& run_key, std::vector<EpochRecord>& epochs) {
  std::map<std::pair<std::string, int>, EpochRecord*> by_epoch;
  for (EpochRecord& e : epochs) by_epoch[{e.stage, e.epoch}] = &e;
  Statement st(db, path,
               "SELECT stage, epoch, layer, precision, n, n_zero, n_pos, n_neg, sparsity, scale, delta, codes_changed "
               "FROM epoch_layers WHERE run_key = ?1 ORDER BY rowid");
  st.bind(1, run_key);
  while (st.step()) {
    // Rows of an epoch without its epochs row (written by hand) belong to no record.
    const auto it = by_epoch.find({st.text(0), st.int32(1)});
    if (it == by_epoch.end()) continue;
    EpochLayerRecord l;
    l.layer = st.text(2);
    l.precision = st.text(3);
    l.n = st.integer(4);
    l.n_zero = st.integer(5);
    l.n_pos = st.integer(6);
    l.n_neg = st.integer(7);
    l.sparsity = st.real(8);
    l.scale = st.real(9);
    l.delta = st.real(10);
    l.codes_changed = st.real(11);
    it->second->layers.push_back(std::move(l));
  }
}

}  // namespace ternbench::storage::epoch_layers
