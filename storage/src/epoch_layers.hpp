#pragma once
// The epoch_layers table (schema 4): rows of EpochRecord::layers (private to tb::storage).
#include <sqlite3.h>

#include <string>
#include <vector>

#include "sqlite_util.hpp"
#include "ternbench/storage/records.hpp"

namespace ternbench::storage::epoch_layers {

// Writes e.layers under (e.run_key, e.stage, e.epoch), replacing rows with the same layer.
// The caller holds the transaction that writes the epoch row.
void write(sqlite::StatementCache& stmts, const EpochRecord& e);

// Fills the layers of epochs (all of run_key), in the order they were written.
void read(sqlite3* db, const std::string& path, const std::string& run_key, std::vector<EpochRecord>& epochs);

}  // namespace ternbench::storage::epoch_layers
