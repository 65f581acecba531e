#pragma once
// Payloads of the coordinator/worker messages. Numbers travel as exact text (doubles in
// hexadecimal floating point), so the coordinator stores bit-for-bit what the worker computed.
#include <string>
#include <vector>

#include "ternbench/storage/records.hpp"

namespace ternbench::orchestrator {

struct WorkItem {
  std::string run_key;
  std::string sweep;
  std::string canonical_toml;
  std::string weights_path;   // where the worker writes the run's HDF5 file
  std::string weights_ref;    // the same file as recorded in the DB (relative to the DB)
  std::string data_root;
  int attempt = 1;            // 1 for the first try; retries and resumes count up
  // The run's init_from source (its run key, also in canonical_toml) and that run's weights
  // file (absolute); "" without a warm start. The coordinator hands the run out once the
  // source is done.
  std::string init_from;
  std::string init_weights;
};

struct RunResult {
  storage::RunRecord run;
  std::vector<storage::LayerRecord> layers;
  std::vector<storage::StageRecord> stages;
};

std::string encode(const WorkItem& w);
std::string encode(const storage::EpochRecord& e);
std::string encode(const RunResult& r);

// Throw CommError when the payload is malformed.
WorkItem decode_work(const std::string& payload);
storage::EpochRecord decode_epoch(const std::string& payload);
RunResult decode_result(const std::string& payload);

}  // namespace ternbench::orchestrator
