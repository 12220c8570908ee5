// The one source of crun-lite's documentation of its command line: the CLI11 definitions (names,
// one-line descriptions, options, positionals) plus each command's CommandDoc. From them come
// --help, the man pages (crun-lite.8, crun-lite-<command>.8), docs/cli.md and the bash completion,
// the last three written at build time by the hidden `crun-lite __docs DIR`.
#include <sys/stat.h>

#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/commands.hpp"
#include "crunlite/error.hpp"

#ifndef CRUNLITE_VERSION
#define CRUNLITE_VERSION "0.0.0"
#endif

namespace crunlite::cli {
namespace {

std::map<const CLI::App*, CommandDoc>& registry() {
    static std::map<const CLI::App*, CommandDoc> docs;
    return docs;
}

// --- what the CLI11 tree says -------------------------------------------------------------

std::vector<const CLI::App*> commands(const CLI::App& app) {
    // A command in the empty group is hidden (__docs itself).
    return app.get_subcommands([](const CLI::App* sub) { return !sub->get_name().empty() && !sub->get_group().empty(); });
}

std::vector<const CLI::Option*> options(const CLI::App* app, bool with_help) {
    return app->get_options([&](const CLI::Option* opt) {
        return opt->nonpositional() && (with_help || opt != app->get_help_ptr());
    });
}

std::vector<const CLI::Option*> positionals(const CLI::App* app) {
    return app->get_options([](const CLI::Option* opt) { return opt->get_positional(); });
}

struct OptionInfo {
    std::vector<std::string> names;  // -b, --bundle
    std::string value;               // DIR, TEXT, text|json; empty for a flag
    std::vector<std::string> choices;
    bool repeatable = false;
    std::string description;
};

OptionInfo describe_option(const CLI::Option* opt) {
    OptionInfo info;
    for (auto& s : opt->get_snames()) info.names.push_back("-" + s);
    for (auto& l : opt->get_lnames()) info.names.push_back("--" + l);
    if (opt->get_positional()) info.names = {opt->get_name()};
    if (opt->get_items_expected_max() > 0) {
        std::string type = opt->get_type_name();
        auto brace = type.find(":{");
        if (brace != std::string::npos && type.back() == '}') {
            std::stringstream list(type.substr(brace + 2, type.size() - brace - 3));
            for (std::string c; std::getline(list, c, ',');) info.choices.push_back(c);
            type.clear();
            for (auto& c : info.choices) type += (type.empty() ? "" : "|") + c;
        }
        info.value = type.empty() ? "VALUE" : type;
        info.repeatable = opt->get_expected_max() >= CLI::detail::expected_max_vector_size;
    }
    info.description = opt->get_description();
    if (!opt->get_default_str().empty()) info.description += " (default: " + opt->get_default_str() + ")";
    if (info.repeatable && !opt->get_positional()) info.description += "; may be given more than once";
    return info;
}

// "ID [SIGNAL]": what follows [OPTIONS] in a usage line.
std::string usage_args(const CLI::App* app) {
    auto& doc = documentation(app);
    if (!doc.args.empty()) return doc.args;
    std::string out;
    for (auto* opt : positionals(app)) {
        std::string name = opt->get_name();
        for (auto& c : name) c = char(toupper(c));
        out += (out.empty() ? "" : " ") + (opt->get_required() ? name : "[" + name + "]");
    }
    return out;
}

std::string usage_tail(const CLI::App* app) {
    std::string out;
    if (!options(app, false).empty()) out += " [OPTIONS]";
    std::string args = usage_args(app);
    if (!args.empty()) out += " " + args;
    return out;
}

// The one-line description as a sentence.
std::string sentence(std::string text) {
    if (!text.empty()) text[0] = char(toupper(text[0]));
    if (!text.empty() && text.back() != '.') text += ".";
    return text;
}

std::string program_name(const CLI::App& app) { return app.get_name(); }

// The top description is "crun-lite: a fast...": the part a NAME line wants.
std::string summary(const CLI::App* app) {
    std::string d = app->get_description();
    std::string prefix = app->get_name() + ": ";
    return d.rfind(prefix, 0) == 0 ? d.substr(prefix.size()) : d;
}

// --- the text markup of CommandDoc ----------------------------------------------------------

struct Block {
    enum Kind { paragraph, verbatim, item } kind;
    std::string text;  // paragraph and item: one line; verbatim: lines joined by \n
};

std::vector<Block> blocks(const std::string& text) {
    std::vector<Block> out;
    std::stringstream in(text);
    bool joinable = false;  // the last block may take the next line
    for (std::string line; std::getline(in, line);) {
        if (line.find_first_not_of(' ') == std::string::npos) {
            joinable = false;
        } else if (line.rfind("    ", 0) == 0) {
            if (!out.empty() && out.back().kind == Block::verbatim && joinable)
                out.back().text += "\n" + line.substr(4);
            else
                out.push_back({Block::verbatim, line.substr(4)});
            joinable = true;
        } else if (line.rfind("- ", 0) == 0) {
            out.push_back({Block::item, line.substr(2)});
            joinable = true;
        } else if (joinable && out.back().kind != Block::verbatim) {
            out.back().text += " " + line;
        } else {
            out.push_back({Block::paragraph, line});
            joinable = true;
        }
    }
    return out;
}

std::string wrap(const std::string& text, size_t width, const std::string& first, const std::string& rest) {
    std::string out, line = first;
    std::stringstream words(text);
    bool empty = true;
    for (std::string w; words >> w;) {
        if (!empty && line.size() + 1 + w.size() > width) {
            out += line + "\n";
            line = rest;
            empty = true;
        }
        line += (empty ? "" : " ") + w;
        empty = false;
    }
    return out + line + "\n";
}

std::string plain(const std::string& text) {
    std::string out;
    for (auto& b : blocks(text)) {
        if (!out.empty() && b.kind != Block::item) out += "\n";
        if (b.kind == Block::paragraph) out += wrap(b.text, 80, "", "");
        if (b.kind == Block::item) out += wrap(b.text, 80, "  - ", "    ");
        if (b.kind == Block::verbatim) {
            std::stringstream lines(b.text);
            for (std::string l; std::getline(lines, l);) out += "    " + l + "\n";
        }
    }
    return out;
}

// --- --help ---------------------------------------------------------------------------------

class DocFormatter : public CLI::Formatter {
public:
    std::string make_usage(const CLI::App* app, std::string name) const override {
        return "Usage: " + name + usage_tail(app) + (app->get_parent() ? "" : "\n\nRun '" + name + " COMMAND --help' for a command's options") + "\n";
    }
    std::string make_footer(const CLI::App* app) const override {
        std::string text = documentation(app).text;
        if (!app->get_parent()) text.clear();  // the top text is long: the man page has it
        std::string footer = CLI::Formatter::make_footer(app);
        return (text.empty() ? "" : plain(text)) + footer;
    }
};

// --- roff -----------------------------------------------------------------------------------

std::string roff_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\\') out += "\\e";
        else if (c == '-') out += "\\-";
        else out += c;
    }
    return out;
}

