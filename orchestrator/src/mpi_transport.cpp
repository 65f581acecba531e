#include "ternbench/orchestrator/mpi_transport.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <optional>
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

struct MpiTransport::PendingSend {
  std::string payload;  // must outlive the send
  MPI_Request request = MPI_REQUEST_NULL;
};

MpiTransport::MpiTransport() {
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiTransport::~MpiTransport() {
  if (std::uncaught_exceptions() > 0) {
    // This rank is failing and main() aborts every rank next. Waiting could take until a
    // busy peer next enters MPI (the end of its run), so the sends are left to finish on
    // their own, with their buffers, until the abort.
    for (auto& p : pending_) {
      MPI_Request_free(&p->request);
      static_cast<void>(p.release());
    }
    return;
  }
  for (auto& p : pending_) MPI_Wait(&p->request, MPI_STATUS_IGNORE);
}

void MpiTransport::reap_sends() {
  std::erase_if(pending_, [](const std::unique_ptr<PendingSend>& p) {
    int done = 0;
    check(MPI_Test(&p->request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    return done != 0;
  });
}

void MpiTransport::send(int dest, Tag tag, std::string_view payload) {
  reap_sends();
  auto p = std::make_unique<PendingSend>();
  p->payload.assign(payload);
  check(MPI_Isend(p->payload.data(), static_cast<int>(p->payload.size()), MPI_CHAR, dest, static_cast<int>(tag),
                  MPI_COMM_WORLD, &p->request),
        "MPI_Isend");
  pending_.push_back(std::move(p));
}

namespace {
std::optional<Message> poll_once() {
  MPI_Status st;
  int flag = 0;
  check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
  if (!flag) return std::nullopt;
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

// Polls with a pause of a quarter of the time waited so far, between 20 us and 2 ms: a
// message that comes soon (the next run, right after a result) is seen within tens of
// microseconds, and a rank that waits for hours sleeps almost all the time.
std::optional<Message> poll_until(std::optional<std::chrono::steady_clock::time_point> deadline) {
  using clock = std::chrono::steady_clock;
  using us = std::chrono::microseconds;
  const auto start = clock::now();
  for (;;) {
    if (std::optional<Message> m = poll_once()) return m;
    const auto now = clock::now();
    us pause = std::clamp(std::chrono::duration_cast<us>(now - start) / 4, us(20), us(2000));
    if (deadline) {
      const auto left = std::chrono::duration_cast<us>(*deadline - now);
      if (left.count() <= 0) return std::nullopt;
      pause = std::min(pause, left);
    }
    std::this_thread::sleep_for(pause);
  }
}
}  // namespace

Message MpiTransport::recv_any() { return std::move(*poll_until(std::nullopt)); }

std::optional<Message> MpiTransport::recv_for(std::chrono::microseconds wait) {
  return poll_until(std::chrono::steady_clock::now() + wait);
}

}  // namespace ternbench::orchestrator
