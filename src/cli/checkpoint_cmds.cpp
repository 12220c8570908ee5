// checkpoint, restore: a container dumped by CRIU and made again from the image (runc's flags).
#include "cli/commands.hpp"
#include "runtime/criu_options.hpp"

namespace crunlite::cli {
namespace {

void add_criu_flags(CLI::App* cmd, runtime::CriuOptions& options) {
    cmd->add_option("--image-path", options.image_path, "directory of the checkpoint image (default: ./checkpoint)")->type_name(kDir);
    cmd->add_option("--work-path", options.work_path, "directory of CRIU's logs and work files (default: the image path)")->type_name(kDir);
    cmd->add_flag("--tcp-established", options.tcp_established, "allow open TCP connections");
    cmd->add_flag("--ext-unix-sk", options.ext_unix_sk, "allow external unix sockets");
    cmd->add_flag("--shell-job", options.shell_job, "allow a process started from a shell (its session and terminal outside)");
    cmd->add_flag("--file-locks", options.file_locks, "handle file locks");
    cmd->add_option("--manage-cgroups-mode", options.manage_cgroups_mode, "how CRIU handles cgroups: soft, full, strict or ignore")
        ->check(CLI::IsMember({"soft", "full", "strict", "ignore"}))
        ->type_name("MODE");
    cmd->add_option("--empty-ns", options.empty_ns, "a namespace CRIU leaves empty instead of dumping or restoring it (network)")
        ->type_name("NAMESPACE")
        ->allow_extra_args(false);
    cmd->add_flag("--auto-dedup", options.auto_dedup, "free the pages of an earlier image that this one carries");
    cmd->add_flag("--lazy-pages", options.lazy_pages, "post-copy: the memory is not in the image but served by the dump (--page-server) to a restore's `criu lazy-pages` daemon, on demand");
}

}  // namespace

void add_checkpoint(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("checkpoint", "checkpoint a running container with CRIU");
    auto options = std::make_shared<runtime::CheckpointOptions>();
    auto id = std::make_shared<std::string>();
    add_criu_flags(cmd, *options);
    cmd->add_option("--parent-path", options->parent_path, "an earlier --pre-dump's image, relative to the image path")->type_name(kDir);
    cmd->add_flag("--leave-running", options->leave_running, "keep the container running after the checkpoint");
    cmd->add_flag("--pre-dump", options->pre_dump, "dump only the memory, for a later checkpoint with --parent-path");
    cmd->add_option("--page-server", options->page_server,
                    "ADDRESS:PORT: with --lazy-pages where CRIU serves the pages, else a `criu page-server` receiving them")
        ->type_name("ADDRESS:PORT");
    cmd->add_option("--status-fd", options->status_fd, "with --lazy-pages: a NUL byte is written here once the pages are served")->type_name("FD");
    cmd->add_option("id", *id, "container ID")->required()->type_name(kContainer);
    document(cmd, {.text = "checkpoint dumps the processes of a running or paused container with CRIU (`criu dump`; "
                           "$CRUN_LITE_CRIU, else `criu` from PATH) into the image directory, then deletes the container "
                           "as runc does, unless --leave-running. The config's bind mounts and masked paths are external "
                           "mounts of the image; a network namespace joined by path is an external namespace, one the "
                           "container made is not dumped. A failure is one line, the decisive error of CRIU's log, with "
                           "the log's path; the container is left as it was. docs/checkpoint.md has the details."});
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            runtime::checkpoint(globals.root, *id, *options);
            return 0;
        };
    });
}

void add_restore(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("restore", "restore a container from a CRIU checkpoint");
    auto options = std::make_shared<runtime::RestoreOptions>();
    auto id = std::make_shared<std::string>();
    add_criu_flags(cmd, *options);
    cmd->add_option("-b,--bundle", options->bundle, "bundle directory, holding config.json (default: the current directory)")->type_name(kDir);
    cmd->add_flag("-d,--detach", options->detach, "return once the container runs instead of waiting for it");
    cmd->add_option("--pid-file", options->pid_file, "write the host pid of the restored process to this file")->type_name(kFile);
    cmd->add_option("--console-socket", options->console_socket, "refused: a container with a terminal is not restored")->type_name(kFile);
    cmd->add_flag("--no-subreaper", options->no_subreaper, "accepted for runc compatibility (the restored process is crun-lite's child)");
    cmd->add_flag("--no-pivot", options->no_pivot, "accepted for runc compatibility (CRIU enters the root itself)");
    cmd->add_option("id", *id, "ID of the restored container (unique under --root)")->required();
    document(cmd, {.text = "restore makes the container's cgroups (the config's limits and device rules) and has CRIU "
                           "(`criu restore`) restore the image's processes into them, with their namespaces and mounts. "
                           "Where the checkpointed process had pipes as stdio, restore's own stdin, stdout and stderr take "
                           "their place (as a shim hands them to runc). The config's prestart and createRuntime hooks run "
                           "as runc runs them, once CRIU has made the restored tree's namespaces and before it runs, "
                           "with the restored init's pid; poststop hooks run at delete. In the foreground it waits for the container as "
                           "`run` does; detached (-d) it returns once the container runs. A failure is one line with CRIU's "
                           "log path, and leaves nothing behind."});
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] { return runtime::restore(globals.root, *id, *options, globals.systemd_cgroup); };
    });
}

}  // namespace crunlite::cli
