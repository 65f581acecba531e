#include "ternbench/orchestrator/provenance.hpp"

#include <mpi.h>

#include <Eigen/Core>
#include <cstdlib>

#include "ternbench/base/version.hpp"
#include "ternbench/orchestrator/run_executor.hpp"
#include "ternbench/storage/versions.hpp"

namespace ternbench::orchestrator {
namespace {
std::string mpi_version() {
  // MPI_Get_library_version may be called before MPI_Init (MPI-3), so embedded runs record it too.
  char buf[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int len = 0;
  if (MPI_Get_library_version(buf, &len) != MPI_SUCCESS) return "unknown";
  std::string v(buf, static_cast<std::size_t>(len));
  const std::size_t cut = v.find_first_of(",\n");
  return v.substr(0, cut);
}
}  // namespace

const std::string& versions() {
  static const std::string v = std::string("compiler=") + compiler_version() + " eigen=" +
                               std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) +
                               "." + std::to_string(EIGEN_MINOR_VERSION) + " " + storage::library_versions() +
                               " mpi=" + mpi_version();
  return v;
}

std::string version_text() {
  return std::string("ternbench ") + project_version() + "\ncommit " + git_commit() + (git_dirty() ? " (dirty)" : "") +
         "\n" + versions();
}

void stamp_provenance(storage::RunRecord& r) {
  r.git_commit = git_commit();
  r.git_dirty = git_dirty();
  r.host = host_name();
  r.versions = versions();
  if (const char* job = std::getenv("SLURM_JOB_ID")) r.slurm_job_id = job;
  if (const char* n = std::getenv("SLURM_RESTART_COUNT")) r.slurm_restart_count = std::atoi(n);
}

}  // namespace ternbench::orchestrator
