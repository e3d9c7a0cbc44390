// A throwaway PostgreSQL server for an integration test: initdb into the
// test's work directory, listening only on a Unix socket (no TCP port to
// collide on) in a short directory of its own under /tmp (a socket path
// holds at most 107 bytes: a deep build tree's would not do), trust
// authentication, stopped and removed on destruction.
// PostgreSQL refuses to run as root: under root the server runs as the
// `postgres` user (runuser). PostgreSQL is a required test peer
// (scripts/install-deps.sh installs it): tests fail, not skip, without it.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "itest_support.h"

namespace ztgate::itest {

// PostgreSQL text forms, for the test's own data and psql variables.
inline std::string sql_text(std::string_view s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("''") : std::string(1, ch);
  return out + "'";
}
inline std::string pg_array(const boost::json::array& items) {
  std::string out = "{";
  for (const auto& v : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char ch : v.as_string()) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

class PostgresServer {
 public:
  // Debian keeps initdb and pg_ctl in /usr/lib/postgresql/<version>/bin,
  // not on PATH: the newest version there, else whatever PATH has.
  static std::string program(const std::string& name) {
    auto found = run_process({"sh", "-c", "ls -d /usr/lib/postgresql/*/bin/" + name + " 2>/dev/null | sort -V | tail -1"});
    std::string path = found.output.substr(0, found.output.find('\n'));
    return path.empty() ? name : path;
  }
  static bool available() {
    return run_process({"sh", "-c", "command -v " + program("initdb") + " && command -v " + program("pg_ctl") +
                                        " && command -v psql"}).exit_code == 0;
  }

  explicit PostgresServer(const std::filesystem::path& dir) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    char socket_dir[] = "/tmp/ztgate-pg-XXXXXX";
    if (::mkdtemp(socket_dir) == nullptr) {
      log_ = "mkdtemp failed for the socket directory";
      return;
    }
    socket_dir_ = socket_dir;
    if (::geteuid() == 0) run_process({"chown", "-R", "postgres:postgres", dir_.string(), socket_dir_.string()});
    auto init = run_process(as_owner({program("initdb"), "-D", (dir_ / "data").string(), "-A", "trust", "-U", "postgres", "--no-sync"}),
                            std::chrono::seconds(120));
    log_ = init.output;
    if (init.exit_code != 0) return;
    auto start = run_process(as_owner({program("pg_ctl"), "-D", (dir_ / "data").string(), "-l", (dir_ / "server.log").string(), "-w",
                                       "-o", "-k " + socket_dir_.string() + " -p 5432 -c listen_addresses=''", "start"}),
                             std::chrono::seconds(60));
    log_ += start.output;
    started_ = start.exit_code == 0;
  }
  ~PostgresServer() {
    if (started_) run_process(as_owner({program("pg_ctl"), "-D", (dir_ / "data").string(), "-m", "immediate", "-w", "stop"}));
    std::error_code ignored;
    if (!socket_dir_.empty()) std::filesystem::remove_all(socket_dir_, ignored);
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  bool started() const { return started_; }
  const std::string& log() const { return log_; }

  // psql on a script (ON_ERROR_STOP, unaligned, tuples only), with psql
  // variables (`-v name=value`: the script reads them quoted as :'name').
  ProcessResult psql(const std::string& script, const std::vector<std::pair<std::string, std::string>>& vars = {}) const {
    write_file(dir_ / "script.sql", script);
    std::vector<std::string> argv{"psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socket_dir_.string(),
                                  "-p", "5432", "-U", "postgres", "-d", "postgres", "-f", (dir_ / "script.sql").string()};
    for (const auto& [k, v] : vars) argv.insert(argv.end(), {"-v", k + "=" + v});
    return run_process(argv, std::chrono::seconds(60));
  }

 private:
  static std::vector<std::string> as_owner(std::vector<std::string> argv) {
    if (::geteuid() == 0) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
    return argv;
  }

  std::filesystem::path dir_;
  std::filesystem::path socket_dir_;
  std::string log_;
  bool started_ = false;
};

}  // namespace ztgate::itest
