#include "ternbench/orchestrator/work_queue.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace {

using ternbench::orchestrator::BlockedRun;
using ternbench::orchestrator::WorkItem;
using ternbench::orchestrator::WorkQueue;

std::vector<WorkItem> work_of(const std::vector<std::pair<std::string, std::string>>& key_and_source) {
  std::vector<WorkItem> w;
  for (const auto& [key, source] : key_and_source) {
    WorkItem i;
    i.run_key = key;
    i.init_from = source;
    w.push_back(i);
  }
  return w;
}

std::vector<std::size_t> drain(WorkQueue& q) {
  std::vector<std::size_t> out;
  while (const auto i = q.pop()) out.push_back(*i);
  return out;
}

TEST(WorkQueue, WithoutDependenciesItIsTheGivenOrder) {
  const auto work = work_of({{"a", ""}, {"b", ""}, {"c", ""}});
  WorkQueue q(work, {2, 0, 1}, {});
  EXPECT_EQ(drain(q), (std::vector<std::size_t>{2, 0, 1}));
  EXPECT_FALSE(q.waiting());
}

TEST(WorkQueue, ADependentIsReleasedWhenItsSourceIsDoneInItsOwnPlaceOfTheOrder) {
  // b and c wait for a; the order ranks c before a before d before b.
  const auto work = work_of({{"a", ""}, {"b", "a"}, {"c", "a"}, {"d", ""}});
  WorkQueue q(work, {2, 0, 3, 1}, {});
  EXPECT_EQ(drain(q), (std::vector<std::size_t>{0, 3}));
  EXPECT_TRUE(q.waiting());
  EXPECT_TRUE(q.finished(0, "done").empty());
  EXPECT_FALSE(q.waiting());
  EXPECT_EQ(drain(q), (std::vector<std::size_t>{2, 1}));
}

TEST(WorkQueue, AFailedSourceBlocksItsDependentsAndTheirs) {
  const auto work = work_of({{"a", ""}, {"b", "a"}, {"c", "b"}, {"d", ""}});
  WorkQueue q(work, {0, 1, 2, 3}, {});
  EXPECT_EQ(drain(q), (std::vector<std::size_t>{0, 3}));
  const std::vector<BlockedRun> blocked = q.finished(0, "diverged");
  ASSERT_EQ(blocked.size(), 2u);
  EXPECT_EQ(blocked[0].item, 1u);
  EXPECT_EQ(blocked[0].reason, "its init_from source a ended diverged");
  EXPECT_EQ(blocked[1].item, 2u);
  EXPECT_EQ(blocked[1].reason, "its init_from source b is blocked");
  EXPECT_FALSE(q.waiting());
  EXPECT_FALSE(q.pop());
}

TEST(WorkQueue, AnInterruptedOrDroppedSourceLeavesItsDependentsForTheNextJob) {
  const auto work = work_of({{"a", ""}, {"b", "a"}, {"c", ""}, {"d", "c"}});
  WorkQueue q(work, {0, 1, 2, 3}, {});
  EXPECT_EQ(drain(q), (std::vector<std::size_t>{0, 2}));
  EXPECT_TRUE(q.finished(0, "interrupted").empty());
  q.drop(2);
  EXPECT_FALSE(q.waiting());
  EXPECT_FALSE(q.pop());
}

TEST(WorkQueue, ASourceOutsideTheWorkIsLookedUpInTheDb) {
  const auto work = work_of({{"a", "done-run"}, {"b", "failed-run"}, {"c", "b"}, {"d", "nowhere"}});
  const std::map<std::string, std::string> db = {{"done-run", "done"}, {"failed-run", "failed"}};
  WorkQueue q(work, {0, 1, 2, 3}, [&](const std::string& k) {
    const auto it = db.find(k);
    return it == db.end() ? std::string() : it->second;
  });
  const auto& blocked = q.initially_blocked();
  ASSERT_EQ(blocked.size(), 3u);
  EXPECT_EQ(blocked[0].item, 1u);
  EXPECT_EQ(blocked[0].reason, "its init_from source failed-run is failed in the DB");
  EXPECT_EQ(blocked[1].item, 3u);
  EXPECT_EQ(blocked[1].reason, "its init_from source nowhere is not in this sweep's DB");
  EXPECT_EQ(blocked[2].item, 2u);
  EXPECT_EQ(blocked[2].reason, "its init_from source b is blocked");
  EXPECT_EQ(drain(q), (std::vector<std::size_t>{0}));
  EXPECT_FALSE(q.waiting());
}

}  // namespace
