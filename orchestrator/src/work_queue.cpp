#include "ternbench/orchestrator/work_queue.hpp"

#include <unordered_map>

namespace ternbench::orchestrator {

WorkQueue::WorkQueue(const std::vector<WorkItem>& work, const std::vector<std::size_t>& order,
                     const std::function<std::string(const std::string&)>& status_of)
    : work_(work), rank_(work.size()), dependents_(work.size()) {
  for (std::size_t r = 0; r < order.size(); ++r) rank_[order[r]] = r;
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < work.size(); ++i) index.emplace(work[i].run_key, i);
  std::vector<std::size_t> blocked_roots;
  for (const std::size_t i : order) {
    const std::string& source = work[i].init_from;
    if (source.empty()) {
      ready_.emplace(rank_[i], i);
      continue;
    }
    if (const auto it = index.find(source); it != index.end()) {
      dependents_[it->second].push_back(i);
      ++waiting_;
      continue;
    }
    const std::string status = status_of ? status_of(source) : std::string();
    if (status == "done") {
      ready_.emplace(rank_[i], i);
    } else {
      initially_blocked_.push_back(
          {i, "its init_from source " + source +
                  (status.empty() ? std::string(" is not in this sweep's DB") : " is " + status + " in the DB")});
      blocked_roots.push_back(i);
    }
  }
  for (const std::size_t i : blocked_roots)
    block_dependents(i, "its init_from source " + work[i].run_key + " is blocked", initially_blocked_);
}

std::optional<std::size_t> WorkQueue::pop() {
  if (ready_.empty()) return std::nullopt;
  const std::size_t item = ready_.begin()->second;
  ready_.erase(ready_.begin());
  return item;
}

void WorkQueue::release(std::size_t item) {
  for (const std::size_t d : dependents_[item]) {
    ready_.emplace(rank_[d], d);
    --waiting_;
  }
  dependents_[item].clear();
}

void WorkQueue::block_dependents(std::size_t item, const std::string& reason, std::vector<BlockedRun>& out) {
  std::vector<std::size_t> deps;
  deps.swap(dependents_[item]);
  for (const std::size_t d : deps) {
    --waiting_;
    out.push_back({d, reason});
    block_dependents(d, "its init_from source " + work_[d].run_key + " is blocked", out);
  }
}

std::vector<BlockedRun> WorkQueue::finished(std::size_t item, const std::string& status) {
  std::vector<BlockedRun> blocked;
  if (status == "done")
    release(item);
  else if (status == "interrupted")
    drop(item);  // it resumes in the next job, and its dependents start after it there
  else
    block_dependents(item, "its init_from source " + work_[item].run_key + " ended " + status, blocked);
  return blocked;
}

void WorkQueue::drop(std::size_t item) {
  std::vector<BlockedRun> unused;
  block_dependents(item, "", unused);
}

}  // namespace ternbench::orchestrator
