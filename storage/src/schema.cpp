#include "schema.hpp"

#include <string_view>

#include "sqlite_util.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace ternbench::storage::schema {
namespace {

// REAL columns are nullable because SQLite stores NaN (a diverged run's loss) as NULL;
// NULL reads back as NaN. Optional TEXT columns hold NULL for "" so that SQL users can
// write `error IS NULL`.
// Version 1 as first released. A new DB is created as version 1 and then migrated, so every
// DB, new or old, goes through the same migrations.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE runs(
  run_key TEXT PRIMARY KEY,
  sweep TEXT NOT NULL,
  config_toml TEXT NOT NULL,
  dataset TEXT NOT NULL,
  model TEXT NOT NULL,
  method TEXT NOT NULL,
  seed INTEGER NOT NULL,
  lr REAL,
  status TEXT NOT NULL
    CHECK(status IN ('pending','running','done','failed','diverged','interrupted')),
  error TEXT,
  weights_path TEXT,
  git_commit TEXT NOT NULL,
  git_dirty INTEGER NOT NULL CHECK(git_dirty IN (0,1)),
  host TEXT NOT NULL,
  rank INTEGER NOT NULL,
  threads INTEGER NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  train_seconds REAL,
  epochs_done INTEGER NOT NULL,
  train_loss REAL,
  train_acc REAL,
  test_loss REAL,
  test_acc REAL,
  sparsity REAL,
  bits_per_weight REAL,
  n_weights INTEGER NOT NULL,
  n_nonzero INTEGER NOT NULL);
CREATE INDEX runs_by_status ON runs(status);
CREATE INDEX runs_by_dataset_method ON runs(dataset, method);
CREATE TABLE epochs(
  run_key TEXT NOT NULL REFERENCES runs(run_key) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  train_loss REAL,
  train_acc REAL,
  test_loss REAL,
  test_acc REAL,
  sparsity REAL,
  seconds REAL,
  PRIMARY KEY(run_key, epoch));
CREATE TABLE layers(
  run_key TEXT NOT NULL REFERENCES runs(run_key) ON DELETE CASCADE,
  layer TEXT NOT NULL,
  precision TEXT NOT NULL,
  rows INTEGER NOT NULL,
  cols INTEGER NOT NULL,
  n INTEGER NOT NULL,
  n_zero INTEGER NOT NULL,
  n_pos INTEGER NOT NULL,
  n_neg INTEGER NOT NULL,
  sparsity REAL,
  scale REAL,
  delta REAL,
  bits REAL,
  PRIMARY KEY(run_key, layer));
)sql";

// Version 2: status 'config_error'; attempts and provenance columns. SQLite cannot change a
// CHECK constraint in place, so runs is rebuilt (with foreign keys off, see migrate()).
constexpr std::string_view kMigrateV1ToV2 = R"sql(
CREATE TABLE runs_v2(
  run_key TEXT PRIMARY KEY,
  sweep TEXT NOT NULL,
  config_toml TEXT NOT NULL,
  dataset TEXT NOT NULL,
  model TEXT NOT NULL,
  method TEXT NOT NULL,
  seed INTEGER NOT NULL,
  lr REAL,
  status TEXT NOT NULL
    CHECK(status IN ('pending','running','done','failed','diverged','interrupted','config_error')),
  error TEXT,
  weights_path TEXT,
  git_commit TEXT NOT NULL,
  git_dirty INTEGER NOT NULL CHECK(git_dirty IN (0,1)),
  host TEXT NOT NULL,
  rank INTEGER NOT NULL,
  threads INTEGER NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  train_seconds REAL,
  epochs_done INTEGER NOT NULL,
  train_loss REAL,
  train_acc REAL,
  test_loss REAL,
  test_acc REAL,
  sparsity REAL,
  bits_per_weight REAL,
  n_weights INTEGER NOT NULL,
  n_nonzero INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  slurm_job_id TEXT,
  slurm_restart_count INTEGER NOT NULL DEFAULT 0,
  versions TEXT);
INSERT INTO runs_v2(run_key, sweep, config_toml, dataset, model, method, seed, lr, status, error,
  weights_path, git_commit, git_dirty, host, rank, threads, started_at, finished_at, train_seconds,
  epochs_done, train_loss, train_acc, test_loss, test_acc, sparsity, bits_per_weight, n_weights,
  n_nonzero, attempts)
