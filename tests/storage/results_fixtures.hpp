#pragma once
// Helpers of the results-DB tests: DBs built from the SQL fixtures in tests/fixtures, and
// records with every schema-3 field set.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>

#include "ternbench/base/hash.hpp"
#include "ternbench/storage/records.hpp"

namespace ternbench::testing {

// Writes the DB an older ternbench left behind, from tests/fixtures/<fixture> (raw C API).
inline void load_sql_fixture(const std::string& db_path, const std::string& fixture) {
  std::ifstream in(std::string(TB_SOURCE_DIR) + "/tests/fixtures/" + fixture);
  const std::string sql((std::istreambuf_iterator<char>(in)), {});
  ASSERT_FALSE(sql.empty()) << fixture;
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &raw), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(raw);
  ASSERT_EQ(rc, SQLITE_OK) << fixture << ": " << msg;
}

// The DB file and its WAL, hashed: equal before and after means nothing was written. A
// reader of a WAL-mode DB may leave an empty -wal file; an empty WAL holds nothing.
inline std::string db_hash(const std::string& path) {
  std::string h = sha256_file_hex(path);
  std::ifstream wal(path + "-wal", std::ios::binary);
  const std::string frames((std::istreambuf_iterator<char>(wal)), {});
  if (!frames.empty()) h += "+" + sha256_hex(frames);
  return h;
}

// A finished ternary run with every column set, to values a text round trip would change.
inline storage::RunRecord full_run(const std::string& key, const std::string& method = "twn",
                                   std::int64_t seed = 1) {
  storage::RunRecord r;
  r.run_key = key;
  r.sweep = "study";
  r.config_toml = "[train]\ndataset = \"mnist\"\nmethod = \"" + method + "\"\n";
  r.dataset = "mnist";
  r.model = "mlp";
  r.method = method;
  r.seed = seed;
  r.lr = 0.05;
  r.status = storage::kStatusDone;
  r.weights_path = "study-weights/" + key + ".h5";
  r.git_commit = "abc1234";
  r.host = "node01";
  r.threads = 2;
  r.started_at = "2026-11-24T00:00:00Z";
  r.finished_at = "2026-11-24T00:00:05Z";
  r.train_seconds = 5.0 / 3.0;
  r.epochs_done = 2;
  r.train_loss = 0.1 + 0.2;
  r.train_acc = 0.9375;
  r.test_loss = 1.0 / 3.0;
  r.test_acc = 0.921875;
  r.sparsity = 0.4375;
  r.bits_per_weight = 1.5625;
  r.n_weights = 545000;
  r.n_nonzero = 306562;
  r.attempts = 1;
  r.config_json = "{\"dataset\":\"mnist\",\"method\":\"" + method +
                  "\",\"epochs\":2,\"batch_size\":32,\"lr\":0.05,\"optimizer\":\"sgd\","
                  "\"weight_decay\":0.0001,\"delta_factor\":0.7,\"twn_per_channel\":false,"
                  "\"quantize_first\":true,\"quantize_last\":false,\"seed\":" +
                  std::to_string(seed) + "}";
  r.size_fp32_bits = 32.0 * 545000 + 32.0 * 810;
  r.size_binary_bits = 545000.0 + 32.0 * 810 + 64;
  r.size_ternary_2bit_bits = 2.0 * 545000 + 32.0 * 810 + 64;
  r.size_ternary_base3_bits = 1.6 * 545000 + 32.0 * 810 + 64;
  r.size_bitmap_bits = 545000.0 + 306562.0 + 32.0 * 810 + 64;
  r.size_relative_index_bits = std::nextafter(700000.0, 1e9);
  r.n_float_params = 810;
  r.float_param_bits = 32.0 * 810;
  r.weights_sha256 = std::string(64, 'a');
  return r;
}

}  // namespace ternbench::testing
