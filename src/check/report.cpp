// The findings of `crun-lite check` and their two renderings (a table, JSON).
#include <algorithm>
#include <sstream>

#include "crunlite/check.hpp"
#include "crunlite/error.hpp"
#include "crunlite/spec_version.hpp"

namespace crunlite::check {

const char* severity_name(Severity severity) {
    switch (severity) {
        case Severity::error: return "error";
        case Severity::warning: return "warning";
        case Severity::info: return "info";
    }
    return "?";
}

void Report::error(const std::string& path, const std::string& message, const std::string& hint) {
    add({Severity::error, path, message, hint});
}

void Report::warning(const std::string& path, const std::string& message, const std::string& hint) {
    add({Severity::warning, path, message, hint});
}

void Report::info(const std::string& path, const std::string& message, const std::string& hint) {
    add({Severity::info, path, message, hint});
}

void Report::add(Finding finding) {
    if (finding.path.empty()) finding.path = "config.json";
    for (auto& f : findings_)
        if (f.path == finding.path && f.message == finding.message) return;
    findings_.push_back(std::move(finding));
}

void Report::add_spec_error(const SpecError& e) {
    std::string what = e.what();
    std::string problem = what.rfind(e.json_path() + ": ", 0) == 0 ? what.substr(e.json_path().size() + 2) : what;
    error(e.json_path(), problem, hint_for_spec_problem(problem));
}

void Report::add_error_text(const std::string& text, const std::string& fallback_path, const std::string& hint) {
    auto [path, rest] = split_json_path(text);
    if (path.empty()) error(fallback_path, text, hint);
    else error(path, rest, hint);
}

size_t Report::errors() const {
    return size_t(std::count_if(findings_.begin(), findings_.end(), [](auto& f) { return f.severity == Severity::error; }));
}

size_t Report::warnings() const {
    return size_t(std::count_if(findings_.begin(), findings_.end(), [](auto& f) { return f.severity == Severity::warning; }));
}

bool Report::has_error_under(const std::string& path) const {
    for (auto& f : findings_) {
        if (f.severity != Severity::error) continue;
        if (f.path == path) return true;
        // Inside: the next character after the prefix starts a member or an index.
        if (f.path.size() > path.size() && f.path.compare(0, path.size(), path) == 0 &&
            (f.path[path.size()] == '.' || f.path[path.size()] == '['))
            return true;
    }
    return false;
}

nlohmann::json Report::to_json() const {
    nlohmann::json list = nlohmann::json::array();
    for (auto& f : findings_)
        list.push_back({{"severity", severity_name(f.severity)}, {"path", f.path}, {"message", f.message}, {"hint", f.hint}});
    return {{"findings", list}, {"summary", {{"errors", errors()}, {"warnings", warnings()}, {"ok", ok()}}}};
}

std::string Report::to_table() const {
    std::ostringstream out;
    size_t width = 4;
    for (auto& f : findings_) width = std::max(width, f.path.size());
    width = std::min<size_t>(width, 48);  // a very long path pushes its own message, not every row's
    auto pad = [](const std::string& s, size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size() + 1, ' '); };
    if (!findings_.empty()) {
        out << pad("SEVERITY", 8) << pad("PATH", width) << "MESSAGE\n";
        for (auto& f : findings_) {
            out << pad(severity_name(f.severity), 8) << pad(f.path, width) << f.message << "\n";
            if (!f.hint.empty()) out << std::string(9, ' ') << "hint: " << f.hint << "\n";
        }
    }
    size_t e = errors(), w = warnings();
    out << e << (e == 1 ? " error, " : " errors, ") << w << (w == 1 ? " warning" : " warnings") << ": "
        << (e ? "this bundle would not run here" : "this bundle would run here") << "\n";
    return out.str();
}

std::pair<std::string, std::string> split_json_path(const std::string& text) {
    if (text.empty() || text[0] != '.') return {"", text};
    auto colon = text.find(": ");
    if (colon == std::string::npos || text.find(' ') < colon) return {"", text};
    return {text.substr(0, colon), text.substr(colon + 2)};
}

std::string hint_for_spec_problem(const std::string& message) {
    auto has = [&](const char* needle) { return message.find(needle) != std::string::npos; };
    if (has("unknown capability") || has("is not supported by this kernel"))
        return "capability names are CAP_* as in capabilities(7); `crun-lite features` lists the ones this kernel has (.linux.capabilities)";
    if (has("unknown namespace")) return "namespace types are pid, network, mount, ipc, uts, user, cgroup and time";
    if (has("duplicate")) return "list each one only once";
    if (has("is not namespaced"))
        return "only sysctls of the ipc, network and uts namespaces can be set for a container; set this one on the host, or drop it";
    if (has("namespace\"") && has("requires a"))
        return "add that namespace to .linux.namespaces (e.g. {\"type\": \"" +
               message.substr(message.find('"') + 1, message.find('"', message.find('"') + 1) - message.find('"') - 1) +
               "\"}), or remove this field";
    if (has("unsupported version"))
        return "set ociVersion to a version from " + spec::accepted_spec_versions() + ", e.g. \"" + spec::kSpecVersion + "\"";
    if (has("unknown rlimit")) return "rlimit types are RLIMIT_* as in getrlimit(2), e.g. RLIMIT_NOFILE";
    if (has("unknown seccomp")) return "`crun-lite features` lists the seccomp actions, operators, architectures and flags this build knows";
    if (has("not supported by this version of crun-lite")) return "remove the field; docs/status.md lists what crun-lite supports";
    if (has("is required")) return "add this field; `crun-lite spec` writes a complete config.json to start from";
    if (has("must be an absolute path")) return "start the path with /";
    if (has("must be a string") || has("must be an integer") || has("must be a boolean") || has("must be an object") ||
        has("must be an array") || has("must be a non-empty array"))
        return "the runtime-spec (config.md, config-linux.md) gives this field's type; `crun-lite spec` writes an example";
    if (has("invalid JSON")) return "fix the JSON syntax at that line and column (`python3 -m json.tool config.json` shows it too)";
    return "the runtime-spec (config.md, config-linux.md) gives the values this field takes";
}

}  // namespace crunlite::check