SELECT run_key, sweep, config_toml, dataset, model, method, seed, lr, status, error,
  weights_path, git_commit, git_dirty, host, rank, threads, started_at, finished_at, train_seconds,
  epochs_done, train_loss, train_acc, test_loss, test_acc, sparsity, bits_per_weight, n_weights,
  n_nonzero, 1 FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v2 RENAME TO runs;
CREATE INDEX runs_by_status ON runs(status);
CREATE INDEX runs_by_dataset_method ON runs(dataset, method);
)sql";

// Version 3: the run's config as JSON, model sizes per encoding, a checksum of the weights
// file; per-epoch stage, lr, SCA's continuous metrics and the regularizer term; per-layer
// sizes; the stages table. New columns are appended so that `SELECT *` and positional
// INSERTs written for version 2 keep their meaning. epochs is rebuilt because its primary
// key gains the stage (faraone numbers the epochs of each stage from 1).
constexpr std::string_view kMigrateV2ToV3 = R"sql(
ALTER TABLE runs ADD COLUMN config_json TEXT
  CHECK(config_json IS NULL OR json_valid(config_json));
ALTER TABLE runs ADD COLUMN size_fp32_bits REAL;
ALTER TABLE runs ADD COLUMN size_binary_bits REAL;
ALTER TABLE runs ADD COLUMN size_ternary_2bit_bits REAL;
ALTER TABLE runs ADD COLUMN size_ternary_base3_bits REAL;
ALTER TABLE runs ADD COLUMN size_bitmap_bits REAL;
ALTER TABLE runs ADD COLUMN size_relative_index_bits REAL;
ALTER TABLE runs ADD COLUMN n_float_params INTEGER;
ALTER TABLE runs ADD COLUMN float_param_bits REAL;
ALTER TABLE runs ADD COLUMN weights_sha256 TEXT;
CREATE TABLE epochs_v3(
  run_key TEXT NOT NULL REFERENCES runs(run_key) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  train_loss REAL,
  train_acc REAL,
  test_loss REAL,
  test_acc REAL,
  sparsity REAL,
  seconds REAL,
  stage TEXT NOT NULL DEFAULT 'train' CHECK(stage <> ''),
  lr REAL,
  test_acc_continuous REAL,
  test_loss_continuous REAL,
  reg_penalty REAL,
  PRIMARY KEY(run_key, stage, epoch));
INSERT INTO epochs_v3(run_key, epoch, train_loss, train_acc, test_loss, test_acc, sparsity, seconds)
SELECT run_key, epoch, train_loss, train_acc, test_loss, test_acc, sparsity, seconds FROM epochs;
DROP TABLE epochs;
ALTER TABLE epochs_v3 RENAME TO epochs;
ALTER TABLE layers ADD COLUMN n_scales INTEGER;
ALTER TABLE layers ADD COLUMN bits_fp32 REAL;
ALTER TABLE layers ADD COLUMN bits_binary REAL;
ALTER TABLE layers ADD COLUMN bits_ternary_2bit REAL;
ALTER TABLE layers ADD COLUMN bits_ternary_base3 REAL;
ALTER TABLE layers ADD COLUMN bits_bitmap REAL;
ALTER TABLE layers ADD COLUMN bits_relative_index REAL;
ALTER TABLE layers ADD COLUMN relative_index_b INTEGER;
CREATE TABLE stages(
  run_key TEXT NOT NULL REFERENCES runs(run_key) ON DELETE CASCADE,
  stage TEXT NOT NULL CHECK(stage <> ''),
  ordinal INTEGER NOT NULL,
  epochs INTEGER NOT NULL,
  test_loss REAL,
  test_acc REAL,
  sparsity REAL,
  PRIMARY KEY(run_key, stage));
CREATE INDEX runs_by_sweep ON runs(sweep);
CREATE INDEX runs_by_method_dataset_status ON runs(method, dataset, status);
CREATE INDEX epochs_by_run ON epochs(run_key);
)sql";

// Version 4: each weight matrix's statistics at the end of every epoch, so that a layer's
// sparsity can be followed through training (the layers table holds the finished model's).
constexpr std::string_view kMigrateV3ToV4 = R"sql(
CREATE TABLE epoch_layers(
  run_key TEXT NOT NULL REFERENCES runs(run_key) ON DELETE CASCADE,
  stage TEXT NOT NULL CHECK(stage <> ''),
  epoch INTEGER NOT NULL,
  layer TEXT NOT NULL,
  precision TEXT NOT NULL,
  n INTEGER NOT NULL,
  n_zero INTEGER NOT NULL,
  n_pos INTEGER NOT NULL,
  n_neg INTEGER NOT NULL,
  sparsity REAL,
  scale REAL,
  delta REAL,
  PRIMARY KEY(run_key, stage, epoch, layer));
)sql";

