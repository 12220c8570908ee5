#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "crunlite/cgroups.hpp"
#include "cgroups/cgroup_file.hpp"
#include "crunlite/error.hpp"

namespace crunlite::cgroups {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return content;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

struct Freezer {
    std::string file;   // freezer.state or cgroup.freeze
    bool v1 = false;
};

std::optional<Freezer> find_freezer(const std::vector<std::string>& dirs) {
    for (auto& dir : dirs)
        if (exists(dir + "/freezer.state")) return Freezer{dir + "/freezer.state", true};
    for (auto& dir : dirs)
        if (exists(dir + "/cgroup.freeze")) return Freezer{dir + "/cgroup.freeze", false};
    return std::nullopt;
}

bool reports_frozen(const Freezer& f, bool frozen) {
    if (f.v1) return read_file(f.file).rfind(frozen ? "FROZEN" : "THAWED", 0) == 0;
    std::string events = read_file(f.file.substr(0, f.file.rfind('/')) + "/cgroup.events");
    return events.find(frozen ? "frozen 1" : "frozen 0") != std::string::npos;
}

}  // namespace

void set_frozen(const std::vector<std::string>& dirs, bool frozen) {
    auto freezer = find_freezer(dirs);
    if (!freezer) throw Error("the container's cgroups have no freezer");
    std::string value = freezer->v1 ? (frozen ? "FROZEN" : "THAWED") : (frozen ? "1" : "0");
    for (int attempt = 0; attempt < 1000; ++attempt) {
        // v1 can fall back to FREEZING and need the write again while tasks are forking.
        write_cgroup_file(freezer->file, value);
        if (reports_frozen(*freezer, frozen)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    throw Error(std::string("the container did not ") + (frozen ? "freeze" : "thaw") + " in time");
}

bool is_frozen(const std::vector<std::string>& dirs) {
    auto freezer = find_freezer(dirs);
    if (!freezer) return false;
    if (freezer->v1) return read_file(freezer->file).rfind("THAWED", 0) != 0;
    return read_file(freezer->file).rfind("1", 0) == 0;
}

}  // namespace crunlite::cgroups
