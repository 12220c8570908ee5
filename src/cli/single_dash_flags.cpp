#include "cli/single_dash_flags.hpp"

namespace crunlite::cli {
namespace {

// "-name[=value]" → "name", or "" when the word is not of that form.
std::string single_dash_name(const std::string& word) {
    if (word.size() < 3 || word[0] != '-' || word[1] == '-') return "";
    std::string name = word.substr(1, word.find('=') - 1);
    return name.size() >= 2 ? name : "";
}

bool has_long_option(const CLI::App& app, const std::string& name) {
    const CLI::Option* option = app.get_option_no_throw("--" + name);
    return option != nullptr && !option->get_lnames().empty();
}

}  // namespace

void accept_single_dash_long_options(const CLI::App& app, int argc, char** argv, std::vector<std::string>& storage) {
    storage.reserve(size_t(argc));  // the pointers into it stay valid
    const CLI::App* command = nullptr;
    for (int i = 1; i < argc; ++i) {
        std::string word = argv[i];
        if (!command) {
            auto named = app.get_subcommands([&](const CLI::App* sub) { return sub->check_name(word); });
            if (!named.empty()) {
                command = named.front();
                continue;
            }
        }
        const CLI::App& scope = command ? *command : app;
        std::string name = single_dash_name(word);
        if (name.empty() || !has_long_option(scope, name)) {
            // The first word of the command that is not an option starts its own command line.
            if (command && command->get_prefix_command() && !word.empty() && word[0] != '-') return;
            continue;
        }
        storage.push_back("-" + word);
        argv[i] = storage.back().data();
    }
}

}  // namespace crunlite::cli
