// OCI hooks: each runs with the container's state JSON on its stdin, its own args and
// env, and an optional timeout. Used by the runtime (prestart, createRuntime, poststart,
// poststop) and by container init (createContainer, startContainer).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crunlite/spec.hpp"

namespace crunlite::hooks {

// Runs the hooks in order; throws naming the first that fails (".hooks.prestart[1]: ...")
// with its exit status and the tail of its output.
void run(const std::vector<spec::Hook>& hooks, const std::string& phase, const std::string& state_json);

// For poststart and poststop, whose failures the runtime-spec makes warnings: every hook runs,
// and each failure is logged as a warning.
void run_warning_on_failure(const std::vector<spec::Hook>& hooks, const std::string& phase, const std::string& state_json);

// The runtime-spec state object handed to hooks.
std::string state_json(const std::string& id, const std::string& status, int pid, const std::string& bundle,
                       const std::map<std::string, std::string>& annotations);

nlohmann::json to_json(const spec::Hooks& hooks);
spec::Hooks from_json(const nlohmann::json& json);

}  // namespace crunlite::hooks
