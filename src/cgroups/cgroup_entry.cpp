#include "cgroups/cgroup_entry.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "crunlite/error.hpp"

namespace crunlite::cgroups {

std::vector<UniqueFd> open_v1_tasks(const std::vector<std::string>& dirs) {
    std::vector<UniqueFd> tasks;
    for (auto& dir : dirs) {
        std::string path = dir + "/tasks";
        tasks.emplace_back(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
        if (!tasks.back()) throw Error("open " + path, errno);
    }
    return tasks;
}

CgroupEntry open_cgroup_entry(const std::vector<std::string>& dirs) {
    CgroupEntry entry;
    for (auto& dir : dirs) {
        UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dir_fd) throw Error("open cgroup " + dir, errno);
        struct statfs fs{};
        if (::fstatfs(dir_fd.get(), &fs) != 0) throw Error("statfs " + dir, errno);
        if (fs.f_type == CGROUP2_SUPER_MAGIC) {
            entry.unified_dir = std::move(dir_fd);
            entry.unified_path = dir;
            continue;
        }
        UniqueFd tasks(::openat(dir_fd.get(), "tasks", O_WRONLY | O_CLOEXEC));
        if (!tasks) throw Error("open " + dir + "/tasks", errno);
        entry.v1_tasks.push_back(std::move(tasks));
        entry.v1_tasks_paths.push_back(dir + "/tasks");
    }
    return entry;
}

void enter_v1_hierarchies(std::span<const UniqueFd> tasks, const std::vector<std::string>& paths) {
    for (size_t i = 0; i < tasks.size(); ++i)
        if (::write(tasks[i].get(), "0", 1) != 1)
            throw Error("join the container's cgroup: write 0 to " + (i < paths.size() ? paths[i] : std::string("a v1 tasks file")), errno);
}

}  // namespace crunlite::cgroups
