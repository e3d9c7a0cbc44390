// A background child process for integration tests (a node server, a peer):
// started with stdout+stderr on a pipe, waited on until it prints a line with
// a given prefix (e.g. "listening 40123"), and stopped (SIGTERM, then SIGKILL)
// when the object goes away. Test-only: errors throw std::runtime_error.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "itest_support.h"

namespace ztgate::itest {

class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv) { out_ = spawn_piped(argv, pid_); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { stop(); }

  // The rest of the first output line starting with `prefix` (e.g. the port
  // after "listening "). Throws with everything read so far on timeout or exit.
  std::string wait_for_line(const std::string& prefix,
                            std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (size_t start = 0, nl; (nl = output_.find('\n', start)) != std::string::npos;
           start = nl + 1) {
        std::string line = output_.substr(start, nl - start);
        if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        throw std::runtime_error("no '" + prefix + "' line; output: " + output_);
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      ssize_t n = read(out_, buf, sizeof buf);
      if (n <= 0)
        throw std::runtime_error("child exited before '" + prefix + "'; output: " + output_);
      output_.append(buf, static_cast<size_t>(n));
    }
  }

  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 50 && waitpid(pid_, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (waitpid(pid_, &status, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
      pid_ = -1;
    }
    if (out_ >= 0) close(out_);
    out_ = -1;
  }

  // SIGTERM, then wait up to `timeout` for the process to exit by itself.
  // Its exit code, or -1 when it had to be killed or died of a signal.
  int terminate_and_wait(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    pid_t done = 0;
    while ((done = waitpid(pid_, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (done == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      pid_ = -1;
      return -1;
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
};

}  // namespace ztgate::itest
