#include "crunlite/hooks.hpp"

#include "crunlite/error.hpp"
#include "crunlite/log.hpp"
#include "crunlite/runtime.hpp"
#include "util/subprocess.hpp"

namespace crunlite::hooks {
namespace {

std::string last_line(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    auto nl = text.rfind('\n');
    if (nl != std::string::npos) text = text.substr(nl + 1);
    return text.size() > 300 ? text.substr(text.size() - 300) : text;
}

// The hook gets the container's state on stdin; its stdout and stderr are kept for the message
// when it fails.
void run_one(const spec::Hook& hook, const std::string& what, const std::string& state) {
    subprocess::Options options;
    options.program = hook.path;
    options.env = hook.env;
    options.input = state;
    options.capture_stdout = options.capture_stderr = true;
    options.output_limit = 65536;
    options.timeout_seconds = hook.timeout;
    subprocess::Result result =
        subprocess::run(hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args, options);
    if (result.timed_out) throw Error(what + ": " + hook.path + " timed out after " + std::to_string(*hook.timeout) + "s");
    if (result.succeeded()) return;
    std::string tail = last_line(result.output);
    throw Error(what + ": " + hook.path + " " + subprocess::describe_exit(result.status) + (tail.empty() ? "" : ": " + tail));
}

}  // namespace

void run(const std::vector<spec::Hook>& hooks, const std::string& phase, const std::string& state_json) {
    for (size_t i = 0; i < hooks.size(); ++i)
        run_one(hooks[i], ".hooks." + phase + "[" + std::to_string(i) + "]", state_json);
}

void run_warning_on_failure(const std::vector<spec::Hook>& hooks, const std::string& phase, const std::string& state_json) {
    for (size_t i = 0; i < hooks.size(); ++i) {
        try {
            run_one(hooks[i], ".hooks." + phase + "[" + std::to_string(i) + "]", state_json);
        } catch (const Error& e) {
            log::warning(e.what());
        }
    }
}

std::string state_json(const std::string& id, const std::string& status, int pid, const std::string& bundle,
                       const std::map<std::string, std::string>& annotations) {
    nlohmann::json state = {{"ociVersion", runtime::kSpecVersion}, {"id", id}, {"status", status}, {"pid", pid}, {"bundle", bundle}};
    if (!annotations.empty()) state["annotations"] = annotations;
    return state.dump();
}

nlohmann::json to_json(const spec::Hooks& hooks) {
    auto list = [](const std::vector<spec::Hook>& hs) {
        nlohmann::json out = nlohmann::json::array();
        for (auto& h : hs) {
            nlohmann::json j = {{"path", h.path}, {"args", h.args}, {"env", h.env}};
            if (h.timeout) j["timeout"] = *h.timeout;
            out.push_back(j);
        }
        return out;
    };
    return {{"poststart", list(hooks.poststart)}, {"poststop", list(hooks.poststop)}};
}

spec::Hooks from_json(const nlohmann::json& json) {
    spec::Hooks hooks;
    auto list = [&](const char* key, std::vector<spec::Hook>& out) {
        if (!json.contains(key)) return;
        for (auto& j : json[key]) {
            spec::Hook h;
            h.path = j.value("path", "");
            h.args = j.value("args", std::vector<std::string>{});
            h.env = j.value("env", std::vector<std::string>{});
            if (j.contains("timeout")) h.timeout = j["timeout"].get<int>();
            out.push_back(h);
        }
    };
    list("poststart", hooks.poststart);
    list("poststop", hooks.poststop);
    return hooks;
}

}  // namespace crunlite::hooks
