#include <poll.h>

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
    uint64_t oom_kills = cgroups::oom_kill_count(r.cgroup_dirs);
    int waited = 0;
    for (;;) {
        // Poll the OOM counter often, emit stats at the interval; stop with the container.
        ::poll(nullptr, 0, 100);
        waited += 100;
        // The OOM counter first: an OOM kill of init also ends the container.
        uint64_t now = cgroups::oom_kill_count(r.cgroup_dirs);
        if (now > oom_kills) emit("oom", nullptr);
        oom_kills = now;
        try {
            r = record();
        } catch (const Error&) {
            return;
        }
        if (waited >= interval_ms) {
            emit("stats", cgroups::stats(r.cgroup_dirs));
            waited = 0;
        }
    }
}

}  // namespace crunlite::runtime