// Escapes, and `code` -> bold.
std::string roff_inline(const std::string& s) {
    std::string out;
    bool code = false;
    for (char c : s) {
        if (c == '`') {
            out += code ? "\\fR" : "\\fB";
            code = !code;
        } else {
            out += roff_escape(std::string(1, c));
        }
    }
    return out + (code ? "\\fR" : "");
}

// A line of text that roff must not take for a request.
std::string roff_line(const std::string& s) { return (!s.empty() && (s[0] == '.' || s[0] == '\'') ? "\\&" : "") + s; }

// Filled text: wrapped, with no line that roff would take for a request.
std::string roff_fill(const std::string& text) {
    std::string out;
    std::stringstream lines(wrap(text, 100, "", ""));
    for (std::string l; std::getline(lines, l);) out += roff_line(l) + "\n";
    return out;
}

std::string roff_text(const std::string& text) {
    std::string out;
    for (auto& b : blocks(text)) {
        switch (b.kind) {
            case Block::paragraph: out += ".PP\n" + roff_fill(roff_inline(b.text)); break;
            case Block::item: out += ".IP \\(bu 2\n" + roff_fill(roff_inline(b.text)); break;
            case Block::verbatim: {
                out += ".PP\n.RS 4\n.nf\n";
                std::stringstream lines(b.text);
                for (std::string l; std::getline(lines, l);) out += roff_line(roff_escape(l)) + "\n";
                out += ".fi\n.RE\n";
                break;
            }
        }
    }
    return out;
}

