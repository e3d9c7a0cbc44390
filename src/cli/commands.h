// The ztgate subcommands. Each group registers itself on the CLI11 app and
// runs when selected; the exit code is the command's result.
#pragma once

#include <CLI/CLI.hpp>

namespace ztgate::cli {

// `ztgate authorize`, `validate`, `check-parse`, `format`: the Cedar tools.
void add_cedar_commands(CLI::App& app, int& exit_code);

// `ztgate token exchange|inspect|verify`, `grants ...`, `revoke ...`:
// delegation tokens for agents (token_commands.cpp).
void add_token_commands(CLI::App& app, int& exit_code);

// `ztgate keys create|list|revoke`: API keys for services (keys_commands.cpp).
void add_keys_commands(CLI::App& app, int& exit_code);

// `ztgate model manifest|sign|verify`: model weight integrity (model_commands.cpp).
void add_model_commands(CLI::App& app, int& exit_code);

// `ztgate config check`: validate ztgate.yaml and what it names (config_commands.cpp).
void add_config_commands(CLI::App& app, int& exit_code);

// `ztgate serve`: the gateway's HTTP server (serve_commands.cpp).
void add_serve_commands(CLI::App& app, int& exit_code);

// `ztgate demo-upstream`: a tiny OpenAI-compatible server for the quickstart
// (demo_upstream_commands.cpp).
void add_demo_upstream_commands(CLI::App& app, int& exit_code);

void add_audit_commands(CLI::App& app, int& exit_code);

// `ztgate tools pending|approve|reject`: MCP tool pinning, changed tool
// definitions reviewed and decided by an admin (tools_commands.cpp).
void add_tools_commands(CLI::App& app, int& exit_code);

// `ztgate inspect train|eval`: the injection classifier (inspect_commands.cpp).
void add_inspect_commands(CLI::App& app, int& exit_code);

// `ztgate docs ingest`: documents for the retrieval proxy (docs_commands.cpp).
void add_docs_commands(CLI::App& app, int& exit_code);

}  // namespace ztgate::cli
