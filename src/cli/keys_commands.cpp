// Placeholder until the keys commands land.
#include "cli/commands.h"

namespace ztgate::cli {

void add_keys_commands(CLI::App& /*app*/, int& /*exit_code*/) {}

}  // namespace ztgate::cli
