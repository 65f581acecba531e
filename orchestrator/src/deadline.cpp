#include "ternbench/orchestrator/deadline.hpp"

#include <cstdlib>
#include <ctime>
#include <limits>

#include "ternbench/core/train/stop.hpp"

namespace ternbench::orchestrator {

long long resolve_deadline(double from_now) {
  if (from_now > 0) return static_cast<long long>(std::time(nullptr)) + static_cast<long long>(from_now);
  if (const char* end = std::getenv("SLURM_JOB_END_TIME")) {
    const long long t = std::atoll(end);
    if (t > 0) return t;
  }
  return 0;
}

DeadlineTimer::DeadlineTimer(long long deadline_unix, double margin_seconds)
    : stop_at_(std::chrono::system_clock::from_time_t(static_cast<std::time_t>(deadline_unix)) -
               std::chrono::duration_cast<std::chrono::system_clock::duration>(
                   std::chrono::duration<double>(margin_seconds))),
      active_(deadline_unix > 0) {
  if (!active_) return;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_until(lock, stop_at_, [this] { return done_; })) core::request_stop();
  });
}

DeadlineTimer::~DeadlineTimer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

double DeadlineTimer::seconds_left() const {
  if (!active_) return std::numeric_limits<double>::infinity();
  return std::chrono::duration<double>(stop_at_ - std::chrono::system_clock::now()).count();
}

}  // namespace ternbench::orchestrator
