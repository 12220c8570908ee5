// The commands that read or act on a container's cgroups: pause, resume, ps and events.
#include <sys/wait.h>

#include <cstdlib>
#include <iostream>
#include <set>
#include <sstream>

#include "cli/commands.hpp"
#include "crunlite/error.hpp"
#include "crunlite/runtime.hpp"
#include "util/subprocess.hpp"

namespace crunlite::cli {
namespace {

void add_id_command(CLI::App& app, Globals& globals, Action& action, const char* name, const char* help,
                    void (*operation)(const std::string&, const std::string&)) {
    auto* cmd = app.add_subcommand(name, help);
    auto id = std::make_shared<std::string>();
    cmd->add_option("id", *id, "container ID")->required()->type_name(kContainer);
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            operation(globals.root, *id);
            return 0;
        };
    });
}

// The header of ps(1)'s output and the rows whose PID is one of `pids`, as runc keeps them.
std::string container_rows(const std::string& ps_output, const std::vector<int>& pids) {
    std::set<int> wanted(pids.begin(), pids.end());
    std::istringstream lines(ps_output);
    std::string header;
    if (!std::getline(lines, header)) throw Error("ps printed nothing");
    std::istringstream header_fields(header);
    int pid_column = -1, column = 0;
    for (std::string name; header_fields >> name; ++column)
        if (name == "PID") pid_column = column;
    if (pid_column < 0) throw Error("ps: its output has no PID column", 0, "give ps options whose output includes PID");
    std::string out = header + "\n";
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string field;
        for (int i = 0; i <= pid_column && fields >> field; ++i) {}
        if (fields && wanted.count(std::atoi(field.c_str()))) out += line + "\n";
    }
    return out;
}

// `ps` with the table format runs the host's ps(1), `-ef` or the arguments given after the ID,
// directly (no shell), and keeps the container's rows, as runc does.
int print_ps_table(const std::vector<int>& pids, const std::vector<std::string>& ps_args) {
    std::vector<std::string> argv = {"ps"};
    if (ps_args.empty()) argv.push_back("-ef");
    argv.insert(argv.end(), ps_args.begin(), ps_args.end());
    subprocess::Options options;
    options.capture_stdout = true;  // its stderr goes to ours
    subprocess::Result result = subprocess::run(argv, options);
    // A ps that refused its arguments has said why on stderr; its status is ours.
    if (!result.succeeded()) return WIFEXITED(result.status) ? WEXITSTATUS(result.status) : 1;
    std::cout << container_rows(result.output, pids);
    return 0;
}

}  // namespace

void add_pause(CLI::App& app, Globals& globals, Action& action) {
    add_id_command(app, globals, action, "pause", "freeze every process of a container", runtime::pause);
    document(app.get_subcommand("pause"), {.text = "pause uses the cgroup freezer (cgroup v2's cgroup.freeze, or the v1 "
                                                   "freezer controller): the processes stop where they are until "
                                                   "`resume`. The container's status is then `paused`."});
    add_id_command(app, globals, action, "resume", "thaw a paused container", runtime::resume);
}

void add_ps(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("ps", "list the processes of a container");
    auto id = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>("table");
    cmd->add_option("-f,--format", *format, "ps(1)'s table, or a JSON array of host pids")
        ->check(CLI::IsMember({"table", "json"}))
        ->capture_default_str();
    cmd->add_option("id", *id, "container ID")->required()->type_name(kContainer);
    cmd->prefix_command();  // what follows the ID goes to ps(1)
    document(cmd, {.args = "ID [PS_ARGUMENT...]",
                   .text = "The table is the host's ps(1) output (`ps -ef`, or the PS_ARGUMENTs) keeping the header and "
                           "the rows of the container's processes, as runc does; pids are the host's."});
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            std::vector<int> pids = runtime::pids(globals.root, *id);
            if (*format == "json") {
                std::cout << nlohmann::json(pids).dump() << "\n";
                return 0;
            }
            auto rest = cmd->remaining();
            if (!rest.empty() && rest.front() == "--") rest.erase(rest.begin());
            return print_ps_table(pids, rest);
        };
    });
}

// "5s", "500ms", "1m" or plain seconds -> milliseconds.
int parse_interval(const std::string& text) {
    size_t pos = 0;
    double value = 0;
    try {
        value = std::stod(text, &pos);
    } catch (const std::exception&) {
        throw Error("--interval \"" + text + "\": expected a duration such as 5s or 500ms");
    }
    std::string unit = text.substr(pos);
    double ms = unit == "ms" ? value : unit == "s" || unit.empty() ? value * 1000 : unit == "m" ? value * 60000 : -1;
    if (ms <= 0) throw Error("--interval \"" + text + "\": expected a positive duration such as 5s or 500ms");
    return int(ms);
}

void add_events(CLI::App& app, Globals& globals, Action& action) {
    auto* cmd = app.add_subcommand("events", "print container events (stats, oom) as JSON lines");
    auto id = std::make_shared<std::string>();
    auto interval = std::make_shared<std::string>("5s");
    auto stats = std::make_shared<bool>(false);
    cmd->add_option("--interval", *interval, "how often to print stats: 5s, 500ms, 1m")->type_name("DURATION")->capture_default_str();
    cmd->add_flag("--stats", *stats, "print one stats event and exit");
    cmd->add_option("id", *id, "container ID")->required()->type_name(kContainer);
    document(cmd, {.text = "Each line is a JSON object {\"type\", \"id\", \"data\"} as runc prints it: `stats` "
                           "events (cpu, memory, pids, blkio and hugetlb usage from the container's cgroups) every "
                           "--interval, and `oom` when the kernel's OOM killer hits the container. events runs until the "
                           "container is deleted or it is interrupted."});
    cmd->callback([=, &globals, &action] {
        action = [=, &globals] {
            runtime::events(globals.root, *id, *stats, parse_interval(*interval), std::cout);
            return 0;
        };
    });
}

}  // namespace crunlite::cli