std::string roff_option(const OptionInfo& o, bool positional) {
    std::string head;
    if (positional) {
        std::string name = o.names.front();
        for (auto& c : name) c = char(toupper(c));
        head = "\\fI" + roff_escape(name) + "\\fR";
    } else {
        for (auto& n : o.names) head += (head.empty() ? "" : ", ") + ("\\fB" + roff_escape(n) + "\\fR");
        if (!o.value.empty()) head += " \\fI" + roff_escape(o.value) + "\\fR";
    }
    return ".TP\n" + head + "\n" + roff_fill(roff_inline(sentence(o.description)));
}

std::string man_header(const std::string& page, const std::string& name, const std::string& summary_line) {
    std::string upper = page;
    for (auto& c : upper) c = char(toupper(c));
    return ".\\\" Generated by `crun-lite __docs` from the command-line definitions in src/cli; do not edit.\n"
           ".TH " + roff_escape(upper) + " 8 \"\" \"crun-lite " CRUNLITE_VERSION "\" \"System Administration\"\n"
           ".SH NAME\n" + roff_escape(name) + " \\- " + roff_inline(summary_line) + "\n";
}

std::string man_sections(const CommandDoc& doc) {
    std::string out;
    for (auto& [title, text] : doc.sections) out += ".SH " + title + "\n" + roff_text(text);
    return out;
}

std::string man_top(const CLI::App& app) {
    std::string name = program_name(app);
    std::string out = man_header(name, name, summary(&app));
    out += ".SH SYNOPSIS\n\\fB" + roff_escape(name) + "\\fR" + roff_inline(usage_tail(&app)) + "\n";
    out += ".SH DESCRIPTION\n" + roff_text(documentation(&app).text);
    out += ".SH OPTIONS\n";
    for (auto* opt : options(&app, true)) out += roff_option(describe_option(opt), false);
    out += ".SH COMMANDS\nEach command has its own page, \\fB" + roff_escape(name) + "\\-\\fICOMMAND\\fR(8), and \\fB" +
           roff_escape(name) + " \\fICOMMAND\\fB \\-\\-help\\fR.\n";
    for (auto* cmd : commands(app))
        out += ".TP\n\\fB" + roff_escape(cmd->get_name()) + "\\fR\n" + roff_fill(roff_inline(sentence(cmd->get_description())));
    out += man_sections(documentation(&app));
    out += ".SH SEE ALSO\n";
    std::string see;
    for (auto* cmd : commands(app)) see += (see.empty() ? "" : ",\n") + ("\\fB" + roff_escape(name + "-" + cmd->get_name()) + "\\fR(8)");
    return out + see + "\n";
}

std::string man_command(const CLI::App& app, const CLI::App* cmd) {
    std::string name = program_name(app), page = name + "-" + cmd->get_name();
    std::string out = man_header(page, page, cmd->get_description());
    out += ".SH SYNOPSIS\n\\fB" + roff_escape(name) + "\\fR [\\fIGLOBAL OPTIONS\\fR] \\fB" + roff_escape(cmd->get_name()) + "\\fR" +
           roff_inline(usage_tail(cmd)) + "\n";
    auto& doc = documentation(cmd);
    out += ".SH DESCRIPTION\n.PP\n" + roff_fill(roff_inline(sentence(cmd->get_description()))) + roff_text(doc.text);
    if (!positionals(cmd).empty()) {
        out += ".SH ARGUMENTS\n";
        for (auto* opt : positionals(cmd)) out += roff_option(describe_option(opt), true);
    }
    if (!options(cmd, false).empty()) {
        out += ".SH OPTIONS\n";
        for (auto* opt : options(cmd, false)) out += roff_option(describe_option(opt), false);
    }
    out += man_sections(doc);
    out += ".SH SEE ALSO\n\\fB" + roff_escape(name) + "\\fR(8) for the global options, exit status and files\n";
    return out;
}

// --- markdown -------------------------------------------------------------------------------

std::string md_text(const std::string& text) {
    std::string out;
    Block::Kind last = Block::paragraph;
    for (auto& b : blocks(text)) {
        if (!out.empty() && !(b.kind == Block::item && last == Block::item)) out += "\n";
        if (b.kind == Block::paragraph) out += wrap(b.text, 100, "", "");
        if (b.kind == Block::item) out += wrap(b.text, 100, "- ", "  ");
        if (b.kind == Block::verbatim) out += "```\n" + b.text + "\n```\n";
        last = b.kind;
    }
    return out;
}

