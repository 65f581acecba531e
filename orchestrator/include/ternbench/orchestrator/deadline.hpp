#pragma once
// Walltime: requests a stop `margin` seconds before the deadline, so every rank has time to
// finish its batch and record its run as interrupted before the scheduler kills the job.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace ternbench::orchestrator {

// Absolute deadline in Unix seconds: --deadline SECONDS (from now) if > 0, else
// SLURM_JOB_END_TIME if set, else 0 (none).
long long resolve_deadline(double deadline_seconds_from_now);

class DeadlineTimer {
 public:
  // No thread when deadline_unix <= 0.
  DeadlineTimer(long long deadline_unix, double margin_seconds);
  ~DeadlineTimer();
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;
  // Seconds left before the stop point (infinite without a deadline).
  double seconds_left() const;

 private:
  std::chrono::system_clock::time_point stop_at_;
  bool active_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace ternbench::orchestrator
