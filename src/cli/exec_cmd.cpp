#include "commands.hpp"
#include "crunlite/log.hpp"
#include "crunlite/runtime.hpp"

namespace crunlite::cli {

void add_exec(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("exec", "run a new process inside a running container");
    auto o = std::make_shared<runtime::ExecOptions>();
    auto id = std::make_shared<std::string>();
    cmd->add_option("-p,--process", o->process_file, "runtime-spec process JSON (overrides the other flags)");
    cmd->add_option("--cwd", o->cwd, "working directory in the container");
    cmd->add_option("-e,--env", o->env, "set an environment variable KEY=VALUE")->allow_extra_args(false);
    cmd->add_flag("-t,--tty", o->tty, "allocate a pseudo-terminal");
    cmd->add_option("-u,--user", o->user, "UID[:GID]");
    cmd->add_option("-g,--additional-gids", o->additional_gids, "extra group IDs")->allow_extra_args(false);
    cmd->add_option("-c,--cap", o->capabilities, "add a capability (bounding, effective, permitted)")->allow_extra_args(false);
    cmd->add_flag("--no-new-privs", o->no_new_privs, "set no_new_privs");
    cmd->add_flag("-d,--detach", o->detach, "return once the process has started");
    cmd->add_option("--pid-file", o->pid_file, "write the process's pid to this file");
    cmd->add_option("--console-socket", o->console_socket, "unix socket that receives the pty master");
    cmd->add_option("--preserve-fds", o->preserve_fds, "pass N more fds (3..3+N-1) to the process");
    cmd->add_flag("--ignore-paused", o->ignore_paused, "exec even if the container is paused");
    cmd->add_option("--apparmor", o->apparmor_profile, "AppArmor profile for the process");
    cmd->add_option("--process-label", o->process_label, "SELinux label for the process");
    cmd->add_option("id", *id, "container ID")->required();
    // Everything after the ID is the command, its own flags included (`exec ID sh -c ...`).
    cmd->prefix_command();
    cmd->footer("Usage: crun-lite exec [OPTIONS] ID COMMAND [ARG...]");
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            try {
                auto options = *o;
                auto rest = cmd->remaining();
                if (!rest.empty() && rest.front() == "--") rest.erase(rest.begin());
                options.args.insert(options.args.end(), rest.begin(), rest.end());
                return runtime::exec(globals.root, *id, options);
            } catch (const std::exception& e) {
                log::error(e.what());
                return 255;  // runc's exit status when exec itself fails
            }
        };
    });
}

}  // namespace crunlite::cli
