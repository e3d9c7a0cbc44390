// What the retrieval itests share: an API key made by the real binary, a
// delegation token for the summarizer agent acting for alice, and a JSON
// call with its status.
#pragma once

#include <boost/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "child_process.h"
#include "raw_http.h"

namespace ztgate::itest {

// `ztgate keys create` for `principal`; the key, or "" (the output goes to `log`).
inline std::string create_key(const std::filesystem::path& data_dir, const std::string& name, const std::string& principal,
                              std::string& log) {
  auto key = run_process({ZTGATE_BINARY, "keys", "create", "--data-dir", data_dir.string(), "--name", name, "--principal",
                          principal});
  log += key.output;
  std::string out = "\n" + key.output;
  size_t at = out.find("\nztg_");
  if (key.exit_code != 0 || at == std::string::npos) return "";
  return out.substr(at + 1, out.find('\n', at + 1) - at - 1);
}

// A delegation token: the summarizer agent acting for alice with `scopes`
// (the tokens delegation_peer.mjs wrote into `dir`).
inline std::string summarizer_for_alice(const std::filesystem::path& dir, const std::vector<std::string>& scopes) {
  std::vector<std::string> argv{ZTGATE_BINARY, "token", "exchange", "--subject-token", "@" + (dir / "alice.jwt").string(),
                                "--actor-token", "@" + (dir / "summarizer.jwt").string(), "--json",
                                "--config", (dir / "ztgate.yaml").string()};
  for (const auto& s : scopes) argv.insert(argv.end(), {"--scope", s});
  auto r = run_process(argv);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.output, ec);
  if (ec || !v.is_object() || !v.as_object().contains("token")) return "";
  return std::string(v.at("token").as_string());
}

struct JsonAnswer {
  int status = 0;
  boost::json::object body;
};

// POST `body` to `path` with a bearer credential; the body parsed when it is a JSON object.
inline JsonAnswer call_json(int port, const std::string& path, const std::string& body, const std::string& auth) {
  std::string raw = http(port, post(path, body, auth));
  JsonAnswer a;
  if (raw.size() > 12) a.status = std::stoi(raw.substr(9, 3));
  size_t at = raw.find("\r\n\r\n");
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(at == std::string::npos ? "" : raw.substr(at + 4), ec);
  if (!ec && v.is_object()) a.body = v.as_object();
  return a;
}

}  // namespace ztgate::itest
