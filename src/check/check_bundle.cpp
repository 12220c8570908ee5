// `crun-lite check`: config errors first (all of them), then the host checks.
#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "spec/hints.hpp"
#include "check/checks.hpp"
#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "plan/planner.hpp"

namespace crunlite::check {

std::string read_small_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return "";
    std::string text;
    std::getline(in, text, '\0');
    return text;
}

std::string Context::item_path(const Report& report, const std::string& list_path, size_t n) const {
    std::string pointer = list_path;
    std::replace(pointer.begin(), pointer.end(), '.', '/');
    size_t size = 0;
    try {
        nlohmann::json::json_pointer ptr(pointer);
        if (config.contains(ptr) && config.at(ptr).is_array()) size = config.at(ptr).size();
    } catch (const nlohmann::json::exception&) {
    }
    size_t kept = 0;
    for (size_t i = 0; i < size; ++i) {
        std::string path = list_path + "[" + std::to_string(i) + "]";
        if (report.has_error_under(path)) continue;
        if (kept++ == n) return path;
    }
    return list_path + "[" + std::to_string(n) + "]";
}

namespace {

void plan_as_create_would(const Context& ctx, Report& report) {
    spec::Spec spec = ctx.spec;
    if (!spec.process) spec.process = spec::Process{};
    planning::CreateTarget target;
    target.id = "check";
    target.bundle = ctx.bundle;
    target.layout = cgroups::detect_layout();
    target.has_process = ctx.spec.process.has_value();
    try {
        if (ctx.rootless) planning::check_rootless(spec);
        runtime::CreateOptions options;
        options.bundle = ctx.bundle;
        planning::plan_create(spec, options, target);
    } catch (const Error& e) {
        report.add_error(e, "", "");
    }
}

}  // namespace

Report check_bundle(const std::string& bundle_arg, bool rootless, bool systemd_cgroup, bool checkpoint) {
    Report report;
    char resolved[PATH_MAX];
    if (!::realpath(bundle_arg.c_str(), resolved)) {
        report.error("config.json", "bundle " + bundle_arg + ": " + Error::errno_text(errno),
                     "give the bundle directory (the one holding config.json) with --bundle");
        return report;
    }
    std::string bundle = resolved;
    nlohmann::json config;
    try {
        config = spec::read_config(bundle);
    } catch (const Error& e) {
        bool missing = e.error_number() == ENOENT;
        report.add_error(e, "config.json",
                         missing ? "`crun-lite spec --bundle " + bundle_arg + "` writes a default config.json" : spec::hints::kValues);
        return report;
    }
    std::vector<SpecError> errors;
    spec::Spec spec = spec::parse_spec_collecting(config, errors);
    for (auto& e : errors) report.add_error(e, "", spec::hints::kValues);
    for (auto& w : spec.warnings) report.warning(w.path, w.message, w.hint);
    if (!config.is_object()) return report;
    if (!spec.root.path.empty()) spec.root.path = spec::absolute_root_path(bundle, spec.root.path);

    Context ctx{config, spec, bundle, rootless, systemd_cgroup, checkpoint};
    check_root_and_executable(ctx, report);
    check_process(ctx, report);
    check_namespaces(ctx, report);
    if (ctx.systemd_cgroup) check_systemd(ctx, report);
    check_cgroups(ctx, report);
    check_seccomp(ctx, report);
    check_mounts_and_hooks(ctx, report);
    check_placement(ctx, report);
    if (ctx.checkpoint) check_checkpoint(ctx, report);
    // Last, on a config the rules above passed: the planner itself, as create calls it. What
    // create would refuse before it makes anything, check reports from the same code, so no
    // rule of its own can miss it (nothing is created: the plan's descriptors close with it).
    if (report.ok()) plan_as_create_would(ctx, report);
    return report;
}

}  // namespace crunlite::check
