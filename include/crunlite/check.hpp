// `crun-lite check`: a preflight of a bundle. Every problem of config.json is reported at once
// (not just the first), then the bundle is checked against this host: would `create` work here?
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace crunlite {
class Error;
}

namespace crunlite::check {

// info: what the runtime will do on this host (the systemd unit properties), not a problem.
enum class Severity { error, warning, info };
const char* severity_name(Severity severity);

struct Finding {
    Severity severity = Severity::error;
    std::string path;     // JSON path in config.json (".process.args[0]"), or "config.json" for the file itself
    std::string message;  // what is wrong
    std::string hint;     // how to fix it
};

// The findings of one check, in the order found; the same (path, message) is kept once.
class Report {
public:
    void error(const std::string& path, const std::string& message, const std::string& hint);
    void warning(const std::string& path, const std::string& message, const std::string& hint);
    void info(const std::string& path, const std::string& message, const std::string& hint = "");
    void add(Finding finding);
    // An error about the config: at its JSON path, with its problem (what failed and the errno
    // text) as the message and its hint; `fallback_path` and `fallback_hint` for an error that
    // has none.
    void add_error(const Error& e, const std::string& fallback_path, const std::string& fallback_hint);

    const std::vector<Finding>& findings() const { return findings_; }
    size_t errors() const;
    size_t warnings() const;
    bool ok() const { return errors() == 0; }
    // True when an error was reported at `path` or inside it (".mounts[2]" covers
    // ".mounts[2].source"): host checks of a part the config parse already refused are skipped.
    bool has_error_under(const std::string& path) const;

    // {"findings": [{"severity","path","message","hint"}...], "summary": {"errors","warnings","ok"}}
    nlohmann::json to_json() const;
    // A table for people: severity, path, message, and the hint on the line below.
    std::string to_table() const;

private:
    std::vector<Finding> findings_;
};

// Checks <bundle>/config.json and the host; `rootless`: as an unprivileged user would run it;
// `systemd_cgroup`: as `--systemd-cgroup create` would place it (systemd answers, the unit name,
// the properties the unit will carry); `checkpoint`: whether CRIU can checkpoint and restore it here.
Report check_bundle(const std::string& bundle, bool rootless, bool systemd_cgroup = false, bool checkpoint = false);

}  // namespace crunlite::check
