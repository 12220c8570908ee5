#include "cli/commands.hpp"
#include "crunlite/log.hpp"
#include "crunlite/runtime.hpp"

namespace crunlite::cli {

void add_exec(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("exec", "run a new process inside a running container");
    auto o = std::make_shared<runtime::ExecOptions>();
    auto id = std::make_shared<std::string>();
    cmd->add_option("-p,--process", o->process_file, "runtime-spec process JSON file (the other process flags are then ignored)")
        ->type_name(kFile);
    cmd->add_option("--cwd", o->cwd, "working directory in the container (default: process.cwd of the container)")->type_name("PATH");
    cmd->add_option("-e,--env", o->env, "set an environment variable")->allow_extra_args(false)->type_name("KEY=VALUE");
    cmd->add_flag("-t,--tty", o->tty, "allocate a pseudo-terminal");
    cmd->add_option("-u,--user", o->user, "user and group to run as, numeric (default: the container's process.user)")
        ->type_name("UID[:GID]");
    cmd->add_option("-g,--additional-gids", o->additional_gids, "an additional group ID")->allow_extra_args(false)->type_name("GID");
    cmd->add_option("-c,--cap", o->capabilities, "add a capability to the bounding, effective and permitted sets")
        ->allow_extra_args(false)
        ->type_name("CAP_NAME");
    cmd->add_flag("--no-new-privs", o->no_new_privs, "set no_new_privs for the process");
    cmd->add_flag("-d,--detach", o->detach, "return once the process has started instead of waiting for it");
    cmd->add_option("--pid-file", o->pid_file, "write the host pid of the process to this file")->type_name(kFile);
    cmd->add_option("--console-socket", o->console_socket, "unix socket that receives the pty master with --tty --detach")
        ->type_name(kFile);
    cmd->add_option("--pidfd-socket", o->pidfd_socket, "unix socket that receives a pidfd of the new process (SCM_RIGHTS)")
        ->type_name(kFile);
    cmd->add_option("--cgroup", o->sub_cgroups,
                    "run the process in an existing sub-cgroup of the container's: PATH, or CONTROLLER[,CONTROLLER...]:PATH "
                    "for cgroup v1 hierarchies")
        ->allow_extra_args(false)
        ->type_name("[CONTROLLER:]PATH");
    cmd->add_option("--preserve-fds", o->preserve_fds, "pass N more open fds (3 to 3+N-1) to the process")->type_name("N");
    cmd->add_flag("--ignore-paused", o->ignore_paused, "exec even if the container is paused");
    cmd->add_option("--apparmor", o->apparmor_profile, "AppArmor profile for the process");
    cmd->add_option("--process-label", o->process_label, "SELinux label for the process");
    cmd->add_option("id", *id, "container ID")->required()->type_name(kContainer);
    // Everything after the ID is the command, its own flags included (`exec ID sh -c ...`).
    cmd->prefix_command();
    document(cmd, {.args = "ID COMMAND [ARG...]",
                   .text = "exec joins the namespaces and cgroups of a running container and runs COMMAND with the "
                           "container's process settings (user, capabilities, rlimits, seccomp, AppArmor and SELinux "
                           "labels), changed by the options. Everything after ID is the command and its own arguments. "
                           "exec waits for the process and exits with its status, unless --detach."});
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
