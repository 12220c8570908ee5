// `state` and `list`: read-only views of the state files.
#include <sys/stat.h>

#include <fstream>

#include "util/passwd.hpp"
#include "crunlite/error.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/state.hpp"

namespace crunlite::runtime {
namespace {

// As runc: the user owning the container's state file (looked up here, not at create,
// where a passwd lookup through NSS would cost every start).
std::string owner_of(const state::StateFile& state_file) {
    if (!state_file.record().owner.empty()) return state_file.record().owner;  // state written by an older crun-lite
    struct stat st{};
    if (::stat(state_file.path().c_str(), &st) != 0) return "";
    std::string name = passwd_user_name(st.st_uid);
    return name.empty() ? "#" + std::to_string(st.st_uid) : name;
}

}  // namespace

nlohmann::json state(const std::string& root, const std::string& id) {
    nlohmann::json out = state::StateFile::open(root, id).state_json();
    out["owner"] = "";  // runc leaves it empty here and fills it in `list`
    return out;
}

std::vector<nlohmann::json> list(const std::string& root) {
    std::vector<nlohmann::json> out;
    for (auto& id : state::list_ids(root)) {
        try {
            state::StateFile state_file = state::StateFile::open(root, id);
            nlohmann::json s = state_file.state_json();
            s["owner"] = owner_of(state_file);
            out.push_back(std::move(s));
        } catch (const Error&) {
            // Being created or deleted right now: not a container yet, or not any more.
        }
    }
    return out;
}

}  // namespace crunlite::runtime
