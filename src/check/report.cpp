// The findings of `crun-lite check` and their two renderings (a table, JSON).
#include <algorithm>
#include <sstream>

#include "crunlite/check.hpp"
#include "crunlite/error.hpp"

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

void Report::add_error(const Error& e, const std::string& fallback_path, const std::string& fallback_hint) {
    error(e.json_path().empty() ? fallback_path : e.json_path(), e.problem(), e.hint().empty() ? fallback_hint : e.hint());
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

}  // namespace crunlite::check
