// pause, resume and ps: the commands that act on a container's cgroup as a whole.
#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/state.hpp"

namespace crunlite::runtime {

void pause(const std::string& root, const std::string& id) {
    state::StateFile state_file = state::StateFile::open(root, id);
    state::Status status = state_file.status();
    if (status != state::Status::running)
        throw Error(std::string("container not running (it is ") + state::status_name(status) + ")");
    cgroups::set_frozen(state_file.record().cgroup_dirs, true);
}

void resume(const std::string& root, const std::string& id) {
    state::StateFile state_file = state::StateFile::open(root, id);
    if (state_file.status() != state::Status::paused) throw Error("container not paused");
    cgroups::set_frozen(state_file.record().cgroup_dirs, false);
}

std::vector<int> pids(const std::string& root, const std::string& id) {
    state::StateFile state_file = state::StateFile::open(root, id);
    if (state_file.status() == state::Status::stopped) return {};
    return cgroups::pids_in(state_file.record().cgroup_dirs);
}

}  // namespace crunlite::runtime
