// /dev inside the container: the standard devices, its symlinks, and linux.devices.
// Device nodes are made with mknod, or bind-mounted from the host inside a user
// namespace (where mknod is not allowed).
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "crunlite/error.hpp"
#include "sys/in_root.hpp"
#include "init/init_steps.hpp"
#include "sys/mount_api.hpp"

namespace crunlite::init {
namespace {

struct NodeRequest {
    std::string path;  // inside the container, e.g. /dev/null
    mode_t type;       // S_IFCHR, S_IFBLK, S_IFIFO
    dev_t device;
    mode_t permissions;
    uid_t uid;
    gid_t gid;
    std::string what;       // for errors: ".linux.devices[2]", or "default device /dev/null"
    std::string json_path;  // ".linux.devices[2].path"; empty for a default device
};

// The directory nodes go in, opened once for a run of nodes in the same one (/dev).
struct ParentDirectory {
    std::string path;
    UniqueFd fd;
    bool owner_is_ours = false;  // new nodes get our uid and gid: no chown needed for 0:0
    bool fresh = false;          // in a tmpfs init made: what is in it may be replaced
};

// wanted: the requested node is there, or (a default device) what is there is kept.
enum class Existing { none, wanted, replace, mount_over };

// What is at the node's path already: nothing, the requested node (kept), or something else.
// Something else is replaced only in a fresh filesystem (our /dev tmpfs). Anywhere else it is a
// file of the image, or of the host under a bind mount: the runtime-spec asks for an error when
// it does not match the device, and replacing it would change the image on disk.
Existing inspect_existing(const InitPlan& plan, const NodeRequest& node, const ParentDirectory& parent, const std::string& name) {
    struct stat st{};
    if (::fstatat(parent.fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return Existing::none;
        throw Error(node.what + ": stat " + node.path, errno);
    }
    if ((st.st_mode & S_IFMT) == node.type && st.st_rdev == node.device) return Existing::wanted;
    if (S_ISDIR(st.st_mode)) throw Error(node.what + ": " + node.path + " is a directory");
    if (parent.fresh) return Existing::replace;
    if (node.json_path.empty()) {
        // A default device in a user namespace is a bind mount: over a regular file (such as the
        // placeholder an earlier run left) it covers the file and leaves it unchanged. Otherwise
        // what the image or a volume has is kept, as runc keeps it: never replaced on disk.
        if (plan.in_user_ns && S_ISREG(st.st_mode)) return Existing::mount_over;
        return Existing::wanted;
    }
    throw Error(JsonPath{node.json_path}, node.path + " already exists and is not this device; a device node replaces a file "
                                          "only in a tmpfs mounted for the container (such as /dev), never in the image or a bind mount");
}

void remove_existing(const NodeRequest& node, const ParentDirectory& parent, const std::string& name) {
    // Never followed: a symlink the image put there is removed, not its target.
    if (::unlinkat(parent.fd.get(), name.c_str(), 0) != 0) throw Error(node.what + ": remove " + node.path, errno);
}

// Inside a user namespace mknod is not allowed: the host's node is bind-mounted onto a file.
void bind_host_node(const InitPlan& plan, const NodeRequest& node, const ParentDirectory& parent, const std::string& name) {
    int at = parent.fd.get();
    switch (inspect_existing(plan, node, parent, name)) {
    case Existing::wanted: return;
    case Existing::replace: remove_existing(node, parent, name); [[fallthrough]];
    case Existing::none: {
        UniqueFd placeholder(::openat(at, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!placeholder) throw Error(node.what + ": create " + node.path, errno);
        break;
    }
    case Existing::mount_over: break;
    }
    UniqueFd target(::openat(at, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!target) throw Error(node.what + ": open " + node.path, errno);
    UniqueFd host = sys::clone_tree(AT_FDCWD, node.path, false, node.what);
    sys::attach(host.get(), target.get(), node.what);
}

// Returns false when the node was there already.
bool make_node(const InitPlan& plan, const NodeRequest& node, const ParentDirectory& parent, const std::string& name) {
    int at = parent.fd.get();
    if (::mknodat(at, name.c_str(), node.type | node.permissions, node.device) == 0) return true;
    if (errno != EEXIST) throw Error(node.what + ": mknod " + node.path, errno);
    switch (inspect_existing(plan, node, parent, name)) {
    case Existing::wanted: return false;
    case Existing::replace: remove_existing(node, parent, name); break;
    case Existing::none: break;  // gone since mknod: made again below
    case Existing::mount_over: break;  // never for a mknod (not in a user namespace)
    }
    if (::mknodat(at, name.c_str(), node.type | node.permissions, node.device) != 0)
        throw Error(node.what + ": mknod " + node.path, errno);
    return true;
}

void create_node(const InitPlan& plan, const FreshFilesystems& fresh, int root_fd, const NodeRequest& node, ParentDirectory& parent) {
    auto [parent_path, name] = sys::split_parent(node.path);
    if (!parent.fd || parent.path != parent_path) {
        try {
            // /dev itself must not be a symlink out of the root (CVE-2026-41579).
            parent.fd = sys::make_directory_in_root(root_fd, parent_path);
        } catch (const Error& e) {
            throw Error(node.what + ": " + e.what());
        }
        parent.path = parent_path;
        struct stat dir{};
        bool stated = ::fstat(parent.fd.get(), &dir) == 0;
        // A set-group-ID directory would give new nodes its group.
        parent.owner_is_ours = stated && !(dir.st_mode & S_ISGID);
        parent.fresh = stated && fresh.contains(dir.st_dev);
    }
    if (plan.in_user_ns && node.type != S_IFIFO) return bind_host_node(plan, node, parent, name);
    if (!make_node(plan, node, parent, name)) return;
    bool owned = parent.owner_is_ours && node.uid == ::geteuid() && node.gid == ::getegid();
    if (!owned && ::fchownat(parent.fd.get(), name.c_str(), node.uid, node.gid, AT_SYMLINK_NOFOLLOW) != 0)
        throw Error(node.what + ": chown " + node.path, errno);
}

}  // namespace

void create_devices(const InitPlan& plan, int root_fd, const FreshFilesystems& fresh) {
    static const struct { const char* name; unsigned major, minor; } standard[] = {
        {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
    };
    const spec::Spec& spec = *plan.spec;
    auto configured = [&](const std::string& path) {
        for (auto& d : spec.linux.devices)
            if (d.path == path) return true;
        return false;
    };
    ParentDirectory parent;
    for (auto& d : standard) {
        std::string path = std::string("/dev/") + d.name;
        if (configured(path)) continue;  // linux.devices overrides the default node
        create_node(plan, fresh, root_fd, {path, S_IFCHR, makedev(d.major, d.minor), 0666, 0, 0, "default device " + path, ""}, parent);
    }
    for (size_t i = 0; i < spec.linux.devices.size(); ++i) {
        const spec::Device& d = spec.linux.devices[i];
        mode_t type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
        std::string field = ".linux.devices[" + std::to_string(i) + "]";
        create_node(plan, fresh, root_fd,
                    {d.path, type, makedev(unsigned(d.major), unsigned(d.minor)), d.file_mode.value_or(0666) & 07777,
                     d.uid.value_or(0), d.gid.value_or(0), field, field + ".path"},
                    parent);
    }

    UniqueFd dev = sys::open_in_root(root_fd, "/dev", O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
    if (!dev) throw Error("open /dev in the container's root", errno);
    static const std::pair<const char*, const char*> links[] = {
        {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
    };
    for (auto& [target, name] : links) {
        if (std::string(name) == "ptmx") {
            struct stat st{};
            // An image's own ptmx node would bypass the container's devpts instance.
            if (::fstatat(dev.get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode))
                ::unlinkat(dev.get(), name, 0);
        }
        if (::symlinkat(target, dev.get(), name) != 0 && errno != EEXIST) throw Error(std::string("symlink /dev/") + name, errno);
    }
    if (::access("/proc/kcore", F_OK) == 0 && ::symlinkat("/proc/kcore", dev.get(), "core") != 0 && errno != EEXIST)
        throw Error("symlink /dev/core", errno);
}

}  // namespace crunlite::init
