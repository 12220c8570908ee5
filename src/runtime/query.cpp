// `state` and `list`: read-only views of the state directory.
#include "crunlite/error.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/state.hpp"

namespace crunlite::runtime {

nlohmann::json state(const std::string& root, const std::string& id) {
    nlohmann::json out = state::ContainerDir::open(root, id).state_json();
    out["owner"] = "";  // runc leaves it empty here and fills it in `list`
    return out;
}

std::vector<nlohmann::json> list(const std::string& root) {
    std::vector<nlohmann::json> out;
    for (auto& id : state::list_ids(root)) {
        try {
            state::ContainerDir dir = state::ContainerDir::open(root, id);
            nlohmann::json s = dir.state_json();
            s["owner"] = dir.record().owner;
            out.push_back(std::move(s));
        } catch (const Error&) {
            // Being created or deleted right now: not a container yet, or not any more.
        }
    }
    return out;
}

}  // namespace crunlite::runtime
