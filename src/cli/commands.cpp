#include <string_view>

#include "cli/commands.hpp"

namespace crunlite::cli {
namespace {

struct Command {
    std::string_view names[2];  // pause registers resume too
    void (*add)(CLI::App&, Globals&, Action&);
};

void add_docs_command(CLI::App& app, Globals&, Action& action) { add_docs(app, action); }

constexpr Command kCommands[] = {
    {{"spec"}, add_spec},       {{"create"}, add_create},     {{"run"}, add_run},         {{"start"}, add_start},
    {{"state"}, add_state},     {{"kill"}, add_kill},         {{"delete"}, add_delete},   {{"list"}, add_list},
    {{"exec"}, add_exec},       {{"pause", "resume"}, add_pause}, {{"ps"}, add_ps},      {{"features"}, add_features},
    {{"update"}, add_update},   {{"events"}, add_events},     {{"check"}, add_check},     {{"checkpoint"}, add_checkpoint},
    {{"restore"}, add_restore}, {{"__docs"}, add_docs_command},
};

bool named_in(const Command& command, int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        for (std::string_view name : command.names)
            if (!name.empty() && name == argv[i]) return true;
    return false;
}

}  // namespace

void add_commands(CLI::App& app, Globals& globals, Action& action, int argc, char** argv) {
    bool all = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view word = argv[i];
        all |= word == "-h" || word == "--help" || word == "__docs";
    }
    if (!all) {
        all = true;
        for (auto& command : kCommands) all &= !named_in(command, argc, argv);
    }
    for (auto& command : kCommands)
        if (all || named_in(command, argc, argv)) command.add(app, globals, action);
}

}  // namespace crunlite::cli