std::string md_options(const std::vector<const CLI::Option*>& opts, bool positional) {
    std::string out;
    for (auto* opt : opts) {
        auto o = describe_option(opt);
        std::string head;
        if (positional) {
            head = o.names.front();
            for (auto& c : head) c = char(toupper(c));
        } else {
            for (auto& n : o.names) head += (head.empty() ? "" : ", ") + n;
            if (!o.value.empty()) head += " " + o.value;
        }
        out += wrap("`" + head + "`: " + o.description, 100, "- ", "  ");
    }
    return out;
}

std::string title_case(std::string title) {
    for (size_t i = 1; i < title.size(); ++i) title[i] = char(tolower(title[i]));
    return title;
}

std::string markdown(const CLI::App& app) {
    std::string name = program_name(app);
    std::string out = "# " + name + " command line\n\n"
                      "<!-- Generated by `crun-lite __docs` from the command-line definitions in src/cli, like --help, the man\n"
                      "     pages and the bash completion. Do not edit: `cmake --build build --target update-docs` rewrites it. -->\n\n";
    out += sentence(summary(&app)) + "\n\n```\n" + name + usage_tail(&app) + "\n```\n\n" + md_text(documentation(&app).text);
    out += "\n## Global options\n\n" + md_options(options(&app, true), false);
    out += "\n## Commands\n\n| Command | |\n|---|---|\n";
    for (auto* cmd : commands(app))
        out += "| [`" + cmd->get_name() + "`](#" + name + "-" + cmd->get_name() + ") | " + cmd->get_description() + " |\n";
    for (auto& [title, text] : documentation(&app).sections) out += "\n## " + title_case(title) + "\n\n" + md_text(text);
    for (auto* cmd : commands(app)) {
        auto& doc = documentation(cmd);
        out += "\n## " + name + " " + cmd->get_name() + "\n\n" + sentence(cmd->get_description()) + "\n\n```\n" + name + " " +
               cmd->get_name() + usage_tail(cmd) + "\n```\n";
        if (!doc.text.empty()) out += "\n" + md_text(doc.text);
        if (!positionals(cmd).empty()) out += "\nArguments:\n\n" + md_options(positionals(cmd), true);
        if (!options(cmd, false).empty()) out += "\nOptions:\n\n" + md_options(options(cmd, false), false);
        for (auto& [title, text] : doc.sections) out += "\n" + title_case(title) + ":\n\n" + md_text(text);
    }
    return out;
}

// --- bash completion ------------------------------------------------------------------------

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// What the completion offers for a value: DIR, FILE, CONTAINER, SIGNAL, a|b|c, or - (nothing).
std::string value_kind(const OptionInfo& o) {
    if (!o.choices.empty()) return o.value;
    for (const char* known : {kDir, kFile, kContainer, "SIGNAL"})
        if (o.value == known) return o.value;
    return "-";
}

std::string bash_completion(const CLI::App& app) {
    std::string name = program_name(app);
    std::string options_table, values_table, args_table, names;
    auto add = [&](const std::string& cmd, const CLI::App* a) {
        std::string all;
        for (auto* opt : options(a, true)) {
            auto o = describe_option(opt);
            for (auto& n : o.names) {
                all += (all.empty() ? "" : " ") + n;
                if (!o.value.empty()) values_table += "    [" + shell_quote(cmd + " " + n) + "]=" + shell_quote(value_kind(o)) + "\n";
            }
        }
        options_table += "    [" + shell_quote(cmd) + "]=" + shell_quote(all) + "\n";
        std::string args;
        for (auto* opt : positionals(a)) args += (args.empty() ? "" : " ") + value_kind(describe_option(opt));
        if (a->get_prefix_command()) args += (args.empty() ? "" : " ") + std::string("...");
        if (a != &app) args_table += "    [" + shell_quote(cmd) + "]=" + shell_quote(args) + "\n";
    };
    add("@global", &app);
    for (auto* cmd : commands(app)) {
        add(cmd->get_name(), cmd);
        names += (names.empty() ? "" : " ") + cmd->get_name();
    }
    return "# bash completion for " + name +
           "(8). Generated by `crun-lite __docs` from the command-line definitions in src/cli;\n"
           "# do not edit.\n\n"
           "# The options of each command (@global: the ones before the command).\n"
           "declare -gA _crun_lite_options=(\n" + options_table + ")\n"
           "# \"COMMAND OPTION\" -> what the option's value is: DIR, FILE, a|b (choices) or - (anything).\n"
           "declare -gA _crun_lite_values=(\n" + values_table + ")\n"
           "# The positional arguments of each command, in order; ... means anything after them.\n"
           "declare -gA _crun_lite_args=(\n" + args_table + ")\n"
           "_crun_lite_commands=" + shell_quote(names) + "\n"
           R"SH(
_crun_lite_complete_value() {  # $1: DIR, FILE, CONTAINER, SIGNAL, a|b or -
    case $1 in
        DIR) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
        FILE) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
        CONTAINER) COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" ${root:+--root "$root"} list -q 2>/dev/null)" -- "$cur")) ;;
        SIGNAL) COMPREPLY=($(compgen -A signal -- "$cur")) ;;
        *'|'*) COMPREPLY=($(compgen -W "${1//|/ }" -- "$cur")) ;;
    esac
}

