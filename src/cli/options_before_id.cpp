#include "cli/options_before_id.hpp"

#include <string>

namespace crunlite::cli {
namespace {

bool takes_value(const CLI::Option* option) { return option->get_items_expected_min() > 0; }

// The index in argv of the first word from `first` on that is neither one of `owner`'s options
// nor an option's value: the subcommand's name for the app, the ID for exec and ps. Throws on an
// option `owner` does not know, when `strict`.
int first_positional(const CLI::App& owner, int first, int argc, char** argv, bool strict) {
    for (int i = first; i < argc; ++i) {
        std::string word = argv[i];
        if (word == "--") return i + 1;
        if (word.size() < 2 || word[0] != '-') return i;
        if (word[1] == '-') {
            std::string name = word.substr(0, word.find('='));
            const CLI::Option* option = owner.get_option_no_throw(name);
            if (!option) {
                if (strict) throw CLI::ExtrasError(owner.get_name(), {word});
                continue;
            }
            if (takes_value(option) && word.find('=') == std::string::npos) ++i;
            continue;
        }
        // Short options, possibly several in one word (-dt), the last one possibly with its value
        // attached (-uroot) or next.
        for (std::size_t c = 1; c < word.size(); ++c) {
            const CLI::Option* option = owner.get_option_no_throw(std::string("-") + word[c]);
            if (!option) {
                if (strict) throw CLI::ExtrasError(owner.get_name(), {word});
                break;
            }
            if (takes_value(option)) {
                if (c + 1 == word.size()) ++i;
                break;
            }
        }
    }
    return argc;
}

}  // namespace

void reject_unknown_options_before_id(const CLI::App& app, const CLI::App& command, int argc, char** argv) {
    int name_at = first_positional(app, 1, argc, argv, false);
    if (name_at < argc && command.get_name() == argv[name_at]) first_positional(command, name_at + 1, argc, argv, true);
}

}  // namespace crunlite::cli
