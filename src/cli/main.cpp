// crun-lite's entry point: global flags, one subcommand, and the one place where errors
// are printed (as text, or as JSON log lines with --log-format json).
#include <seccomp.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "startup/sealed_exe.hpp"
#include "sys/user_namespace.hpp"
#include "cli/commands.hpp"
#include "cli/options_before_id.hpp"
#include "cli/single_dash_flags.hpp"
#include "crunlite/error.hpp"
#include "crunlite/log.hpp"
#include "crunlite/runtime.hpp"

#ifndef CRUNLITE_VERSION
#define CRUNLITE_VERSION "0.0.0"
#endif
#if __has_include("crunlite_commit.h")
#include "crunlite_commit.h"  // generated at build time (cmake/Commit.cmake)
#endif
#ifndef CRUNLITE_COMMIT
#define CRUNLITE_COMMIT "unknown"
#endif

namespace {

// Where state goes when --root is not given: root's, or an unprivileged user's own. uid 0 of a
// user namespace (rootless podman) is that user too when XDG_RUNTIME_DIR is set and USER does not
// say root, as runc decides it.
std::string default_root() {
    const char* runtime_dir = ::getenv("XDG_RUNTIME_DIR");
    bool has_runtime_dir = runtime_dir && *runtime_dir;
    if (::geteuid() == 0) {
        const char* user = ::getenv("USER");
        bool userns_user = has_runtime_dir && crunlite::sys::in_user_namespace() && !(user && std::string(user) == "root");
        if (!userns_user) return crunlite::runtime::kDefaultRoot;
    }
    return has_runtime_dir ? std::string(runtime_dir) + "/crun-lite" : "/tmp/crun-lite-" + std::to_string(::geteuid());
}

// The same lines as crun's --version: version, commit, state directory, spec, compiled-in features.
std::string version_text() {
    const scmp_version* seccomp = seccomp_version();
    return std::string("crun-lite version ") + CRUNLITE_VERSION + "\ncommit: " + CRUNLITE_COMMIT + "\nrundir: " + default_root() +
           "\nspec: " + crunlite::runtime::kSpecVersion + "\nlibseccomp: " + std::to_string(seccomp->major) + "." +
           std::to_string(seccomp->minor) + "." + std::to_string(seccomp->micro) + "\n" + crunlite::runtime::compiled_features();
}

}  // namespace

