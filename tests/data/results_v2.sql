-- A results DB as schema version 2 wrote it (ternbench 0.1.0, commit e894deb): the DDL is
-- `sqlite3 .schema` of a DB built from that commit's kSchemaV1 + kMigrateV1ToV2, the rows are
-- what a 3-run sweep records (done twn run with Slurm provenance and layers, a diverged fp run
-- with NULL losses, an interrupted run). Used by the 2 -> 3 migration test.
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
  versions TEXT);
CREATE INDEX runs_by_status ON runs(status);
CREATE INDEX runs_by_dataset_method ON runs(dataset, method);
INSERT INTO runs VALUES('5b0e8d0c2a91f7e3', 'tiny', '[train]
dataset = "mnist"
method = "twn"
seed = 1
', 'mnist', 'mlp', 'twn', 1, 0.05, 'done', NULL, 'tiny-weights/5b0e8d0c2a91f7e3.h5', 'e894deb', 1, 'node03', 1, 2, '2026-11-24T00:10:00Z', '2026-11-24T00:10:04Z', 3.75, 2, 0.21, 0.935, 0.25, 0.9225, 0.4375, 1.5625, 545000, 306562, 2, '4242', 1, 'compiler=GNU 12.2.0 eigen=3.4.0 hdf5=1.10.8 sqlite=3.40.1 mpi=Open MPI v4.1.4');
INSERT INTO runs VALUES('9d41c7a3e06b52f8', 'tiny', '[train]
dataset = "mnist"
method = "fp"
seed = 2
', 'mnist', 'mlp', 'fp', 2, 0.05, 'diverged', 'loss is NaN at epoch 2', NULL, 'e894deb', 0, 'node03', 2, 2, '2026-11-24T00:10:00Z', '2026-11-24T00:10:03Z', 2.5, 1, NULL, 0.1, NULL, 0.098, 0.0, 32.0, 545500, 545500, 1, NULL, 0, NULL);
INSERT INTO runs VALUES('e3a7f1b905cd4a26', 'tiny', '[train]
dataset = "mnist"
method = "twn"
seed = 2
', 'mnist', 'mlp', 'twn', 2, 0.05, 'interrupted', NULL, NULL, 'e894deb', 0, 'node04', 1, 2, '2026-11-24T00:11:00Z', NULL, NULL, 1, 0.4, 0.88, 0.35, 0.9, 0.41, 1.5625, 545000, 321550, 1, '4243', 0, NULL);
INSERT INTO epochs VALUES('5b0e8d0c2a91f7e3', 1, 0.42, 0.87, 0.33, 0.905, 0.43, 1.75);
INSERT INTO epochs VALUES('5b0e8d0c2a91f7e3', 2, 0.21, 0.935, 0.25, 0.9225, 0.4375, 2.0);
INSERT INTO epochs VALUES('9d41c7a3e06b52f8', 1, NULL, 0.1, NULL, 0.098, 0.0, 2.5);
INSERT INTO epochs VALUES('e3a7f1b905cd4a26', 1, 0.4, 0.88, 0.35, 0.9, 0.41, 1.5);
INSERT INTO layers VALUES('5b0e8d0c2a91f7e3', 'dense0/W', 'ternary', 500, 784, 392000, 171500, 110250, 110250, 0.4375, 0.0625, 0.035, 1.5625);
INSERT INTO layers VALUES('5b0e8d0c2a91f7e3', 'dense1/W', 'ternary', 300, 500, 150000, 65625, 42187, 42188, 0.4375, 0.0703125, 0.04, 1.5625);
INSERT INTO layers VALUES('5b0e8d0c2a91f7e3', 'dense2/W', 'fp32', 10, 300, 3000, 0, 1500, 1500, 0.0, NULL, NULL, 32.0);
PRAGMA user_version = 2;
