// libFuzzer target: config.json bytes -> validated Spec, exactly as load_bundle parses them
// (spec::parse_config: nlohmann with the 64-level depth bound, parse_spec, the cross-field rules,
// the refusal of unimplemented fields). The same JSON is also read as an `exec --process` file
// (parse_process) and an `update --resources` file (parse_resources).
//
// Anything but a crunlite::Error escaping is a bug: a nlohmann type_error, std::out_of_range and
// the like mean a field was read without its type being checked. So are ASan/UBSan reports and
// a Spec that parsed but breaks an invariant the runtime relies on (checked below).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "crunlite/error.hpp"
#include "crunlite/spec.hpp"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

bool any_nul(const std::vector<std::string>& list) {
    for (auto& s : list)
        if (has_nul(s)) return true;
    return false;
}

// No string that reaches a syscall holds a NUL (it would be cut short there), cgroupsPath holds
// no control character, and errnoRet goes only with the actions that return one (issue 24).
void check_strings(const crunlite::spec::Spec& spec) {
    using namespace crunlite::spec;
    auto takes_errno = [](const std::string& action) { return action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE"; };
    check(!has_nul(spec.root.path) && !has_nul(spec.hostname) && !has_nul(spec.domainname));
    if (spec.process) check(!any_nul(spec.process->args) && !any_nul(spec.process->env) && !has_nul(spec.process->cwd));
    for (auto& m : spec.mounts) check(!has_nul(m.destination) && !has_nul(m.source) && !has_nul(m.type) && !any_nul(m.options));
    for (auto& d : spec.linux.devices) check(!has_nul(d.path));
    for (auto& [key, value] : spec.linux.sysctl) check(!has_nul(key) && !has_nul(value));
    for (unsigned char ch : spec.linux.cgroups_path) check(ch >= 0x20 && ch != 0x7f);
    if (spec.linux.seccomp) {
        check(!spec.linux.seccomp->default_errno_ret || takes_errno(spec.linux.seccomp->default_action));
        for (auto& rule : spec.linux.seccomp->syscalls) check(!rule.errno_ret || takes_errno(rule.action));
    }
}

void check_invariants(const crunlite::spec::Spec& spec) {
    using namespace crunlite::spec;
    check_strings(spec);
    check(!spec.root.path.empty());
    // No mount namespace is a valid config (the container works in the host's: runtime/host_root.hpp).
    if (spec.process) {
        check(!spec.process->args.empty());
        check(!spec.process->cwd.empty() && spec.process->cwd[0] == '/');
        for (auto& e : spec.process->env) check(e.find('=') != std::string::npos && e[0] != '=');
        check(spec.process->user.uid <= 0x7fffffffu && spec.process->user.gid <= 0x7fffffffu);
    }
    for (auto& m : spec.mounts) check(!m.destination.empty() && m.destination[0] == '/');
    for (auto& d : spec.linux.devices) check(!d.path.empty() && d.path[0] == '/');
    for (auto& p : spec.linux.masked_paths) check(!p.empty() && p[0] == '/');
    for (auto& p : spec.linux.readonly_paths) check(!p.empty() && p[0] == '/');
    for (auto* hooks : {&spec.hooks.prestart, &spec.hooks.create_runtime, &spec.hooks.create_container,
                        &spec.hooks.start_container, &spec.hooks.poststart, &spec.hooks.poststop})
        for (auto& h : *hooks) check(!h.path.empty() && h.path[0] == '/' && (!h.timeout || *h.timeout > 0));
    if (spec.linux.seccomp)
        for (auto& rule : spec.linux.seccomp->syscalls) {
            check(!rule.names.empty());
            for (auto& a : rule.args) check(a.index <= 5);
        }
    if (spec.linux.resources)
        for (auto& [key, value] : spec.linux.resources->unified)
            check(!key.empty() && key.find('/') == std::string::npos && key != "." && key != "..");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    {
        std::istringstream in(text);
        try {
            check_invariants(crunlite::spec::parse_config(in));
        } catch (const crunlite::Error&) {
        }
    }
    // `exec --process FILE` and `update --resources FILE` read a bare JSON object.
    nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) return 0;
    try {
        crunlite::spec::parse_process(json, "");
    } catch (const crunlite::SpecError&) {
    }
    try {
        crunlite::spec::parse_resources(json, "");
    } catch (const crunlite::SpecError&) {
    }
    return 0;
}
