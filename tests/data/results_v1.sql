-- A results DB as schema version 1 wrote it (ternbench 0.1.0, commit 8762164), with one
-- finished run, its epochs and one layer. Used by the migration test.
CREATE TABLE runs(
  run_key TEXT PRIMARY KEY, sweep TEXT NOT NULL, config_toml TEXT NOT NULL, dataset TEXT NOT NULL,
  model TEXT NOT NULL, method TEXT NOT NULL, seed INTEGER NOT NULL, lr REAL,
  status TEXT NOT NULL CHECK(status IN ('pending','running','done','failed','diverged','interrupted')),
  error TEXT, weights_path TEXT, git_commit TEXT NOT NULL,
  git_dirty INTEGER NOT NULL CHECK(git_dirty IN (0,1)), host TEXT NOT NULL, rank INTEGER NOT NULL,
  threads INTEGER NOT NULL, started_at TEXT, finished_at TEXT, train_seconds REAL,
  epochs_done INTEGER NOT NULL, train_loss REAL, train_acc REAL, test_loss REAL, test_acc REAL,
  sparsity REAL, bits_per_weight REAL, n_weights INTEGER NOT NULL, n_nonzero INTEGER NOT NULL);
CREATE INDEX runs_by_status ON runs(status);
CREATE INDEX runs_by_dataset_method ON runs(dataset, method);
CREATE TABLE epochs(
  run_key TEXT NOT NULL REFERENCES runs(run_key) ON DELETE CASCADE, epoch INTEGER NOT NULL,
  train_loss REAL, train_acc REAL, test_loss REAL, test_acc REAL, sparsity REAL, seconds REAL,
  PRIMARY KEY(run_key, epoch));
CREATE TABLE layers(
  run_key TEXT NOT NULL REFERENCES runs(run_key) ON DELETE CASCADE, layer TEXT NOT NULL,
  precision TEXT NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, n INTEGER NOT NULL,
  n_zero INTEGER NOT NULL, n_pos INTEGER NOT NULL, n_neg INTEGER NOT NULL,
  sparsity REAL, scale REAL, delta REAL, bits REAL, PRIMARY KEY(run_key, layer));
INSERT INTO runs VALUES('c4f23f66c57ed99c', 'quickstart', '[train]
method = "fp"
', 'mnist', 'mlp', 'fp', 1, 0.05, 'done', NULL, 'quickstart-weights/c4f23f66c57ed99c.h5',
  '8762164', 0, 'host', 0, 1, '2026-11-23T21:40:00Z', '2026-11-23T21:40:02Z', 2.1, 2,
  0.1, 0.97, 0.13, 0.9654, 0.0, 32.0, 545500, 545500);
INSERT INTO epochs VALUES('c4f23f66c57ed99c', 1, 0.3, 0.9, 0.2, 0.94, 0.0, 1.0);
INSERT INTO epochs VALUES('c4f23f66c57ed99c', 2, 0.1, 0.97, 0.13, 0.9654, 0.0, 1.1);
INSERT INTO layers VALUES('c4f23f66c57ed99c', 'dense0/W', 'fp32', 500, 784, 392000, 0, 196000, 196000,
  0.0, 0.0, 0.0, 12544000.0);
PRAGMA user_version = 1;
