// The ztgate subcommands. Each registers itself on the CLI11 app and runs
// when selected; the exit code is the command's result.
#pragma once

#include <CLI/CLI.hpp>

namespace ztgate::cli {

// `ztgate authorize`, `validate`, `check-parse`, `format`: the Cedar tools.
void add_cedar_commands(CLI::App& app, int& exit_code);

}  // namespace ztgate::cli