int main(int argc, char** argv) {
    using namespace crunlite;
    CLI::App app{"crun-lite: a fast, runc-compatible OCI container runtime", "crun-lite"};
    cli::use_doc_formatter(app);
    app.set_help_flag("-h,--help", "print this help and exit");
    app.require_subcommand(1, 1);
    cli::document(&app, {
        .args = "COMMAND [ARG...]",
        .text = "crun-lite creates and runs containers from OCI bundles: a directory holding a `config.json`, the "
                "runtime-spec configuration, and usually the root filesystem it names. It takes runc's command line, so "
                "callers written for runc (containerd's shim, docker, podman's conmon) can use it as they are.\n\n"
                "A container's life: `create` sets up its namespaces, mounts and cgroups and leaves its process waiting; "
                "`start` lets the process run; `kill` signals it; `delete` removes what is left once it has stopped. `run` "
                "does create and start in one step and, unless detached, waits for the container and exits with its "
                "status.\n\n"
                "Global options go before the command. Errors are one line on standard error (or a JSON line in the "
                "--log file with --log-format json) naming what failed and, when the bundle is at fault, the JSON path of "
                "the config field. In the JSON line, an error's parts are also keys of their own: `json_path`, `errno` "
                "(the number) and `hint`, each when the error has it.\n\n"
                "    mkdir -p bundle/rootfs/bin && cp /bin/busybox bundle/rootfs/bin/ && ln -s busybox bundle/rootfs/bin/sh\n"
                "    cd bundle && crun-lite spec    # a default config.json: edit process.args etc.\n"
                "    crun-lite run demo",
        .sections = {
            {"EXIT STATUS",
             "0 when the command succeeded, 1 when it failed (the error is on standard error).\n\n"
             "`run`, unless detached, exits with the container's status: its process's exit code, or 128 plus the number "
             "of the signal that killed it. `exec` does the same for its process and exits with 255 when the process could "
             "not be started. `ps` exits with the status of ps(1).\n\n"
             "A command line crun-lite cannot parse exits with a status from 100 up (CLI11's codes: 106 for a missing "
             "argument, 109 for one too many, 105 for a value it does not accept)."},
            {"ENVIRONMENT",
             "`XDG_RUNTIME_DIR`: an unprivileged user's state goes to `$XDG_RUNTIME_DIR/crun-lite` unless --root says "
             "otherwise (`/tmp/crun-lite-UID` without it). So does that of uid 0 in a user namespace (rootless podman's) "
             "when `XDG_RUNTIME_DIR` is set and `USER` is not root, as with runc.\n\n"
             "`USER`: see `XDG_RUNTIME_DIR`."},
            {"FILES",
             "- `/run/crun-lite`: the state root (--root) for root's containers: one file per container, named by its ID, "
             "holding its recorded state and serving as its lock, and, while it is created but not started, the fifo "
             "`start` opens (`:exec.fifo.*`).\n"
             "- `BUNDLE/config.json`: a container's configuration, read once by `create` or `run`."},
        }});
    cli::Globals globals;
    globals.root = runtime::kDefaultRoot;
    auto* root_option = app.add_option("--root", globals.root,
                                       "directory for container state (default /run/crun-lite; $XDG_RUNTIME_DIR/crun-lite for an unprivileged user)")
                            ->type_name(cli::kDir);
    app.add_option("--log", globals.log_file, "write errors and log messages to this file instead of standard error")
        ->type_name(cli::kFile);
    app.add_option("--log-format", globals.log_format, "log format: text, or json (one {\"level\",\"msg\",\"time\"} object a line, as containerd reads)")
        ->check(CLI::IsMember({"text", "json"}))->capture_default_str();
    app.add_flag("--debug", globals.debug, "log debug messages, with the timing of each phase of a container's start");
    app.add_flag("--systemd-cgroup", globals.systemd_cgroup,
                 "make each container's cgroup a systemd unit (a transient scope; .linux.cgroupsPath is \"slice:prefix:name\"); "
                 "commands on an existing container follow what create chose, with or without it");
    app.add_option("--rootless", globals.rootless,
                   "accepted for runc compatibility: crun-lite runs rootless exactly when its effective user is not root")
        ->check(CLI::IsMember({"true", "false", "auto"}));
    app.set_version_flag("-v,--version", version_text, "print the version, commit, spec version and compiled-in features");

    cli::Action action;
    cli::add_commands(app, globals, action, argc, argv);

    // Writes to a hook or log that went away must fail with EPIPE, not kill the runtime.
    ::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string> rewritten_words;
    cli::accept_single_dash_long_options(app, argc, argv, rewritten_words);
    try {
        app.parse(argc, argv);
        const CLI::App* command = app.get_subcommands().at(0);
        if (command->get_prefix_command()) cli::reject_unknown_options_before_id(app, *command, argc, argv);
    } catch (const CLI::ParseError& e) {
        // A caller that reads the runtime's errors from --log (containerd's shim) finds this one
        // there too; help and version requests are not errors.
        if (!globals.log_file.empty() && e.get_exit_code() != 0) {
            try {
                log::configure(globals.log_file, globals.log_format == "json" ? log::Format::json : log::Format::text, false);
                log::error(e.what());  // on stderr as well, as every error
                std::cerr << "Run with --help for more information.\n";
                return e.get_exit_code();
            } catch (const std::exception&) {
            }
        }
        return app.exit(e);
    }
    try {
        log::configure(globals.log_file, globals.log_format == "json" ? log::Format::json : log::Format::text, globals.debug);
        // Commands that put a process of ours into a container run from a copy the container
        // cannot write (CVE-2019-5736); the entry point or a constructor normally did this
        // already, before parsing: this reports why it could not.
        const std::string& command = app.get_subcommands().at(0)->get_name();
        if (startup::is_sealed_command(command.c_str())) startup::ensure_sealed_executable(argv);
        if (root_option->count() == 0) globals.root = default_root();
        if (!globals.root.empty() && globals.root[0] != '/') {
            char cwd[4096];
            if (::getcwd(cwd, sizeof cwd)) globals.root = std::string(cwd) + "/" + globals.root;
        }
        return action();
    } catch (const Error& e) {
        log::error(e);
        return 1;
    } catch (const std::exception& e) {
        log::error(e.what());
        return 1;
    }
}
