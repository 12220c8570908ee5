// exec and ps take a command line of their own after the container ID (CLI11's prefix_command).
// CLI11 then lets an option it does not know through to that command line and takes the next
// word as the ID: `exec --cgroup sub ID sh` would run `ID sh` in a container named "sub". runc
// refuses an unknown option there; so does this check, run after parsing.
#pragma once
#include <CLI/CLI.hpp>

namespace crunlite::cli {

// Throws CLI::ExtrasError naming the first option of `command` (a parsed subcommand of `app`)
// that it does not know and that comes before its first positional argument in argv.
void reject_unknown_options_before_id(const CLI::App& app, const CLI::App& command, int argc, char** argv);

}  // namespace crunlite::cli
