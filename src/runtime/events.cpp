#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <chrono>

#include "crunlite/cgroups.hpp"
#include "crunlite/error.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/state.hpp"

namespace crunlite::runtime {

void events(const std::string& root, const std::string& id, bool stats_once, int interval_ms, std::ostream& out) {
    auto record = [&] {
        state::StateFile state_file = state::StateFile::open(root, id);
        if (state_file.status() == state::Status::stopped) throw Error("container not running");
        return state_file.record();
    };
    state::Record r = record();
    auto emit = [&](const char* type, const nlohmann::json& data) {
        nlohmann::json event = {{"type", type}, {"id", id}};
        if (!data.is_null()) event["data"] = data;
        out << event.dump() << "\n" << std::flush;
    };
    if (stats_once) {
        emit("stats", cgroups::stats(r.cgroup_dirs));
        return;
    }
    // The kernel notifies a change of cgroup2's memory.events: the counter is read the moment an
    // OOM kill raises it. Otherwise an OOM-killed init leaves its cgroup empty, and under systemd
    // the scope's cgroup is removed, counter and all, well within the 100 ms of a poll.
    UniqueFd changes(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (changes)
        for (auto& dir : r.cgroup_dirs) ::inotify_add_watch(changes.get(), (dir + "/memory.events").c_str(), IN_MODIFY);
    uint64_t oom_kills = cgroups::oom_kill_count(r.cgroup_dirs);
    auto last_stats = std::chrono::steady_clock::now();
    for (;;) {
        // Poll the OOM counter often, emit stats at the interval; stop with the container.
        pollfd wake{changes.get(), POLLIN, 0};
        ::poll(&wake, changes ? 1 : 0, 100);
        if (wake.revents & POLLIN) {
            char drain[4096];
            while (::read(changes.get(), drain, sizeof drain) > 0) {}
        }
        // The OOM counter first: an OOM kill of init also ends the container.
        uint64_t now = cgroups::oom_kill_count(r.cgroup_dirs);
        if (now > oom_kills) emit("oom", nullptr);
        oom_kills = now;
        try {
            r = record();
        } catch (const Error&) {
            return;
        }
        if (std::chrono::steady_clock::now() - last_stats >= std::chrono::milliseconds(interval_ms)) {
            emit("stats", cgroups::stats(r.cgroup_dirs));
            last_stats = std::chrono::steady_clock::now();
        }
    }
}

}  // namespace crunlite::runtime
