// `check`: a preflight of a bundle. Every config error with its JSON path, then what this host
// lacks to run it; exit status 0 only when the bundle would run.
#include <unistd.h>

#include <iostream>

#include "commands.hpp"
#include "crunlite/check.hpp"

namespace crunlite::cli {

void add_check(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("check", "check a bundle against the runtime-spec and this host, reporting every problem");
    auto bundle = std::make_shared<std::string>(".");
    auto format = std::make_shared<std::string>("table");
    cmd->add_option("-b,--bundle", *bundle, "bundle directory (holding config.json)");
    cmd->add_option("-f,--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            bool rootless = globals.rootless == "true" || (globals.rootless == "auto" && ::geteuid() != 0);
            check::Report report = check::check_bundle(*bundle, rootless);
            if (*format == "json") std::cout << report.to_json().dump(2) << "\n";
            else std::cout << report.to_table();
            return report.ok() ? 0 : 1;
        };
    });
}

}  // namespace crunlite::cli