// Version 5: the dataset's content and warm starts. runs gains data_sha256 (the fingerprint
// of the data the run trained on, docs/data.md) and init_from (the run whose weights it
// started from), and the status 'blocked' (a run whose init_from source failed). SQLite
// cannot change a CHECK constraint in place, so runs is rebuilt, columns in the v4 order.
constexpr std::string_view kMigrateV4ToV5 = R"sql(
CREATE TABLE runs_v5(
  run_key TEXT PRIMARY KEY,
  sweep TEXT NOT NULL,
  config_toml TEXT NOT NULL,
  dataset TEXT NOT NULL,
  model TEXT NOT NULL,
  method TEXT NOT NULL,
  seed INTEGER NOT NULL,
  lr REAL,
  status TEXT NOT NULL
    CHECK(status IN ('pending','running','done','failed','diverged','interrupted','config_error','blocked')),
  error TEXT,
  weights_path TEXT,
  git_commit TEXT NOT NULL,
  git_dirty INTEGER NOT NULL CHECK(git_dirty IN (0,1)),
  host TEXT NOT NULL,
  rank INTEGER NOT NULL,
  threads INTEGER NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  train_seconds REAL,
  epochs_done INTEGER NOT NULL,
  train_loss REAL,
  train_acc REAL,
  test_loss REAL,
  test_acc REAL,
  sparsity REAL,
  bits_per_weight REAL,
  n_weights INTEGER NOT NULL,
  n_nonzero INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  slurm_job_id TEXT,
  slurm_restart_count INTEGER NOT NULL DEFAULT 0,
  versions TEXT,
  config_json TEXT CHECK(config_json IS NULL OR json_valid(config_json)),
  size_fp32_bits REAL,
  size_binary_bits REAL,
  size_ternary_2bit_bits REAL,
  size_ternary_base3_bits REAL,
  size_bitmap_bits REAL,
  size_relative_index_bits REAL,
  n_float_params INTEGER,
  float_param_bits REAL,
  weights_sha256 TEXT,
  init_from TEXT,
  data_sha256 TEXT);
INSERT INTO runs_v5(run_key, sweep, config_toml, dataset, model, method, seed, lr, status, error,
  weights_path, git_commit, git_dirty, host, rank, threads, started_at, finished_at, train_seconds,
  epochs_done, train_loss, train_acc, test_loss, test_acc, sparsity, bits_per_weight, n_weights,
  n_nonzero, attempts, slurm_job_id, slurm_restart_count, versions, config_json, size_fp32_bits,
  size_binary_bits, size_ternary_2bit_bits, size_ternary_base3_bits, size_bitmap_bits,
  size_relative_index_bits, n_float_params, float_param_bits, weights_sha256)
SELECT run_key, sweep, config_toml, dataset, model, method, seed, lr, status, error,
  weights_path, git_commit, git_dirty, host, rank, threads, started_at, finished_at, train_seconds,
  epochs_done, train_loss, train_acc, test_loss, test_acc, sparsity, bits_per_weight, n_weights,
  n_nonzero, attempts, slurm_job_id, slurm_restart_count, versions, config_json, size_fp32_bits,
  size_binary_bits, size_ternary_2bit_bits, size_ternary_base3_bits, size_bitmap_bits,
  size_relative_index_bits, n_float_params, float_param_bits, weights_sha256 FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v5 RENAME TO runs;
CREATE INDEX runs_by_status ON runs(status);
CREATE INDEX runs_by_dataset_method ON runs(dataset, method);
CREATE INDEX runs_by_sweep ON runs(sweep);
CREATE INDEX runs_by_method_dataset_status ON runs(method, dataset, status);
CREATE INDEX runs_by_init_from ON runs(init_from);
)sql";

// Version 6: how far training moved each quantized matrix from its codes at the start.
constexpr std::string_view kMigrateV5ToV6 = R"sql(
ALTER TABLE epoch_layers ADD COLUMN codes_changed REAL;
)sql";

