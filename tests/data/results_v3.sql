-- A results DB as schema version 3 wrote it (ternbench commit f710f53): the DDL is
-- `sqlite3 .schema` of a DB built from that commit's kSchemaV1 + kMigrateV1ToV2 +
-- kMigrateV2ToV3 + kViews, the rows are what a 2-run sweep records (a done faraone run with
-- two training stages, its layers and stages; an interrupted sca run). It has no per-epoch
-- layer statistics. Used by the 3 -> 4 migration test.
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
  bits REAL, n_scales INTEGER, bits_fp32 REAL, bits_binary REAL, bits_ternary_2bit REAL, bits_ternary_base3 REAL, bits_bitmap REAL, bits_relative_index REAL, relative_index_b INTEGER,
  PRIMARY KEY(run_key, layer));
CREATE TABLE IF NOT EXISTS "runs"(
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
  versions TEXT, config_json TEXT
  CHECK(config_json IS NULL OR json_valid(config_json)), size_fp32_bits REAL, size_binary_bits REAL, size_ternary_2bit_bits REAL, size_ternary_base3_bits REAL, size_bitmap_bits REAL, size_relative_index_bits REAL, n_float_params INTEGER, float_param_bits REAL, weights_sha256 TEXT);
CREATE INDEX runs_by_status ON runs(status);
CREATE INDEX runs_by_dataset_method ON runs(dataset, method);
CREATE TABLE IF NOT EXISTS "epochs"(
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
  r.weights_path, r.error
FROM runs r
/* results(run_key,sweep,status,dataset,model,method,seed,epochs,batch_size,optimizer,lr,weight_decay,delta_factor,twn_per_channel,ttq_threshold,sca_alpha,sca_lambda,sca_init_std,faraone_lambda2,faraone_lambdaq,faraone_target_sparsity,quantize_first,quantize_last,epochs_done,train_loss,train_acc,test_loss,test_acc,test_acc_continuous,sparsity,bits_per_weight,n_weights,n_nonzero,size_fp32_bits,size_binary_bits,size_ternary_2bit_bits,size_ternary_base3_bits,size_bitmap_bits,size_relative_index_bits,n_float_params,float_param_bits,ratio_binary,ratio_ternary_2bit,ratio_ternary_base3,ratio_bitmap,ratio_relative_index,train_seconds,attempts,git_commit,git_dirty,host,started_at,finished_at,weights_path,error) */;
CREATE VIEW run_epochs AS
SELECT
  e.run_key, r.sweep, r.dataset, r.model, r.method, r.seed,
  json_extract(r.config_json, '$.sca_alpha') AS sca_alpha,
  e.stage, e.epoch, e.lr, e.train_loss, e.train_acc, e.test_loss, e.test_acc,
  e.test_loss_continuous, e.test_acc_continuous, e.reg_penalty, e.sparsity, e.seconds
FROM epochs e JOIN runs r ON r.run_key = e.run_key
/* run_epochs(run_key,sweep,dataset,model,method,seed,sca_alpha,stage,epoch,lr,train_loss,train_acc,test_loss,test_acc,test_loss_continuous,test_acc_continuous,reg_penalty,sparsity,seconds) */;
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
FROM layers l JOIN runs r ON r.run_key = l.run_key
/* run_layers(run_key,sweep,dataset,model,method,seed,sca_alpha,layer,precision,"rows",cols,n,n_zero,n_pos,n_neg,sparsity,scale,delta,bits,n_scales,bits_fp32,bits_binary,bits_ternary_2bit,bits_ternary_base3,bits_bitmap,bits_relative_index,relative_index_b,ratio_binary,ratio_ternary_2bit,ratio_ternary_base3,ratio_bitmap,ratio_relative_index) */;
INSERT INTO runs(run_key, sweep, config_toml, dataset, model, method, seed, lr, status, error,
  weights_path, git_commit, git_dirty, host, rank, threads, started_at, finished_at, train_seconds,
  epochs_done, train_loss, train_acc, test_loss, test_acc, sparsity, bits_per_weight, n_weights,
  n_nonzero, attempts, slurm_job_id, slurm_restart_count, versions, config_json, size_fp32_bits,
  size_binary_bits, size_ternary_2bit_bits, size_ternary_base3_bits, size_bitmap_bits,
  size_relative_index_bits, n_float_params, float_param_bits, weights_sha256)
VALUES('a1f0c3d2e4b59687', 'v3', '[train]
dataset = "mnist"
method = "faraone"
seed = 1
', 'mnist', 'mlp', 'faraone', 1, 0.05, 'done', NULL, 'v3-weights/a1f0c3d2e4b59687.h5', 'f710f53', 0,
  'node01', 1, 1, '2026-11-24T01:00:00Z', '2026-11-24T01:00:09Z', 8.5, 4, 0.2, 0.94, 0.24, 0.93,
  0.5, 1.5, 545000, 272500, 1, NULL, 0, 'compiler=GNU 12.2.0',
  '{"dataset":"mnist","method":"faraone","epochs":4,"lr":0.05,"seed":1,"faraone_target_sparsity":0.5}',
  17465920.0, 571920.0, 1116920.0, 898920.0, 843420.0, 700000.0, 810, 25920.0, NULL),
('b2e1d4c3f5a60798', 'v3', '[train]
dataset = "mnist"
method = "sca"
seed = 2
', 'mnist', 'mlp', 'sca', 2, 0.05, 'interrupted', NULL, NULL, 'f710f53', 0, 'node02', 2, 1,
  '2026-11-24T01:00:00Z', NULL, NULL, 1, 0.4, 0.88, 0.35, 0.9, 0.3, 1.5, 545000, 381500, 1, NULL, 0,
  NULL, '{"dataset":"mnist","method":"sca","epochs":3,"lr":0.05,"seed":2,"sca_alpha":0.5}',
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO epochs(run_key, epoch, train_loss, train_acc, test_loss, test_acc, sparsity, seconds,
  stage, lr, test_acc_continuous, test_loss_continuous, reg_penalty) VALUES
('a1f0c3d2e4b59687', 1, 0.5, 0.85, 0.4, 0.88, 0.3, 2.0, 'stage1', 0.05, NULL, NULL, 1.5),
('a1f0c3d2e4b59687', 2, 0.3, 0.91, 0.3, 0.91, 0.35, 2.0, 'stage1', 0.025, NULL, NULL, 1.25),
('a1f0c3d2e4b59687', 1, 0.25, 0.93, 0.26, 0.92, 0.5, 2.0, 'stage3', 0.05, NULL, NULL, NULL),
('a1f0c3d2e4b59687', 2, 0.2, 0.94, 0.24, 0.93, 0.5, 2.0, 'stage3', 0.025, NULL, NULL, NULL),
('b2e1d4c3f5a60798', 1, 0.4, 0.88, 0.35, 0.9, 0.3, 1.5, 'train', 0.05, 0.91, 0.33, 2.0);
INSERT INTO layers(run_key, layer, precision, rows, cols, n, n_zero, n_pos, n_neg, sparsity, scale,
  delta, bits, n_scales, bits_fp32, bits_binary, bits_ternary_2bit, bits_ternary_base3, bits_bitmap,
  bits_relative_index, relative_index_b) VALUES
('a1f0c3d2e4b59687', 'dense0/W', 'ternary', 500, 784, 392000, 196000, 98000, 98000, 0.5, 0.0625,
  0.035, 784064.0, 2, 12544000.0, 392064.0, 784064.0, 627264.0, 588064.0, 500000.0, 4),
('a1f0c3d2e4b59687', 'dense2/W', 'fp32', 10, 300, 3000, 0, 1500, 1500, 0.0, 0.0, 0.0, 96000.0, 0,
  96000.0, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO stages(run_key, stage, ordinal, epochs, test_loss, test_acc, sparsity) VALUES
('a1f0c3d2e4b59687', 'stage1', 1, 2, 0.3, 0.91, 0.35),
('a1f0c3d2e4b59687', 'stage2', 2, 2, 0.5, 0.85, 0.5),
('a1f0c3d2e4b59687', 'stage3', 3, 4, 0.24, 0.93, 0.5);
PRAGMA user_version = 3;
