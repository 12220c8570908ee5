// uid/gid maps of a new user namespace, written from outside it: for a container's init
// (launch/) and for the helper that holds an idmapped mount's user namespace (plan/).
#include "sys/id_mappings.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "crunlite/error.hpp"
#include "crunlite/unique_fd.hpp"
#include "util/subprocess.hpp"

namespace crunlite::sys {
namespace {

void write_map(pid_t pid, const char* file, const std::vector<spec::IdMapping>& mappings, const char* field) {
    std::string text;
    for (auto& m : mappings)
        text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
    std::string path = "/proc/" + std::to_string(pid) + "/" + file;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), text.data(), text.size()) != ssize_t(text.size()))
        throw Error(std::string(field) + ": write " + path, errno);
}

// newuidmap/newgidmap check /etc/subuid and /etc/subgid and write the maps with their privilege.
void run_id_map_helper(const char* helper, pid_t pid, const std::vector<spec::IdMapping>& mappings, const char* field) {
    std::vector<std::string> argv = {helper, std::to_string(pid)};
    for (auto& m : mappings) {
        argv.push_back(std::to_string(m.container_id));
        argv.push_back(std::to_string(m.host_id));
        argv.push_back(std::to_string(m.size));
    }
    subprocess::Result result = subprocess::run(argv);
    if (WIFEXITED(result.status) && WEXITSTATUS(result.status) == 127)
        throw Error(std::string(field) + ": several ranges or other ids need " + helper + " (Debian package uidmap), which is not installed");
    if (!result.succeeded())
        throw Error(std::string(field) + ": " + helper + " refused the mapping (" + subprocess::describe_exit(result.status) +
                    "; check /etc/subuid and /etc/subgid)");
}

}  // namespace

void write_id_mappings(pid_t pid, const spec::Linux& linux, bool rootless) {
    auto own_id_only = [](const std::vector<spec::IdMapping>& m, unsigned id) {
        return m.size() == 1 && m[0].size == 1 && m[0].host_id == id;
    };
    if (!rootless || (own_id_only(linux.uid_mappings, ::geteuid()) && own_id_only(linux.gid_mappings, ::getegid()))) {
        if (rootless) {
            // Without CAP_SETGID in the parent namespace, gid_map is only writable once setgroups is off.
            std::string path = "/proc/" + std::to_string(pid) + "/setgroups";
            UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
            if (!fd || ::write(fd.get(), "deny", 4) != 4) throw Error(".linux.gidMappings: write deny to " + path, errno);
        }
        write_map(pid, "uid_map", linux.uid_mappings, ".linux.uidMappings");
        write_map(pid, "gid_map", linux.gid_mappings, ".linux.gidMappings");
        return;
    }
    run_id_map_helper("newuidmap", pid, linux.uid_mappings, ".linux.uidMappings");
    run_id_map_helper("newgidmap", pid, linux.gid_mappings, ".linux.gidMappings");
}

}  // namespace crunlite::sys