// Version 8: measurements of finished runs by the ternary inference engine.
constexpr std::string_view kMigrateV7ToV8 = R"sql(
CREATE TABLE inference(
  run_key TEXT PRIMARY KEY REFERENCES runs(run_key) ON DELETE CASCADE,
  engine TEXT NOT NULL,
  threads INTEGER NOT NULL,
  n_test INTEGER NOT NULL,
  predictions_identical INTEGER NOT NULL,
  test_acc REAL,
  latency_us REAL,
  float_latency_us REAL,
  throughput REAL,
  float_throughput REAL,
  bytes INTEGER NOT NULL,
  float32_bytes INTEGER NOT NULL,
  host TEXT NOT NULL,
  git_commit TEXT NOT NULL,
  measured_at TEXT NOT NULL);
)sql";

// Version 9: the writer lease. At most one row: the process that is the DB's one live writer
// (`ternbench run`), its identity and its heartbeat (writer_lease.cpp, docs/schema.md).
constexpr std::string_view kMigrateV8ToV9 = R"sql(
CREATE TABLE writer(
  id INTEGER PRIMARY KEY CHECK(id = 1),
  token TEXT NOT NULL,
  command TEXT NOT NULL,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  machine TEXT,
  process_start INTEGER,
  slurm_job_id TEXT,
  slurm_restart_count INTEGER,
  since TEXT NOT NULL,
  heartbeat_at TEXT NOT NULL);
)sql";

// Version 10: forced reruns (`ternbench run --rerun`). A run's earlier result, when retrained,
// moves here instead of being overwritten: its runs row as it was, the epochs, stages and
// layers rows as JSON arrays, where its weights file was kept, and when and by which commit
// it was superseded. The columns up to data_sha256 are those of runs, in its order.
constexpr std::string_view kMigrateV9ToV10 = R"sql(
CREATE TABLE superseded_runs(
  id INTEGER PRIMARY KEY,
  run_key TEXT NOT NULL,
  sweep TEXT NOT NULL,
  config_toml TEXT NOT NULL,
  dataset TEXT NOT NULL,
  model TEXT NOT NULL,
  method TEXT NOT NULL,
  seed INTEGER NOT NULL,
  lr REAL,
  status TEXT NOT NULL,
  error TEXT,
  weights_path TEXT,
  git_commit TEXT NOT NULL,
  git_dirty INTEGER NOT NULL,
  host TEXT NOT NULL,
  rank INTEGER NOT NULL,
  threads INTEGER NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  train_seconds REAL,
  epochs_done INTEGER NOT NULL,
  train_loss REAL,
  train_acc REAL,
  test_loss REAL,
  test_acc REAL,
  sparsity REAL,
  bits_per_weight REAL,
  n_weights INTEGER NOT NULL,
  n_nonzero INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  slurm_job_id TEXT,
  slurm_restart_count INTEGER NOT NULL,
  versions TEXT,
  config_json TEXT,
  size_fp32_bits REAL,
  size_binary_bits REAL,
  size_ternary_2bit_bits REAL,
  size_ternary_base3_bits REAL,
  size_bitmap_bits REAL,
  size_relative_index_bits REAL,
  n_float_params INTEGER,
  float_param_bits REAL,
  weights_sha256 TEXT,
  init_from TEXT,
  data_sha256 TEXT,
  superseded_at TEXT NOT NULL,
  superseded_by_commit TEXT NOT NULL,
  weights_kept TEXT,
  epochs_json TEXT NOT NULL CHECK(json_valid(epochs_json)),
  stages_json TEXT NOT NULL CHECK(json_valid(stages_json)),
  layers_json TEXT NOT NULL CHECK(json_valid(layers_json)));
CREATE INDEX superseded_runs_by_key ON superseded_runs(run_key);
)sql";

// Views are not data: every migration drops and re-creates them, so they always match the
// tables of the current version. A SQLite division by zero (or by NULL) gives NULL, which is
// what a ratio of an unrecorded size should be.
constexpr std::string_view kDropViews = R"sql(
DROP VIEW IF EXISTS results;
DROP VIEW IF EXISTS run_epochs;
DROP VIEW IF EXISTS run_layers;
DROP VIEW IF EXISTS run_epoch_layers;
)sql";

