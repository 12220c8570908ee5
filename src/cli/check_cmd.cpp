// `check`: a preflight of a bundle. Every config error with its JSON path, then what this host
// lacks to run it; exit status 0 only when the bundle would run.
#include <unistd.h>

#include <iostream>

#include "cli/commands.hpp"
#include "crunlite/check.hpp"

namespace crunlite::cli {

void add_check(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("check", "check a bundle against the runtime-spec and this host, reporting every problem");
    auto bundle = std::make_shared<std::string>(".");
    auto format = std::make_shared<std::string>("table");
    auto checkpoint = std::make_shared<bool>(false);
    cmd->add_option("-b,--bundle", *bundle, "bundle directory (holding config.json)")->type_name(kDir);
    cmd->add_option("-f,--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
    cmd->add_flag("--checkpoint", *checkpoint, "also say whether CRIU can checkpoint and restore the container here, and why not");
    document(cmd, {.text = "A preflight no other runtime offers. First config.json is checked against the runtime-spec, "
                           "and every error is reported with its JSON path at once, not only the first. Then the bundle "
                           "is checked against this host: the root filesystem and `process.args[0]` in it (PATH from "
                           "`process.env`, resolved inside the rootfs), namespace kinds and paths, the cgroup layout and "
                           "the controllers `linux.resources` needs, seccomp actions, architectures and syscall names, "
                           "capabilities, rlimits against the hard limits, user-namespace mappings, AppArmor/SELinux, "
                           "sysctls, hook programs and mount sources and options. Run rootless (as a user, or as uid 0 of a "
                           "user namespace), it says which cgroup is delegated to you and with which controllers, and "
                           "whether the container gets a cgroup there, runs in yours, or is refused. With "
                           "--systemd-cgroup: whether systemd (the user's own, when rootless) answers, the unit and "
                           "cgroup `.linux.cgroupsPath` names, and each unit property the unit will carry (as info "
                           "lines). With --checkpoint: whether `criu check` passes (the reason when not, as a warning) "
                           "and what of the container crun-lite cannot checkpoint or restore. Nothing is created.\n\n"
                           "Each finding has a severity, a JSON path, a message and a hint. `--format json` prints "
                           "{\"findings\": [{\"severity\", \"path\", \"message\", \"hint\"}], \"summary\": {...}}.",
                   .sections = {{"EXIT STATUS", "0 when the bundle would run here (warnings allowed), 1 when any error was found."}}});
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            bool rootless = globals.rootless == "true" || (globals.rootless == "auto" && ::geteuid() != 0);
            check::Report report = check::check_bundle(*bundle, rootless, globals.systemd_cgroup, *checkpoint);
            if (*format == "json") std::cout << report.to_json().dump(2) << "\n";
            else std::cout << report.to_table();
            return report.ok() ? 0 : 1;
        };
    });
}

}  // namespace crunlite::cli
