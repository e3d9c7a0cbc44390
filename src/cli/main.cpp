// ztgate: a zero-trust security gateway for AI systems.
#include <CLI/CLI.hpp>

#include "common/version.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "ztgate - a zero-trust security gateway for AI systems.\n"
      "It verifies every interaction of users and AI agents with models, tools,\n"
      "retrieval and the network against Cedar policies, and records each decision.\n"
      "\n"
      "Start with the policy tools: write Cedar policies, check them, and ask\n"
      "for decisions, e.g.\n"
      "  ztgate authorize --policies policies.cedar --entities entities.json \\\n"
      "      --principal 'User::\"alice\"' --action 'Action::\"invoke_model\"' \\\n"
      "      --resource 'Model::\"gpt-4o-mini\"'\n"};
  app.set_version_flag("--version", std::string("ztgate ") + ztgate::kVersion);
  app.require_subcommand(1);
  int exit_code = 0;
  ztgate::cli::add_cedar_commands(app, exit_code);
  ztgate::cli::add_token_commands(app, exit_code);
  ztgate::cli::add_keys_commands(app, exit_code);
  ztgate::cli::add_model_commands(app, exit_code);
  ztgate::cli::add_config_commands(app, exit_code);
  ztgate::cli::add_serve_commands(app, exit_code);
  ztgate::cli::add_demo_upstream_commands(app, exit_code);
  ztgate::cli::add_audit_commands(app, exit_code);
  ztgate::cli::add_tools_commands(app, exit_code);
  ztgate::cli::add_inspect_commands(app, exit_code);
  ztgate::cli::add_docs_commands(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