constexpr std::string_view kViews = R"sql(
CREATE VIEW results AS
SELECT
  r.run_key, r.sweep, r.status, r.dataset, r.model, r.method, r.seed,
  json_extract(r.config_json, '$.epochs') AS epochs,
  json_extract(r.config_json, '$.batch_size') AS batch_size,
  json_extract(r.config_json, '$.optimizer') AS optimizer,
  coalesce(json_extract(r.config_json, '$.lr'), r.lr) AS lr,
  json_extract(r.config_json, '$.weight_decay') AS weight_decay,
  json_extract(r.config_json, '$.delta_factor') AS delta_factor,
  json_extract(r.config_json, '$.twn_per_channel') AS twn_per_channel,
  json_extract(r.config_json, '$.ttq_threshold') AS ttq_threshold,
  json_extract(r.config_json, '$.sca_alpha') AS sca_alpha,
  json_extract(r.config_json, '$.sca_lambda') AS sca_lambda,
  json_extract(r.config_json, '$.sca_init_std') AS sca_init_std,
  json_extract(r.config_json, '$.sca_wdr') AS sca_wdr,
  json_extract(r.config_json, '$.sca_lambda_warmup_epochs') AS sca_lambda_warmup_epochs,
  json_extract(r.config_json, '$.sca_theta_lr_scale') AS sca_theta_lr_scale,
  json_extract(r.config_json, '$.sca_lambda_final') AS sca_lambda_final,
  json_extract(r.config_json, '$.fp_init_std') AS fp_init_std,
  json_extract(r.config_json, '$.faraone_lambda2') AS faraone_lambda2,
  json_extract(r.config_json, '$.faraone_lambdaq') AS faraone_lambdaq,
  json_extract(r.config_json, '$.faraone_target_sparsity') AS faraone_target_sparsity,
  json_extract(r.config_json, '$.quantize_first') AS quantize_first,
  json_extract(r.config_json, '$.quantize_last') AS quantize_last,
  r.epochs_done, r.train_loss, r.train_acc, r.test_loss, r.test_acc,
  (SELECT s.test_acc FROM stages s WHERE s.run_key = r.run_key AND s.stage = 'continuous')
    AS test_acc_continuous,
  r.sparsity, r.bits_per_weight, r.n_weights, r.n_nonzero,
  r.size_fp32_bits, r.size_binary_bits, r.size_ternary_2bit_bits, r.size_ternary_base3_bits,
  r.size_bitmap_bits, r.size_relative_index_bits, r.n_float_params, r.float_param_bits,
  r.size_fp32_bits / r.size_binary_bits AS ratio_binary,
  r.size_fp32_bits / r.size_ternary_2bit_bits AS ratio_ternary_2bit,
  r.size_fp32_bits / r.size_ternary_base3_bits AS ratio_ternary_base3,
  r.size_fp32_bits / r.size_bitmap_bits AS ratio_bitmap,
  r.size_fp32_bits / r.size_relative_index_bits AS ratio_relative_index,
  r.train_seconds, r.attempts, r.git_commit, r.git_dirty, r.host, r.started_at, r.finished_at,
  r.weights_path, r.error, r.init_from, r.data_sha256,
  i.threads AS infer_threads,
  i.float_latency_us / i.latency_us AS infer_speedup_b1,
  i.throughput / i.float_throughput AS infer_speedup_b64,
  CAST(i.float32_bytes AS REAL) / i.bytes AS infer_memory_ratio,
  json_extract(r.config_json, '$.layers') AS layers,
  json_extract(r.config_json, '$.momentum') AS momentum,
  json_extract(r.config_json, '$.nesterov') AS nesterov,
  json_extract(r.config_json, '$.adam_beta1') AS adam_beta1,
  json_extract(r.config_json, '$.adam_beta2') AS adam_beta2,
  json_extract(r.config_json, '$.adam_eps') AS adam_eps,
  json_extract(r.config_json, '$.lr_schedule') AS lr_schedule,
  json_extract(r.config_json, '$.lr_milestones') AS lr_milestones,
  json_extract(r.config_json, '$.lr_gamma') AS lr_gamma,
  json_extract(r.config_json, '$.lr_min') AS lr_min,
  json_extract(r.config_json, '$.warmup_epochs') AS warmup_epochs,
  json_extract(r.config_json, '$.normalize') AS normalize,
  json_extract(r.config_json, '$.augment') AS augment,
  json_extract(r.config_json, '$.crop_padding') AS crop_padding,
  json_extract(r.config_json, '$.threads') AS threads,
  json_extract(r.config_json, '$.bc_stochastic') AS bc_stochastic,
  json_extract(r.config_json, '$.bc_h') AS bc_h,
  json_extract(r.config_json, '$.sca_scale_last') AS sca_scale_last,
  json_extract(r.config_json, '$.sca_finetune_epochs') AS sca_finetune_epochs,
  json_extract(r.config_json, '$.faraone_threshold') AS faraone_threshold,
  json_extract(r.config_json, '$.faraone_t') AS faraone_t,
  json_extract(r.config_json, '$.faraone_mean_factor') AS faraone_mean_factor,
  json_extract(r.config_json, '$.faraone_stage1_epochs') AS faraone_stage1_epochs,
  json_extract(r.config_json, '$.faraone_retrain_epochs') AS faraone_retrain_epochs,
  json_extract(r.config_json, '$.faraone_retrain_quantizer') AS faraone_retrain_quantizer,
  json_extract(r.config_json, '$.train_limit') AS train_limit,
  json_extract(r.config_json, '$.test_limit') AS test_limit,
  (SELECT count(*) FROM superseded_runs s WHERE s.run_key = r.run_key) AS superseded
