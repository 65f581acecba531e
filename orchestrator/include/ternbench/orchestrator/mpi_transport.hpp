#pragma once
// The real transport. The only file pair of the project that includes <mpi.h>.
#include <memory>
#include <vector>

#include "ternbench/orchestrator/transport.hpp"

namespace ternbench::orchestrator {

// True when this process was started by mpirun/srun with more than one rank.
bool launched_by_mpi();

// MPI_Init on construction, MPI_Finalize on normal destruction. abort() ends every rank.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  [[noreturn]] static void abort(int code);

 private:
  int rank_ = 0, size_ = 1;
};

class MpiTransport final : public Transport {
 public:
  MpiTransport();
  ~MpiTransport() override;  // waits for the sends still in flight
  MpiTransport(const MpiTransport&) = delete;
  MpiTransport& operator=(const MpiTransport&) = delete;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  // Returns at once: the message is copied and sent in the background (MPI_Isend). A
  // blocking MPI_Send waits until the receiving rank next enters MPI, and under
  // --oversubscribe Open MPI spins with sched_yield all that time.
  void send(int dest, Tag tag, std::string_view payload) override;
  // Polls with MPI_Iprobe and sleeps between polls (up to 2 ms) so a waiting rank uses
  // almost no CPU; Open MPI's blocking receive would busy-wait a whole core.
  Message recv_any() override;
  std::optional<Message> recv_for(std::chrono::microseconds wait) override;

 private:
  struct PendingSend;
  void reap_sends();
  int rank_ = 0, size_ = 1;
  std::vector<std::unique_ptr<PendingSend>> pending_;
};

}  // namespace ternbench::orchestrator
