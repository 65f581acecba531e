#pragma once
// Rows of the results DB as plain structs (no SQLite types cross this boundary).
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace ternbench::storage {

// Status values stored in runs.status.
// done and diverged are results; failed (an exception in the run) is retried up to the
// configured count; config_error is never retried; interrupted resumes on the next run.
inline constexpr const char* kStatusPending = "pending";
inline constexpr const char* kStatusRunning = "running";
inline constexpr const char* kStatusDone = "done";
inline constexpr const char* kStatusFailed = "failed";
inline constexpr const char* kStatusDiverged = "diverged";
inline constexpr const char* kStatusInterrupted = "interrupted";
inline constexpr const char* kStatusConfigError = "config_error";
// Schema 5: the run's init_from source did not finish (failed, diverged, config_error,
// blocked itself); it is tried again once its source is done, and costs no attempt.
inline constexpr const char* kStatusBlocked = "blocked";

// New metrics (schema 3 on) default to "not recorded": NaN and nullopt are stored as NULL.
inline constexpr double kNotRecorded = std::numeric_limits<double>::quiet_NaN();

struct RunRecord {
  std::string run_key;      // hash of the canonical config
  std::string sweep;        // sweep name the run was last scheduled by
  std::string config_toml;  // canonical, fully defaulted config
  std::string dataset, model, method;
  std::int64_t seed = 0;
  double lr = 0;
  std::string status;       // one of kStatus*
  std::string error;        // message when failed
  std::string weights_path; // HDF5 file, relative to the DB's directory
  std::string git_commit;
  bool git_dirty = false;
  std::string host;
  int rank = 0;
  int threads = 1;
  std::string started_at, finished_at;  // UTC, ISO 8601
  double train_seconds = 0;
  int epochs_done = 0;
  double train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0;
  double sparsity = 0, bits_per_weight = 0;
  std::int64_t n_weights = 0, n_nonzero = 0;
  int attempts = 0;               // times the run was started (retries and resumes count)
  std::string slurm_job_id;       // SLURM_JOB_ID of the job that trained it ("" outside Slurm)
  int slurm_restart_count = 0;    // SLURM_RESTART_COUNT (requeues)
  std::string versions;           // compiler and library versions, "eigen=3.4.0 hdf5=1.10.8 ..."
  // Schema 3. The config as a JSON object with the keys of the [train] table ("" = NULL);
  // the DB refuses text that is not valid JSON.
  std::string config_json;
  // Size of the whole model in bits under each encoding, float parameters (biases, batch
  // norm, fp32 layers) included at 32 bits each (docs/methods.md, size accounting).
  double size_fp32_bits = kNotRecorded;
  double size_binary_bits = kNotRecorded;
  double size_ternary_2bit_bits = kNotRecorded;
  double size_ternary_base3_bits = kNotRecorded;
  double size_bitmap_bits = kNotRecorded;
  double size_relative_index_bits = kNotRecorded;
  std::optional<std::int64_t> n_float_params;  // parameters kept in fp32
  double float_param_bits = kNotRecorded;      // their share of each size_* total
  std::string weights_sha256;                  // SHA-256 of the HDF5 file, hex ("" = NULL)
  // Schema 5. The run key whose weights the run started from ("" = NULL: a fresh init), and
  // the fingerprint of the data it trained on (core::DataSplit::fingerprint; "" = NULL:
  // recorded before schema 5).
  std::string init_from;
  std::string data_sha256;
};

// Schema 4: one weight matrix as deployed at the end of an epoch (the finished model's are
// LayerRecords). Its run, stage and epoch are those of the EpochRecord that holds it.
struct EpochLayerRecord {
  std::string layer;      // weight path, e.g. "dense0/W"
  std::string precision;  // "fp32" | "binary" | "ternary"
  std::int64_t n = 0, n_zero = 0, n_pos = 0, n_neg = 0;
  double sparsity = 0, scale = 0, delta = 0;
  // Schema 6: share of the codes that differ from the run's codes at its start; not
  // recorded for fp32 matrices.
  double codes_changed = kNotRecorded;
};

struct EpochRecord {
  std::string run_key;
  int epoch = 0;
  double train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0;
  double sparsity = 0, seconds = 0;
  // Schema 3. The training stage the epoch belongs to: "train", or faraone's "stage1" and
  // "stage3". Epoch numbers are unique within a stage.
  std::string stage = "train";
  double lr = kNotRecorded;  // learning rate used in this epoch
  // SCA's continuous (un-rounded) network; not recorded for other methods.
  double test_acc_continuous = kNotRecorded, test_loss_continuous = kNotRecorded;
  double reg_penalty = kNotRecorded;  // the regularizer's term in the loss; not recorded if none
  std::vector<EpochLayerRecord> layers;  // schema 4; empty when not recorded
};

struct LayerRecord {
  std::string run_key;
  std::string layer;       // weight path, e.g. "dense0/W"
  std::string precision;   // "fp32" | "ternary"
  std::int64_t rows = 0, cols = 0;
  std::int64_t n = 0, n_zero = 0, n_pos = 0, n_neg = 0;
  double sparsity = 0, scale = 0, delta = 0, bits = 0;
  // Schema 3: float scales stored with the layer, and its size in bits per encoding.
  std::optional<std::int64_t> n_scales;
  double bits_fp32 = kNotRecorded, bits_binary = kNotRecorded;
  double bits_ternary_2bit = kNotRecorded, bits_ternary_base3 = kNotRecorded;
  double bits_bitmap = kNotRecorded, bits_relative_index = kNotRecorded;
  std::optional<std::int64_t> relative_index_b;  // index width b chosen for this layer
};

// A named evaluation of a finished run (schema 3): "final" for most methods; sca records
// "continuous" and "rounded"; faraone "stage1", "stage2" (pruned, before retraining) and
// "stage3". ordinal orders the stages of one run (1, 2, ...).
struct StageRecord {
  std::string run_key;
  std::string stage;
  int ordinal = 0;
  int epochs = 0;  // epochs trained in this stage (0 for an evaluation-only stage)
  double test_loss = kNotRecorded, test_acc = kNotRecorded, sparsity = kNotRecorded;
};

// One measurement of a finished run's network by the ternary inference engine (schema 8,
// `ternbench infer --engine ternary --db`, docs/inference.md). A new measurement of the run
// replaces the last.
struct InferenceRecord {
  std::string run_key;
  std::string engine = "ternary";
  int threads = 1;
  std::int64_t n_test = 0;                 // test images evaluated
  std::int64_t predictions_identical = 0;  // of them, predicted as the float model does
  double test_acc = kNotRecorded;          // the engine's
  double latency_us = kNotRecorded, float_latency_us = kNotRecorded;  // one image, batch 1
  double throughput = kNotRecorded, float_throughput = kNotRecorded;  // images/s at batch 64
  std::int64_t bytes = 0, float32_bytes = 0;  // resident weights: engine, float32
  std::string host, git_commit, measured_at;
};

}  // namespace ternbench::storage
