// One registration function per subcommand; main.cpp wires them to the global flags.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

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

// Registers the subcommands. Building all of them (some hundred options) is a good part of a
// short command's run time, so only those whose name is a word of argv are built; all of them
// when none is, or for --help and __docs, so that help and errors read the same either way.
void add_commands(CLI::App& app, Globals& globals, Action& action, int argc, char** argv);

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
void add_checkpoint(CLI::App& app, Globals& globals, Action& action);  // checkpoint_cmds.cpp
void add_restore(CLI::App& app, Globals& globals, Action& action);

// Hidden `__docs DIR`: writes the man pages, docs/cli.md and the bash completion (docs.cpp).
void add_docs(CLI::App& app, Action& action);

// A command's words beyond its one-line description, kept next to its definition. The same text
// is its --help (after the options), its man page and its section of docs/cli.md.
// Text: paragraphs split by blank lines, `code` in backquotes, lines indented by four spaces are
// shown as they are (examples), lines starting with "- " are list items.
struct CommandDoc {
    std::string args;  // what follows [OPTIONS] when the positionals do not say it all ("ID COMMAND [ARG...]")
    std::string text;  // DESCRIPTION of the man page
    std::vector<std::pair<std::string, std::string>> sections;  // further man page sections (EXIT STATUS...)
};
void document(CLI::App* cmd, CommandDoc doc);
const CommandDoc& documentation(const CLI::App* cmd);
// Puts the --help formatter in place that uses the above; call before adding subcommands.
void use_doc_formatter(CLI::App& app);
// Value names that say what an argument is; the bash completion completes them.
inline constexpr const char* kContainer = "CONTAINER";  // an existing container's ID
inline constexpr const char* kDir = "DIR";
inline constexpr const char* kFile = "FILE";

}  // namespace crunlite::cli
