// state, kill, delete, list: the commands that look at or end containers.
#include <iostream>

#include "commands.hpp"
#include "crunlite/runtime.hpp"

namespace crunlite::cli {

void add_state(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("state", "print the state of a container as JSON");
    auto id = std::make_shared<std::string>();
    cmd->add_option("id", *id, "container ID")->required();
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
    cmd->add_flag("-a,--all", *all, "signal every process of the container");
    cmd->add_option("id", *id, "container ID")->required();
    cmd->add_option("signal", *signal, "signal name (KILL, SIGKILL) or number");
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
    cmd->add_flag("-f,--force", *force, "kill the container first if it is running");
    cmd->add_option("id", *id, "container ID")->required();
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
    cmd->add_option("-f,--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
    cmd->add_flag("-q,--quiet", *quiet, "print IDs only");
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
