#pragma once
// Rows of the results DB as plain structs (no SQLite types cross this boundary).
#include <cstdint>
#include <string>

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
};

struct EpochRecord {
  std::string run_key;
  int epoch = 0;
  double train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0;
  double sparsity = 0, seconds = 0;
};

struct LayerRecord {
  std::string run_key;
  std::string layer;       // weight path, e.g. "dense0/W"
  std::string precision;   // "fp32" | "ternary"
  std::int64_t rows = 0, cols = 0;
  std::int64_t n = 0, n_zero = 0, n_pos = 0, n_neg = 0;
  double sparsity = 0, scale = 0, delta = 0, bits = 0;
};

}  // namespace ternbench::storage
