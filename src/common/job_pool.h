// A small fixed pool of worker threads with a bounded queue, for work that
// must not run on the server's threads (a call to an MCP tool server or an
// external retrieval service). submit() refuses when the queue is full: the
// caller answers 503 rather than piling up waiting work.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ztgate {

class JobPool {
 public:
  JobPool(size_t threads, size_t max_queued);
  ~JobPool();  // finishes the running jobs, drops the queued ones
  JobPool(const JobPool&) = delete;
  JobPool& operator=(const JobPool&) = delete;

  bool submit(std::function<void()> job);

 private:
  void worker();
  size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ztgate
