// Small helpers shared by the integration tests: run a child process and
// capture its output, read and write files, make a fresh scratch directory.
// Paths come from the compile definitions set in tests/integration/CMakeLists.txt
// (ZTGATE_SOURCE_DIR, ZTGATE_BINARY, ZTGATE_NODE, ZTGATE_ITEST_NODE_DIR,
// ZTGATE_ITEST_WORK_DIR). Test-only: errors throw std::runtime_error.
#pragma once

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace ztgate::itest {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed (timeout) or ended by a signal
  std::string output;  // stdout and stderr, interleaved
  bool timed_out = false;
};

// Starts argv[0] (looked up in PATH when it has no '/') with stdout and
// stderr on one pipe; returns the pipe's read end and sets `pid`.
inline int spawn_piped(const std::vector<std::string>& argv, pid_t& pid) {
  if (argv.empty()) throw std::runtime_error("spawn: empty argv");
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("spawn: pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error("spawn: cannot start " + argv[0]);
  }
  return fds[0];
}

// Runs argv and waits at most `timeout`; a child still running then is killed.
inline ProcessResult run_process(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  pid_t pid = 0;
  int out = spawn_piped(argv, pid);
  ProcessResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{out, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = read(out, buf, sizeof buf);
    if (n <= 0) break;
    result.output.append(buf, static_cast<size_t>(n));
  }
  close(out);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!result.timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !(out << text)) throw std::runtime_error("cannot write " + path.string());
}

// ZTGATE_ITEST_WORK_DIR/<name>-<pid>, emptied and created. The pid keeps
// test processes apart: ctest -j runs each test of a suite as its own
// process, each with its own SetUpTestSuite.
inline std::filesystem::path fresh_work_dir(const std::string& name) {
  std::filesystem::path dir =
      std::filesystem::path(ZTGATE_ITEST_WORK_DIR) / (name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// The node binary CMake found, or "node" from PATH when it found none.
inline std::string node_executable() {
  std::string node = ZTGATE_NODE;
  return node.empty() ? "node" : node;
}

}  // namespace ztgate::itest
