#pragma once
// In-process Transport: one mailbox per rank, ranks run as threads. Lets the scheduler be
// tested without processes.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "ternbench/orchestrator/transport.hpp"

namespace ternbench::testing {

class LoopbackNetwork {
 public:
  explicit LoopbackNetwork(int size) : boxes_(static_cast<std::size_t>(size)) {
    for (auto& b : boxes_) b = std::make_unique<Box>();
  }
  int size() const { return static_cast<int>(boxes_.size()); }
  void post(int dest, orchestrator::Message m) {
    Box& b = *boxes_.at(static_cast<std::size_t>(dest));
    {
      std::lock_guard<std::mutex> lock(b.mu);
      b.q.push_back(std::move(m));
    }
    b.cv.notify_one();
  }
  orchestrator::Message take(int rank) {
    Box& b = *boxes_.at(static_cast<std::size_t>(rank));
    std::unique_lock<std::mutex> lock(b.mu);
    b.cv.wait(lock, [&] { return !b.q.empty(); });
    orchestrator::Message m = std::move(b.q.front());
    b.q.pop_front();
    return m;
  }
  std::optional<orchestrator::Message> take_for(int rank, std::chrono::microseconds wait) {
    Box& b = *boxes_.at(static_cast<std::size_t>(rank));
    std::unique_lock<std::mutex> lock(b.mu);
    if (!b.cv.wait_for(lock, wait, [&] { return !b.q.empty(); })) return std::nullopt;
    orchestrator::Message m = std::move(b.q.front());
    b.q.pop_front();
    return m;
  }

 private:
  struct Box {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<orchestrator::Message> q;
  };
  std::vector<std::unique_ptr<Box>> boxes_;
};

class LoopbackTransport final : public orchestrator::Transport {
 public:
  LoopbackTransport(LoopbackNetwork& net, int rank) : net_(net), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return net_.size(); }
  void send(int dest, orchestrator::Tag tag, std::string_view payload) override {
    net_.post(dest, orchestrator::Message{rank_, tag, std::string(payload)});
  }
  orchestrator::Message recv_any() override { return net_.take(rank_); }
  std::optional<orchestrator::Message> recv_for(std::chrono::microseconds wait) override {
    return net_.take_for(rank_, wait);
  }

 private:
  LoopbackNetwork& net_;
  int rank_;
};

}  // namespace ternbench::testing
