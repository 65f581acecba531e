#include "ternbench/orchestrator/mpi_transport.hpp"

#include <mpi.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "ternbench/base/error.hpp"

namespace ternbench::orchestrator {
namespace {
void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw CommError(std::string(what) + " failed: " + std::string(msg, static_cast<std::size_t>(len)));
}
}  // namespace

bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"}) {
    if (const char* v = std::getenv(var); v && std::atoi(v) > 1) return true;
  }
  // srun with pmix sets PMIX_RANK but not always PMIX_SIZE; SLURM_NTASKS tells the size.
  if (std::getenv("PMIX_RANK") != nullptr) {
    const char* n = std::getenv("SLURM_NTASKS");
    return n != nullptr && std::atoi(n) > 1;
  }
  return false;
}

MpiSession::MpiSession(int* argc, char*** argv) {
  check(MPI_Init(argc, argv), "MPI_Init");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiSession::~MpiSession() { MPI_Finalize(); }

void MpiSession::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

MpiTransport::MpiTransport() {
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

void MpiTransport::send(int dest, Tag tag, std::string_view payload) {
  check(MPI_Send(payload.data(), static_cast<int>(payload.size()), MPI_CHAR, dest, static_cast<int>(tag),
                 MPI_COMM_WORLD),
        "MPI_Send");
}

Message MpiTransport::recv_any() {
  MPI_Status st;
  int flag = 0;
  auto pause = std::chrono::microseconds(50);
  for (;;) {
    check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
    if (flag) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(2000));
  }
  int count = 0;
  MPI_Get_count(&st, MPI_CHAR, &count);
  Message m;
  m.source = st.MPI_SOURCE;
  m.tag = static_cast<Tag>(st.MPI_TAG);
  m.payload.resize(static_cast<std::size_t>(count));
  check(MPI_Recv(m.payload.data(), count, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
        "MPI_Recv");
  return m;
}

}  // namespace ternbench::orchestrator
