// One registration function per subcommand; main.cpp wires them to the global flags.
#pragma once
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

namespace crunlite::cli {

struct Globals {
    std::string root;
    std::string log_file;
    std::string log_format = "text";
    bool debug = false;
    bool systemd_cgroup = false;
    std::string rootless = "auto";
};

// What a subcommand runs once parsing is done; its return value is the exit status.
using Action = std::function<int()>;

void add_spec(CLI::App& app, Globals& globals, Action& action);
void add_create(CLI::App& app, Globals& globals, Action& action);
void add_run(CLI::App& app, Globals& globals, Action& action);
void add_start(CLI::App& app, Globals& globals, Action& action);
void add_state(CLI::App& app, Globals& globals, Action& action);
void add_kill(CLI::App& app, Globals& globals, Action& action);
void add_delete(CLI::App& app, Globals& globals, Action& action);
void add_list(CLI::App& app, Globals& globals, Action& action);
void add_exec(CLI::App& app, Globals& globals, Action& action);
void add_pause(CLI::App& app, Globals& globals, Action& action);  // pause and resume
void add_ps(CLI::App& app, Globals& globals, Action& action);
void add_features(CLI::App& app, Globals& globals, Action& action);
void add_update(CLI::App& app, Globals& globals, Action& action);
void add_events(CLI::App& app, Globals& globals, Action& action);
void add_check(CLI::App& app, Globals& globals, Action& action);

}  // namespace crunlite::cli
