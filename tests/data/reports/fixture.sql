-- A small results DB for the report tests (tests/reports/report_golden_test.cpp). Loaded
-- into a DB created by storage::MetricsDb (the real schema), so the report reads it through
-- the real views. Hand-written: MLP on MNIST with fp (3 seeds), twn (2 seeds: too few),
-- sca at alpha 0.5 and 1.0 (3 seeds each) and alpha 1.5 (2 done, 1 still running).
-- 1000 weights per model; sizes follow docs/methods.md with one 32-bit scale.
INSERT INTO runs(run_key, sweep, config_toml, config_json, dataset, model, method, seed, lr, status,
                 git_commit, git_dirty, host, rank, threads, epochs_done, test_acc, sparsity,
                 bits_per_weight, n_weights, n_nonzero, attempts) VALUES
('fp-s1', 'fx', '[train]
dataset = "mnist"
epochs = 2
method = "fp"
model = "mlp"
seed = 1
', '{"dataset":"mnist","epochs":2,"method":"fp","model":"mlp","seed":1}', 'mnist', 'mlp', 'fp', 1, 0.1, 'done', 'abc', 0, 'h', 0, 1, 2, 0.95, 0.0, 32, 1000, 1000, 1),
('fp-s2', 'fx', '[train]
dataset = "mnist"
epochs = 2
method = "fp"
model = "mlp"
seed = 2
', '{"dataset":"mnist","epochs":2,"method":"fp","model":"mlp","seed":2}', 'mnist', 'mlp', 'fp', 2, 0.1, 'done', 'abc', 0, 'h', 0, 1, 2, 0.96, 0.0, 32, 1000, 1000, 1),
('fp-s3', 'fx', '[train]
dataset = "mnist"
epochs = 2
method = "fp"
model = "mlp"
seed = 3
', '{"dataset":"mnist","epochs":2,"method":"fp","model":"mlp","seed":3}', 'mnist', 'mlp', 'fp', 3, 0.1, 'done', 'abc', 0, 'h', 0, 1, 2, 0.97, 0.0, 32, 1000, 1000, 1),
('twn-s1', 'fx', '[train]
dataset = "mnist"
delta_factor = 0.7
epochs = 2
method = "twn"
model = "mlp"
seed = 1
', '{"dataset":"mnist","delta_factor":0.7,"epochs":2,"method":"twn","model":"mlp","seed":1}', 'mnist', 'mlp', 'twn', 1, 0.1, 'done', 'abc', 0, 'h', 0, 1, 2, 0.90, 0.5, 2.032, 1000, 500, 1),
('twn-s2', 'fx', '[train]
dataset = "mnist"
delta_factor = 0.7
epochs = 2
method = "twn"
model = "mlp"
seed = 2
', '{"dataset":"mnist","delta_factor":0.7,"epochs":2,"method":"twn","model":"mlp","seed":2}', 'mnist', 'mlp', 'twn', 2, 0.1, 'done', 'abc', 0, 'h', 0, 1, 2, 0.94, 0.5, 2.032, 1000, 500, 1),
('sca05-s1', 'fx', '[train]
dataset = "mnist"
epochs = 2
method = "sca"
model = "mlp"
sca_alpha = 0.5
seed = 1
', '{"dataset":"mnist","epochs":2,"method":"sca","model":"mlp","sca_alpha":0.5,"seed":1}', 'mnist', 'mlp', 'sca', 1, 0.1, 'done', 'abc', 0, 'h', 0, 1, 2, 0.93, 0.3, 1.732, 1000, 700, 1),
('sca05-s2', 'fx', '[train]
dataset = "mnist"
epochs = 2
method = "sca"
model = "mlp"
sca_alpha = 0.5
seed = 2
', '{"dataset":"mnist","epochs":2,"method":"sca","model":"mlp","sca_alpha":0.5,"seed":2}', 'mnist', 'mlp', 'sca', 2, 0.1, 'done', 'abc', 0, 'h', 0, 1, 2, 0.94, 0.3, 1.732, 1000, 700, 1),
('sca05-s3', 'fx', '[train]
dataset = "mnist"
epochs = 2
method = "sca"
model = "mlp"
sca_alpha = 0.5
seed = 3
', '{"dataset":"mnist","epochs":2,"method":"sca","model":"mlp","sca_alpha":0.5,"seed":3}', 'mnist', 'mlp', 'sca', 3, 0.1, 'done', 'abc', 0, 'h', 0, 1, 2, 0.95, 0.3, 1.732, 1000, 700, 1),
('sca10-s1', 'fx', '[train]
dataset = "mnist"
epochs = 2
method = "sca"
model = "mlp"
sca_alpha = 1.0
seed = 1
', '{"dataset":"mnist","epochs":2,"method":"sca","model":"mlp","sca_alpha":1.0,"seed":1}', 'mnist', 'mlp', 'sca', 1, 0.1, 'done', 'abc', 0, 'h', 0, 1, 2, 0.91, 0.6, 1.432, 1000, 400, 1),
('sca10-s2', 'fx', '[train]
dataset = "mnist"
epochs = 2
method = "sca"
model = "mlp"
sca_alpha = 1.0
seed = 2
', '{"dataset":"mnist","epochs":2,"method":"sca","model":"mlp","sca_alpha":1.0,"seed":2}', 'mnist', 'mlp', 'sca', 2, 0.1, 'done', 'abc', 0, 'h', 0, 1, 2, 0.92, 0.6, 1.432, 1000, 400, 1),
('sca10-s3', 'fx', '[train]
dataset = "mnist"
epochs = 2
method = "sca"
model = "mlp"
sca_alpha = 1.0
seed = 3
', '{"dataset":"mnist","epochs":2,"method":"sca","model":"mlp","sca_alpha":1.0,"seed":3}', 'mnist', 'mlp', 'sca', 3, 0.1, 'done', 'abc', 0, 'h', 0, 1, 2, 0.93, 0.6, 1.432, 1000, 400, 1),
('sca15-s1', 'fx', '[train]
dataset = "mnist"
epochs = 2
method = "sca"
model = "mlp"
sca_alpha = 1.5
seed = 1
', '{"dataset":"mnist","epochs":2,"method":"sca","model":"mlp","sca_alpha":1.5,"seed":1}', 'mnist', 'mlp', 'sca', 1, 0.1, 'done', 'abc', 0, 'h', 0, 1, 2, 0.80, 0.9, 1.132, 1000, 100, 1),
('sca15-s2', 'fx', '[train]
dataset = "mnist"
epochs = 2
method = "sca"
model = "mlp"
sca_alpha = 1.5
seed = 2
', '{"dataset":"mnist","epochs":2,"method":"sca","model":"mlp","sca_alpha":1.5,"seed":2}', 'mnist', 'mlp', 'sca', 2, 0.1, 'done', 'abc', 0, 'h', 0, 1, 2, 0.82, 0.9, 1.132, 1000, 100, 1),
('sca15-s3', 'fx', '[train]
dataset = "mnist"
epochs = 2
method = "sca"
model = "mlp"
sca_alpha = 1.5
seed = 3
', '{"dataset":"mnist","epochs":2,"method":"sca","model":"mlp","sca_alpha":1.5,"seed":3}', 'mnist', 'mlp', 'sca', 3, 0.1, 'running', 'abc', 0, 'h', 0, 1, 1, NULL, NULL, NULL, 1000, 0, 1);

-- Sizes per encoding (bits): fp32 32N, binary N + 32, dense ternary 2N + 32, bitmap
-- N + N_nz + 32, relative index 5 N_nz (b = 4).
UPDATE runs SET size_fp32_bits = 32 * n_weights, size_binary_bits = n_weights + 32,
  size_ternary_2bit_bits = 2 * n_weights + 32, size_bitmap_bits = n_weights + n_nonzero + 32,
  size_relative_index_bits = 5 * n_nonzero
WHERE status = 'done';

-- Two epochs per run: 5 points below the final accuracy, then the final accuracy.
INSERT INTO epochs(run_key, epoch, stage, test_acc)
  SELECT run_key, 1, 'train', test_acc - 0.05 FROM runs WHERE status = 'done';
INSERT INTO epochs(run_key, epoch, stage, test_acc)
  SELECT run_key, 2, 'train', test_acc FROM runs WHERE status = 'done';
-- SCA's continuous network: one point above the rounded one.
INSERT INTO stages(run_key, stage, ordinal, epochs, test_acc)
  SELECT run_key, 'continuous', 1, 2, test_acc + 0.01 FROM runs WHERE status = 'done' AND method = 'sca';
