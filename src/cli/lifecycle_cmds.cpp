// create, run, start: the commands that bring a container to life.
#include "cli/commands.hpp"
#include "crunlite/runtime.hpp"

namespace crunlite::cli {
namespace {

void add_create_flags(CLI::App* cmd, runtime::CreateOptions& options) {
    cmd->add_option("-b,--bundle", options.bundle, "bundle directory, holding config.json (default: the current directory)")
        ->type_name(kDir);
    cmd->add_option("--pid-file", options.pid_file, "write the host pid of the container's process to this file")->type_name(kFile);
    cmd->add_option("--console-socket", options.console_socket,
                    "unix socket that receives the pty master of a container with process.terminal (SCM_RIGHTS)")
        ->type_name(kFile);
    cmd->add_option("--pidfd-socket", options.pidfd_socket,
                    "unix socket that receives a pidfd of the container's init process (SCM_RIGHTS)")
        ->type_name(kFile);
    cmd->add_flag("--no-pivot", options.no_pivot, "move the root instead of pivot_root (for a root on ramfs)");
    cmd->add_flag("--no-new-keyring", options.no_new_keyring, "keep the caller's session keyring instead of a new one");
    cmd->add_option("--preserve-fds", options.preserve_fds, "pass N more open fds (3 to 3+N-1) to the container's process")
        ->type_name("N");
}

}  // namespace

void add_create(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("create", "create a container, its process waiting for `start`");
    auto options = std::make_shared<runtime::CreateOptions>();
    auto id = std::make_shared<std::string>();
    add_create_flags(cmd, *options);
    cmd->add_option("id", *id, "ID of the new container (unique under --root)")->required();
    document(cmd, {.text = "create reads BUNDLE/config.json, sets up the container (namespaces, cgroups, mounts, the root "
                           "filesystem, devices, the createRuntime and createContainer hooks) and leaves its process "
                           "waiting, in the `created` state, for `start` to run the program of process.args. It returns "
                           "once the container is created; its process is not a child of the caller."});
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            options->systemd_cgroup = globals.systemd_cgroup;
            runtime::create(globals.root, *id, *options);
            return 0;
        };
    });
}

void add_run(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("run", "create and start a container, by default waiting for it");
    auto options = std::make_shared<runtime::CreateOptions>();
    auto id = std::make_shared<std::string>();
    auto detach = std::make_shared<bool>(false);
    auto keep = std::make_shared<bool>(false);
    auto no_subreaper = std::make_shared<bool>(false);
    add_create_flags(cmd, *options);
    cmd->add_flag("-d,--detach", *detach, "return once the container is started instead of waiting for it");
    cmd->add_flag("--keep", *keep, "do not delete the container after it exits (it stays `stopped` for `state`)");
    cmd->add_flag("--no-subreaper", *no_subreaper, "accepted for runc compatibility (crun-lite reaps its own child)");
    cmd->add_option("id", *id, "ID of the new container (unique under --root)")->required();
    document(cmd, {.text = "run is `create` then `start`. In the foreground it forwards the signals it receives to the "
                           "container, attaches the terminal when process.terminal is true, waits for the container's "
                           "process, deletes the container (unless --keep) and exits with the container's status. "
                           "Detached (-d) it returns once the process runs, and a terminal goes to --console-socket."});
    // The callback holds the flag's storage, which CLI11 writes during parsing, long after this returns.
    cmd->callback([=, flag_storage = no_subreaper, &globals, &action] {
        action = [=, &globals] {
            options->systemd_cgroup = globals.systemd_cgroup;
            return runtime::run(globals.root, *id, *options, *detach, *keep);
        };
    });
}

void add_start(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("start", "start the process of a created container");
    auto id = std::make_shared<std::string>();
    cmd->add_option("id", *id, "container ID")->required()->type_name(kContainer);
    document(cmd, {.text = "start runs the startContainer hooks and the program of process.args in a container that "
                           "`create` made, then the poststart hooks, and returns: it does not wait for the container."});
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            runtime::start(globals.root, *id);
            return 0;
        };
    });
}

}  // namespace crunlite::cli
