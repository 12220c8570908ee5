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

#include "crunlite/error.hpp"
#include "crunlite/spec.hpp"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void check_invariants(const crunlite::spec::Spec& spec) {
    using namespace crunlite::spec;
    check(!spec.root.path.empty());
    check(spec.linux.find_namespace(NamespaceKind::mount) != nullptr);
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
