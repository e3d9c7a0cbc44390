// What the subcommand groups share: exit codes, the clock, error output and
// reading an argument that may be a file or stdin.
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "common/result.h"

namespace ztgate::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;    // usage, configuration, I/O
inline constexpr int kExitRefused = 2;  // a verification or policy said no

inline int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2026-11-24T03:00:00Z"
inline std::string iso_time(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Prints the error (as {"error":{"code","message"}} with --json, else a line
// on stderr) and returns the exit code to use.
inline int fail(const Error& e, bool as_json, int exit_code = kExitError) {
  if (as_json) {
    boost::json::object err{{"code", e.code}, {"message", e.message}};
    std::cout << boost::json::serialize(boost::json::object{{"error", std::move(err)}}) << "\n";
  } else {
    std::cerr << "error: " << e.code << ": " << e.message << "\n";
  }
  return exit_code;
}

// An argument that is the value itself, @path (read the file) or - (stdin),
// at most max_bytes, trailing newlines and spaces removed.
inline Result<std::string> read_arg(const std::string& arg, size_t max_bytes) {
  std::string text;
  auto read_all = [&](std::istream& in) {
    text.resize(max_bytes + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
  };
  if (arg == "-") {
    read_all(std::cin);
  } else if (!arg.empty() && arg[0] == '@') {
    std::ifstream in(arg.substr(1), std::ios::binary);
    if (!in) return make_error("io_error", "cannot read " + arg.substr(1));
    read_all(in);
  } else {
    text = arg;
  }
  if (text.size() > max_bytes) return make_error("io_error", "the input is larger than " + std::to_string(max_bytes) + " bytes");
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (text.empty()) return make_error("io_error", "the input is empty");
  return text;
}

}  // namespace ztgate::cli
