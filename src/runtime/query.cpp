// `state` and `list`: read-only views of the state directory.
#include <sys/stat.h>

#include <fstream>

#include "../util/passwd.hpp"
#include "crunlite/error.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/state.hpp"

namespace crunlite::runtime {
namespace {

// As runc: the user owning the container's state directory (looked up here, not at create,
// where a passwd lookup through NSS would cost every start).
std::string owner_of(const state::ContainerDir& dir) {
    if (!dir.record().owner.empty()) return dir.record().owner;  // state written by an older crun-lite
    struct stat st{};
    if (::stat(dir.path().c_str(), &st) != 0) return "";
    std::string name = passwd_user_name(st.st_uid);
    return name.empty() ? "#" + std::to_string(st.st_uid) : name;
}

}  // namespace

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
            s["owner"] = owner_of(dir);
            out.push_back(std::move(s));
        } catch (const Error&) {
            // Being created or deleted right now: not a container yet, or not any more.
        }
    }
    return out;
}

}  // namespace crunlite::runtime