FROM runs r LEFT JOIN inference i ON i.run_key = r.run_key;
CREATE VIEW run_epochs AS
SELECT
  e.run_key, r.sweep, r.dataset, r.model, r.method, r.seed,
  json_extract(r.config_json, '$.sca_alpha') AS sca_alpha,
  e.stage, e.epoch, e.lr, e.train_loss, e.train_acc, e.test_loss, e.test_acc,
  e.test_loss_continuous, e.test_acc_continuous, e.reg_penalty, e.sparsity, e.seconds
FROM epochs e JOIN runs r ON r.run_key = e.run_key;
CREATE VIEW run_layers AS
SELECT
  l.run_key, r.sweep, r.dataset, r.model, r.method, r.seed,
  json_extract(r.config_json, '$.sca_alpha') AS sca_alpha,
  l.layer, l.precision, l.rows, l.cols, l.n, l.n_zero, l.n_pos, l.n_neg, l.sparsity,
  l.scale, l.delta, l.bits, l.n_scales,
  l.bits_fp32, l.bits_binary, l.bits_ternary_2bit, l.bits_ternary_base3, l.bits_bitmap,
  l.bits_relative_index, l.relative_index_b,
  l.bits_fp32 / l.bits_binary AS ratio_binary,
  l.bits_fp32 / l.bits_ternary_2bit AS ratio_ternary_2bit,
  l.bits_fp32 / l.bits_ternary_base3 AS ratio_ternary_base3,
  l.bits_fp32 / l.bits_bitmap AS ratio_bitmap,
  l.bits_fp32 / l.bits_relative_index AS ratio_relative_index
FROM layers l JOIN runs r ON r.run_key = l.run_key;
CREATE VIEW run_epoch_layers AS
SELECT
  l.run_key, r.sweep, r.dataset, r.model, r.method, r.seed,
  json_extract(r.config_json, '$.sca_alpha') AS sca_alpha,
  l.stage, l.epoch, l.layer, l.precision, l.n, l.n_zero, l.n_pos, l.n_neg, l.sparsity,
  l.scale, l.delta, l.codes_changed
FROM epoch_layers l JOIN runs r ON r.run_key = l.run_key;
)sql";

}  // namespace

void migrate(sqlite3* db, const std::string& path, int from_version) {
  if (from_version == 0) sqlite::exec(db, path, kSchemaV1);
  // Views name the tables a migration rebuilds; SQLite refuses to rename a table that a
  // broken view refers to, so they go first and come back last.
  sqlite::exec(db, path, kDropViews);
  if (from_version < 2) sqlite::exec(db, path, kMigrateV1ToV2);
  if (from_version < 3) sqlite::exec(db, path, kMigrateV2ToV3);
  if (from_version < 4) sqlite::exec(db, path, kMigrateV3ToV4);
  if (from_version < 5) {
    sqlite::exec(db, path, kMigrateV4ToV5);
    rename_mnist_subset_runs(db, path);
  }
  if (from_version < 6) sqlite::exec(db, path, kMigrateV5ToV6);
  if (from_version < 7) add_omitted_defaults(db, path);
  if (from_version < 8) sqlite::exec(db, path, kMigrateV7ToV8);
  if (from_version < 9) sqlite::exec(db, path, kMigrateV8ToV9);
  if (from_version < 10) sqlite::exec(db, path, kMigrateV9ToV10);
  sqlite::exec(db, path, kViews);
  if (sqlite::query_int(db, path, "SELECT count(*) FROM pragma_foreign_key_check") != 0) {
    throw StorageError(path + ": migration to schema version " + std::to_string(MetricsDb::kSchemaVersion) +
                       " broke foreign keys; the DB is unchanged");
  }
  std::string set_version = "PRAGMA user_version = ";
  set_version.append(std::to_string(MetricsDb::kSchemaVersion));
  sqlite::exec(db, path, set_version);
}

}  // namespace ternbench::storage::schema
