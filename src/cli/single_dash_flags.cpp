#include "cli/single_dash_flags.hpp"

namespace crunlite::cli {
namespace {

// "-name[=value]" → "name", or "" when the word is not of that form.
std::string single_dash_name(const std::string& word) {
    if (word.size() < 3 || word[0] != '-' || word[1] == '-') return "";
    std::string name = word.substr(1, word.find('=') - 1);
    return name.size() >= 2 ? name : "";
}

const CLI::Option* long_option(const CLI::App& scope, const std::string& name) {
    const CLI::Option* option = scope.get_option_no_throw("--" + name);
    return option != nullptr && !option->get_lnames().empty() ? option : nullptr;
}

// Whether the word after `word` (an option of `scope`, as written) is that option's value.
bool value_follows(const CLI::App& scope, const std::string& word) {
    auto needs_value = [](const CLI::Option* o) { return o != nullptr && o->get_items_expected_min() > 0; };
    if (word.find('=') != std::string::npos) return false;
    if (word[1] == '-') return needs_value(scope.get_option_no_throw(word));
    // Short options, possibly several in one word (-dt): the last one's value may be attached.
    for (std::size_t c = 1; c < word.size(); ++c) {
        const CLI::Option* option = scope.get_option_no_throw(std::string("-") + word[c]);
        if (!option) return false;
        if (needs_value(option)) return c + 1 == word.size();
    }
    return false;
}

}  // namespace

void accept_single_dash_long_options(const CLI::App& app, int argc, char** argv, std::vector<std::string>& storage) {
    storage.reserve(size_t(argc));  // never reallocated below: the pointers into it stay valid
    const CLI::App* scope = &app;
    bool in_command = false;
    for (int i = 1; i < argc; ++i) {
        std::string word = argv[i];
        if (word == "--") return;
        std::string name = single_dash_name(word);
        if (const CLI::Option* option = name.empty() ? nullptr : long_option(*scope, name)) {
            storage.push_back("-" + word);
            argv[i] = storage.back().data();
            if (option->get_items_expected_min() > 0 && word.find('=') == std::string::npos) ++i;
            continue;
        }
        if (word.size() >= 2 && word[0] == '-') {
            if (value_follows(*scope, word)) ++i;
            continue;
        }
        if (!in_command) {
            auto named = app.get_subcommands([&](const CLI::App* sub) { return sub->check_name(word); });
            if (named.empty()) return;
            scope = named.front();
            in_command = true;
            continue;
        }
        // The container ID. After it, exec's and ps's words are their program's own.
        if (scope->get_prefix_command()) return;
    }
}

}  // namespace crunlite::cli
