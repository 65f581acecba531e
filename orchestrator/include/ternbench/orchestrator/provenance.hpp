#pragma once
// Where and with what a run was trained; stored with every run.
#include "ternbench/storage/records.hpp"

namespace ternbench::orchestrator {

// Compiler and library versions: "gcc=GNU 12.2.0 eigen=3.4.0 hdf5=1.10.8 sqlite=3.40.1 mpi=Open MPI v4.1.4".
const std::string& versions();

// What `ternbench --version` prints: the project version, the git commit it was built from
// (" (dirty)" when the tree had uncommitted changes) and versions(), as runs.versions holds
// them, on three lines.
std::string version_text();

// Fills git commit and dirty flag, host, versions and the Slurm job id and restart count
// (from SLURM_JOB_ID / SLURM_RESTART_COUNT when present).
void stamp_provenance(storage::RunRecord& r);

}  // namespace ternbench::orchestrator
