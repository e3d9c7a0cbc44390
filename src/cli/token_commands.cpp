// Placeholder until the token commands land.
#include "cli/commands.h"

namespace ztgate::cli {

void add_token_commands(CLI::App& /*app*/, int& /*exit_code*/) {}

}  // namespace ztgate::cli
