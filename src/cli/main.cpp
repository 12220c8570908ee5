// crun-lite's entry point: global flags, one subcommand, and the one place where errors
// are printed (as text, or as JSON log lines with --log-format json).
#include <seccomp.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "../linux/sealed_exe.hpp"
#include "commands.hpp"
#include "crunlite/error.hpp"
#include "crunlite/log.hpp"
#include "crunlite/runtime.hpp"

#ifndef CRUNLITE_VERSION
#define CRUNLITE_VERSION "0.0.0"
#endif
#ifndef CRUNLITE_COMMIT
#define CRUNLITE_COMMIT "unknown"
#endif

int main(int argc, char** argv) {
    using namespace crunlite;
    CLI::App app{"crun-lite: a fast, runc-compatible OCI container runtime", "crun-lite"};
    app.require_subcommand(1, 1);
    cli::Globals globals;
    globals.root = runtime::kDefaultRoot;
    auto* root_option = app.add_option("--root", globals.root,
                                       "directory for container state (default /run/crun-lite; $XDG_RUNTIME_DIR/crun-lite for an unprivileged user)");
    app.add_option("--log", globals.log_file, "log file (default: stderr)");
    app.add_option("--log-format", globals.log_format, "log format: text or json")
        ->check(CLI::IsMember({"text", "json"}))->capture_default_str();
    app.add_flag("--debug", globals.debug, "log debug messages");
    app.add_flag("--systemd-cgroup", globals.systemd_cgroup, "use systemd to manage cgroups (not supported yet)");
    app.add_option("--rootless", globals.rootless, "true, false or auto")->check(CLI::IsMember({"true", "false", "auto"}));
    app.set_version_flag("-v,--version",
                         std::string("crun-lite version ") + CRUNLITE_VERSION + "\ncommit: " + CRUNLITE_COMMIT +
                             "\nspec: " + runtime::kSpecVersion + "\nlibseccomp: " + std::to_string(seccomp_version()->major) +
                             "." + std::to_string(seccomp_version()->minor) + "." + std::to_string(seccomp_version()->micro));

    cli::Action action;
    cli::add_spec(app, globals, action);
    cli::add_create(app, globals, action);
    cli::add_run(app, globals, action);
    cli::add_start(app, globals, action);
    cli::add_state(app, globals, action);
    cli::add_kill(app, globals, action);
    cli::add_delete(app, globals, action);
    cli::add_list(app, globals, action);
    cli::add_exec(app, globals, action);
    cli::add_pause(app, globals, action);
    cli::add_ps(app, globals, action);
    cli::add_features(app, globals, action);
    cli::add_update(app, globals, action);
    cli::add_events(app, globals, action);

    // Writes to a hook or log that went away must fail with EPIPE, not kill the runtime.
    ::signal(SIGPIPE, SIG_IGN);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        log::configure(globals.log_file, globals.log_format == "json" ? log::Format::json : log::Format::text, globals.debug);
        // Commands that put a process of ours into a container run from a copy the container
        // cannot write (CVE-2019-5736).
        if (app.got_subcommand("create") || app.got_subcommand("run") || app.got_subcommand("exec"))
            linux_setup::ensure_sealed_executable(argv);
        if (root_option->count() == 0 && ::geteuid() != 0) {
            const char* runtime_dir = ::getenv("XDG_RUNTIME_DIR");
            globals.root = runtime_dir && *runtime_dir ? std::string(runtime_dir) + "/crun-lite"
                                                       : "/tmp/crun-lite-" + std::to_string(::geteuid());
        }
        if (!globals.root.empty() && globals.root[0] != '/') {
            char cwd[4096];
            if (::getcwd(cwd, sizeof cwd)) globals.root = std::string(cwd) + "/" + globals.root;
        }
        if (globals.systemd_cgroup)
            throw Error(::access("/run/systemd/system", F_OK) == 0
                            ? "--systemd-cgroup: the systemd cgroup driver is not supported by this version of crun-lite; use cgroupfs paths"
                            : "--systemd-cgroup: systemd is not running on this host (/run/systemd/system is missing), and crun-lite "
                              "does not implement the systemd cgroup driver; use cgroupfs paths");
        return action();
    } catch (const std::exception& e) {
        log::error(e.what());
        return 1;
    }
}
