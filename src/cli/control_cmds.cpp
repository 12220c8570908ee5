// state, kill, delete, list: the commands that look at or end containers.
#include <iostream>

#include "cli/commands.hpp"
#include "crunlite/runtime.hpp"

namespace crunlite::cli {

void add_state(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("state", "print the state of a container as JSON");
    auto id = std::make_shared<std::string>();
    cmd->add_option("id", *id, "container ID")->required()->type_name(kContainer);
    document(cmd, {.text = "The runtime-spec state with runc's fields: ociVersion, id, pid, status (`creating`, "
                           "`created`, `running`, `paused` or `stopped`, read from the live process), bundle, rootfs, "
                           "created, owner and annotations."});
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            std::cout << runtime::state(globals.root, *id).dump(2);  // runc prints no trailing newline
            return 0;
        };
    });
}

void add_kill(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("kill", "send a signal (default SIGTERM) to a container's init");
    auto id = std::make_shared<std::string>();
    auto signal = std::make_shared<std::string>("SIGTERM");
    auto all = std::make_shared<bool>(false);
    cmd->add_flag("-a,--all", *all, "signal every process of the container, not only its init");
    cmd->add_option("id", *id, "container ID")->required()->type_name(kContainer);
    cmd->add_option("signal", *signal, "signal name, with or without SIG (KILL, SIGKILL), or number (default SIGTERM)")
        ->type_name("SIGNAL");
    document(cmd, {.text = "kill signals a created, running or paused container through a pidfd, so a recycled pid is "
                           "never hit. A signal to a container's init that has no handler for it is ignored inside its "
                           "pid namespace, except SIGKILL and SIGSTOP."});
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            runtime::kill(globals.root, *id, runtime::parse_signal(*signal), *all);
            return 0;
        };
    });
}

void add_delete(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("delete", "delete a stopped container and all it holds");
    auto id = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    cmd->add_flag("-f,--force", *force, "SIGKILL the container first if it is still running or paused");
    cmd->add_option("id", *id, "container ID")->required()->type_name(kContainer);
    document(cmd, {.text = "delete removes a stopped or created container (with --force also a running or paused one, "
                           "killed first): the processes left in its cgroups, its cgroups and its state file, then "
                           "runs the poststop hooks (a failing one is a warning). With --force, a container that does not "
                           "exist is not an error."});
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            runtime::remove(globals.root, *id, *force);
            return 0;
        };
    });
}

void add_list(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("list", "list the containers under --root");
    auto format = std::make_shared<std::string>("table");
    auto quiet = std::make_shared<bool>(false);
    cmd->add_option("-f,--format", *format, "a table (ID PID STATUS BUNDLE CREATED OWNER) or a JSON array of states")
        ->check(CLI::IsMember({"table", "json"}))
        ->capture_default_str();
    cmd->add_flag("-q,--quiet", *quiet, "print the IDs only, one a line");
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            auto containers = runtime::list(globals.root);
            if (*quiet) {
                for (auto& c : containers) std::cout << c["id"].get<std::string>() << "\n";
            } else if (*format == "json") {
                std::cout << nlohmann::json(containers).dump() << "\n";
            } else {
                // runc's tabwriter: cells at least 12 wide, 3 spaces of padding.
                std::vector<std::vector<std::string>> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
                for (auto& c : containers)
                    rows.push_back({c["id"], std::to_string(c["pid"].get<int>()), c["status"], c["bundle"], c["created"], c["owner"]});
                std::vector<size_t> width(6, 0);
                for (auto& row : rows)
                    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], std::max<size_t>(row[i].size() + 3, 12));
                for (auto& row : rows) {
                    for (size_t i = 0; i < row.size(); ++i)
                        std::cout << (i + 1 < row.size() ? row[i] + std::string(width[i] - row[i].size(), ' ') : row[i]);
                    std::cout << "\n";
                }
            }
            return 0;
        };
    });
}

}  // namespace crunlite::cli
