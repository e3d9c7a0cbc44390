// Placeholder until the model commands land.
#include "cli/commands.h"

namespace ztgate::cli {

void add_model_commands(CLI::App& /*app*/, int& /*exit_code*/) {}

}  // namespace ztgate::cli