_crun_lite() {
    local cur=${COMP_WORDS[COMP_CWORD]} cmd="" root="" expect="" word i nargs=0
    COMPREPLY=()
    [[ $cur == = ]] && cur=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ -n $expect ]]; then
            [[ $word == = ]] && continue  # --option=value comes as three words
            [[ $expect == "@global --root" ]] && root=$word
            expect=""
            continue
        fi
        case $word in
            -*=*) [[ -z $cmd && ${word%%=*} == --root ]] && root=${word#*=} ;;  # when = does not break words
            -*) [[ -n ${_crun_lite_values["${cmd:-@global} $word"]+set} ]] && expect="${cmd:-@global} $word" ;;
            *)
                if [[ -z $cmd ]]; then cmd=$word; else ((nargs++)); fi
                ;;
        esac
        # After a command's positionals comes what it passes on (exec's COMMAND, ps's arguments).
        if [[ -n $cmd && ${_crun_lite_args[$cmd]} == *... ]]; then
            local args=(${_crun_lite_args[$cmd]})
            ((nargs >= ${#args[@]} - 1)) && return 0
        fi
    done
    if [[ -n $expect ]]; then
        _crun_lite_complete_value "${_crun_lite_values[$expect]}"
    elif [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "${_crun_lite_options[${cmd:-@global}]}" -- "$cur"))
    elif [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$_crun_lite_commands" -- "$cur"))
    else
        local args=(${_crun_lite_args[$cmd]})
        [[ $nargs -lt ${#args[@]} ]] && _crun_lite_complete_value "${args[$nargs]}"
    fi
    return 0
}
complete -F _crun_lite )SH" + name + "\n";
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw Error("write " + path, errno);
}

void make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) throw Error("mkdir " + path, errno);
}

}  // namespace

void document(CLI::App* cmd, CommandDoc doc) { registry()[cmd] = std::move(doc); }

const CommandDoc& documentation(const CLI::App* cmd) {
    static const CommandDoc none;
    auto it = registry().find(cmd);
    return it == registry().end() ? none : it->second;
}

void use_doc_formatter(CLI::App& app) { app.formatter(std::make_shared<DocFormatter>()); }

void add_docs(CLI::App& app, Action& action) {
    auto* cmd = app.add_subcommand("__docs", "write the man pages, docs/cli.md and the bash completion into DIR");
    cmd->group("");  // hidden: a build step, not a user's command
    auto dir = std::make_shared<std::string>();
    cmd->add_option("dir", *dir, "output directory")->required();
    cmd->callback([=, &app, &action] {
        action = [=, &app] {
            make_dir(*dir);
            make_dir(*dir + "/man8");
            make_dir(*dir + "/bash-completion");
            std::string name = program_name(app);
            write_file(*dir + "/man8/" + name + ".8", man_top(app));
            for (auto* c : commands(app)) write_file(*dir + "/man8/" + name + "-" + c->get_name() + ".8", man_command(app, c));
            write_file(*dir + "/cli.md", markdown(app));
            write_file(*dir + "/bash-completion/" + name, bash_completion(app));
            return 0;
        };
    });
}

}  // namespace crunlite::cli
