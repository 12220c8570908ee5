#include "criu/container_image.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "crunlite/error.hpp"
#include "crunlite/state.hpp"
#include "crunlite/unique_fd.hpp"
#include "sys/in_root.hpp"

namespace crunlite::criu {
namespace {

bool is_bind(const spec::Mount& m) {
    return m.type == "bind" || std::any_of(m.options.begin(), m.options.end(), [](const std::string& o) { return o == "bind" || o == "rbind"; });
}

std::string host_source(const spec::Mount& m, const std::string& bundle) {
    return !m.source.empty() && m.source[0] == '/' ? m.source : bundle + "/" + m.source;
}

// A masked path that exists in the container as something other than a directory: init bound
// the host's /dev/null over it (directories get a tmpfs, which CRIU dumps itself).
bool masked_file(int init_pid, const std::string& path) {
    struct stat st{};
    std::string in_container = "/proc/" + std::to_string(init_pid) + "/root" + path;
    return ::stat(in_container.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

bool under(const std::string& path, const std::string& dir) {
    return dir == "/" || path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

bool under_a_tmpfs(const spec::Spec& spec, const std::string& destination) {
    return std::any_of(spec.mounts.begin(), spec.mounts.end(), [&](const spec::Mount& m) {
        return m.type == "tmpfs" && m.destination != destination && under(destination, m.destination);
    });
}

// The destination as an --ext-mount-map key: CRIU splits KEY:VALUE at the first ':'.
const std::string& checked_key(const spec::Spec& spec, const spec::Mount& m) {
    if (m.destination.find(':') != std::string::npos)
        throw Error(JsonPath{".mounts[" + std::to_string(&m - spec.mounts.data()) + "].destination"},
                    "a bind mount's destination with ':' cannot be named to CRIU (--ext-mount-map KEY:VALUE)");
    return m.destination;
}

// The mount IDs of the mount namespace of process `pid`.
std::set<unsigned long> mount_ids(int pid) {
    std::set<unsigned long> ids;
    std::ifstream mountinfo("/proc/" + std::to_string(pid) + "/mountinfo");
    std::string line;
    while (std::getline(mountinfo, line)) ids.insert(std::strtoul(line.c_str(), nullptr, 10));
    return ids;
}

}  // namespace

void make_bind_mount_points(const spec::Spec& spec, const std::string& bundle) {
    UniqueFd root(::open(spec.root.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw Error(JsonPath{".root.path"}, "restore: open " + spec.root.path, errno);
    for (size_t i = 0; i < spec.mounts.size(); ++i) {
        const spec::Mount& m = spec.mounts[i];
        if (!is_bind(m) || under_a_tmpfs(spec, m.destination)) continue;
        struct stat source{};
        bool directory = ::stat(host_source(m, bundle).c_str(), &source) == 0 && S_ISDIR(source.st_mode);
        try {
            if (directory)
                sys::make_directory_in_root(root.get(), m.destination);
            else
                sys::make_file_in_root(root.get(), m.destination);
        } catch (const Error& e) {
            throw Error(JsonPath{".mounts[" + std::to_string(i) + "].destination"}, std::string("restore: make the mount point: ") + e.what());
        }
    }
}

std::vector<ExternalMount> dump_external_mounts(const spec::Spec& spec, int init_pid) {
    std::vector<ExternalMount> out;
    for (const spec::Mount& m : spec.mounts)
        if (is_bind(m)) out.push_back({checked_key(spec, m), m.destination});
    for (const std::string& path : spec.linux.masked_paths)
        if (masked_file(init_pid, path)) out.push_back({path, kMaskedFileName});
    return out;
}

std::vector<ExternalMount> restore_external_mounts(const spec::Spec& spec, const std::string& bundle) {
    std::vector<ExternalMount> out;
    for (const spec::Mount& m : spec.mounts)
        if (is_bind(m)) out.push_back({checked_key(spec, m), host_source(m, bundle)});
    if (!spec.linux.masked_paths.empty()) out.push_back({kMaskedFileName, "/dev/null"});
    return out;
}

void save_descriptors(const std::string& image_dir, int init_pid) {
    nlohmann::json targets = nlohmann::json::array();
    for (int fd = 0; fd <= 2; ++fd) {
        char target[PATH_MAX];
        std::string link = "/proc/" + std::to_string(init_pid) + "/fd/" + std::to_string(fd);
        ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
        targets.push_back(n < 0 ? std::string("/dev/null") : std::string(target, size_t(n)));
    }
    state::write_file_atomically(image_dir + "/" + kDescriptorsFile, targets.dump(), 0600);
}

std::vector<std::string> load_descriptors(const std::string& image_dir) {
    std::string path = image_dir + "/" + kDescriptorsFile;
    std::ifstream in(path);
    if (!in) throw Error("open " + path, errno, "give the --image-path a checkpoint wrote");
    try {
        return nlohmann::json::parse(in).get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception&) {
        throw Error(path + ": not a list of descriptor targets");
    }
}

std::vector<ExternalStdio> external_stdio(int init_pid) {
    std::vector<ExternalStdio> out;
    std::set<unsigned long> container_mounts = mount_ids(init_pid);
    for (int fd = 0; fd <= 2; ++fd) {
        std::string proc = "/proc/" + std::to_string(init_pid);
        char target[PATH_MAX];
        ssize_t n = ::readlink((proc + "/fd/" + std::to_string(fd)).c_str(), target, sizeof target - 1);
        if (n <= 0 || target[0] != '/') continue;  // closed, or a pipe, socket or anonymous inode
        struct stat st{};
        if (::stat((proc + "/fd/" + std::to_string(fd)).c_str(), &st) != 0) continue;
        std::ifstream fdinfo(proc + "/fdinfo/" + std::to_string(fd));
        std::string field;
        unsigned long mnt_id = 0;
        bool found = false;
        while (fdinfo >> field)
            if (field == "mnt_id:" && (fdinfo >> mnt_id)) {
                found = true;
                break;
            }
        // A file the container's own mounts show (its log, say) is CRIU's to dump as it is.
        if (!found || container_mounts.count(mnt_id)) continue;
        char key[64];
        std::snprintf(key, sizeof key, "file[%lx:%llx]", mnt_id, (unsigned long long)st.st_ino);
        out.push_back({fd, key});
    }
    return out;
}

void save_external_stdio(const std::string& image_dir, const std::vector<ExternalStdio>& files) {
    nlohmann::json by_fd = nlohmann::json::object();
    for (const ExternalStdio& f : files) by_fd[std::to_string(f.fd)] = f.key;
    state::write_file_atomically(image_dir + "/" + kExternalStdioFile, by_fd.dump(), 0600);
}

std::vector<ExternalStdio> load_external_stdio(const std::string& image_dir) {
    std::string path = image_dir + "/" + kExternalStdioFile;
    std::ifstream in(path);
    if (!in) return {};
    std::vector<ExternalStdio> out;
    try {
        nlohmann::json by_fd = nlohmann::json::parse(in);  // kept: items() refers into it
        for (auto& [fd, key] : by_fd.items()) out.push_back({std::stoi(fd), key.get<std::string>()});
    } catch (const std::exception&) {
        throw Error(path + ": not a map of descriptors to CRIU external files");
    }
    return out;
}

}  // namespace crunlite::criu
