#pragma once
// Where and with what a run was trained; stored with every run.
#include "ternbench/storage/records.hpp"

namespace ternbench::orchestrator {

// Compiler and library versions: "gcc=GNU 12.2.0 eigen=3.4.0 hdf5=1.10.8 sqlite=3.40.1 mpi=Open MPI v4.1.4".
const std::string& versions();

// Fills git commit and dirty flag, host, versions and the Slurm job id and restart count
// (from SLURM_JOB_ID / SLURM_RESTART_COUNT when present).
void stamp_provenance(storage::RunRecord& r);

}  // namespace ternbench::orchestrator
