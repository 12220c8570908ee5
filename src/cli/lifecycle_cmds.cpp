// create, run, start: the commands that bring a container to life.
#include "commands.hpp"
#include "crunlite/runtime.hpp"

namespace crunlite::cli {
namespace {

void add_create_flags(CLI::App* cmd, runtime::CreateOptions& options) {
    cmd->add_option("-b,--bundle", options.bundle, "bundle directory (holding config.json)");
    cmd->add_option("--pid-file", options.pid_file, "write the container's pid to this file");
    cmd->add_option("--console-socket", options.console_socket, "unix socket that receives the pty master");
    cmd->add_flag("--no-pivot", options.no_pivot, "move the root instead of pivot_root (for a ramfs root)");
    cmd->add_flag("--no-new-keyring", options.no_new_keyring, "keep the caller's session keyring");
    cmd->add_option("--preserve-fds", options.preserve_fds, "pass N more fds (3..3+N-1) to the container");
}

}  // namespace

void add_create(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("create", "create a container, its process waiting for `start`");
    auto options = std::make_shared<runtime::CreateOptions>();
    auto id = std::make_shared<std::string>();
    add_create_flags(cmd, *options);
    cmd->add_option("id", *id, "container ID")->required();
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
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
    cmd->add_flag("-d,--detach", *detach, "return once the container is started");
    cmd->add_flag("--keep", *keep, "do not delete the container after it exits");
    cmd->add_flag("--no-subreaper", *no_subreaper, "accepted for runc compatibility (crun-lite reaps its own child)");
    cmd->add_option("id", *id, "container ID")->required();
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] { return runtime::run(globals.root, *id, *options, *detach, *keep); };
    });
}

void add_start(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("start", "start the process of a created container");
    auto id = std::make_shared<std::string>();
    cmd->add_option("id", *id, "container ID")->required();
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            runtime::start(globals.root, *id);
            return 0;
        };
    });
}

}  // namespace crunlite::cli
