// features: what this build supports, for engines to read before they use a field.
#include <iostream>

#include "cli/commands.hpp"
#include "crunlite/runtime.hpp"

namespace crunlite::cli {

void add_features(CLI::App& app, Globals&, Action& action) {
    auto* cmd = app.add_subcommand("features", "print the runtime-spec features this build supports, as JSON");
    document(cmd, {.text = "The runtime-spec features document (ociVersionMin/Max, hooks, mount options, namespaces, "
                           "capabilities, cgroup, seccomp...) that engines read before using a field. Fields crun-lite "
                           "does not implement are refused at create, never silently ignored."});
    cmd->callback([&action] {
        action = [] {
            std::cout << runtime::features().dump(4) << "\n";
            return 0;
        };
    });
}

}  // namespace crunlite::cli
