// config.json "mounts", in order, each built detached and attached by fd to a target
// resolved inside the root.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <sstream>

#include "crunlite/error.hpp"
#include "sys/in_root.hpp"
#include "init/init_steps.hpp"
#include "sys/mount_api.hpp"
#include "plan/idmapped_bind.hpp"

namespace crunlite::init {
namespace {

void copy_tree(int from_dir, int to_dir, const std::string& what);

UniqueFd open_target(const PlannedMount& m, int root_fd) {
    const std::string& dest = m.config->destination;
    if (m.options.dest_nofollow) {
        // The destination as the image has it, a symlink included (its last component is not
        // followed; the ones before are resolved in-root as always). It must exist.
        UniqueFd fd = sys::open_in_root(root_fd, dest, O_PATH | O_NOFOLLOW);
        if (!fd) throw Error(m.json_path + ".destination: open " + dest + " (dest-nofollow: it must exist in the image)", errno);
        return fd;
    }
    // procfs and sysfs are where the runtime and the kernel's own checks look: a symlink
    // there is an attack (CVE-2019-19921 and its successors), never a layout choice.
    if (m.config->type == "proc" || m.config->type == "sysfs") {
        UniqueFd fd = sys::open_in_root(root_fd, dest, O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
        if (fd) return fd;
        if (errno == ELOOP) throw Error(m.json_path + ".destination: " + dest + " is a symlink; refusing to mount " + m.config->type + " there");
        if (errno != ENOENT) throw Error(m.json_path + ".destination: open " + dest, errno);
    }
    try {
        return m.target_is_directory ? sys::make_directory_in_root(root_fd, dest) : sys::make_file_in_root(root_fd, dest);
    } catch (const Error& e) {
        throw Error(m.json_path + ".destination: " + e.what());
    }
}

void mount_bind(const PlannedMount& m, int target_fd) {
    if (m.idmapped_tree) {  // made whole by the runtime (plan/idmapped_bind.hpp)
        sys::attach(m.idmapped_tree.get(), target_fd, m.json_path);
        return;
    }
    UniqueFd tree = planning::bind_tree(m);
    sys::attach(tree.get(), target_fd, m.json_path);
}

void mount_filesystem(const InitPlan& plan, const PlannedMount& m, int target_fd, FreshFilesystems& fresh) {
    const MountOptions& o = m.options;
    auto fs_options = o.fs_options;
    // SELinux: filesystems the container gets carry its mount label, as a context= option
    // (fsconfig takes the value as it is: the quotes that keep a label's commas apart belong to
    // mount(2)'s data string only). proc, sysfs and cgroup take none; mqueue refuses the option
    // and has its root relabelled instead, as runc does.
    const std::string& type = m.config->type;
    bool label_option = !plan.mount_label.empty() && type != "proc" && type != "sysfs" && type != "cgroup" && type != "cgroup2" &&
                        type != "mqueue";
    if (label_option) fs_options.emplace_back("context", plan.mount_label);
    UniqueFd mnt = sys::make_filesystem(m.config->type, m.config->source, fs_options, o.attr_set | o.recursive_attr_set, m.json_path,
                                        o.fs_option_paths);
    if (!plan.mount_label.empty() && type == "mqueue") {
        UniqueFd root(::openat(mnt.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));  // xattrs want more than O_PATH
        if (!root || ::fsetxattr(root.get(), "security.selinux", plan.mount_label.data(), plan.mount_label.size(), 0) != 0)
            throw Error(m.json_path + ": label the mqueue filesystem with .linux.mountLabel", errno);
    }
    if (o.tmpcopyup) {
        // What the image has at the destination, copied into the new tmpfs before it covers it.
        UniqueFd image_dir(::openat(target_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!image_dir) throw Error(m.json_path + ": open " + m.config->destination + " for tmpcopyup", errno);
        copy_tree(image_dir.get(), mnt.get(), m.json_path + " (tmpcopyup)");
    }
    sys::set_propagation(mnt.get(), o.propagation, o.recursive_propagation, m.json_path + ".options");
    // A tmpfs is a new instance each time (not shared with the host): remember its device.
    struct stat st{};
    if (m.config->type == "tmpfs" && ::fstat(mnt.get(), &st) == 0) fresh.devices.push_back(st.st_dev);
    sys::attach(mnt.get(), target_fd, m.json_path);
}

// "remount": runc and crun pass MS_REMOUNT to mount(2) at the destination, which changes the
// mount already there (an earlier entry's) and fails with EINVAL where there is none. Here the
// same with the new API: the filesystem's own options on its superblock (fspick; not for a
// bind, whose data mount(2) ignores), then the per-mount attributes: "ro" makes the mount
// read-only, not the superblock, as crun leaves a remounted proc and runc a tmpfs. Unlike
// mount(2), attributes the entry does not name stay as they are (a "remount,ro" keeps nosuid).
void remount(const PlannedMount& m, int root_fd) {
    const MountOptions& o = m.options;
    const std::string& dest = m.config->destination;
    UniqueFd target = sys::open_in_root(root_fd, dest, O_PATH);
    if (!target) throw Error(m.json_path + ".destination: open " + dest + " to remount", errno);
    try {
        if (!o.bind && !o.fs_options.empty())
            sys::reconfigure_filesystem(target.get(), o.fs_options, m.json_path, o.fs_option_paths);
        sys::set_attributes(target.get(), o.attr_set, o.attr_clear, false, m.json_path + ".options");
        sys::set_attributes(target.get(), o.recursive_attr_set, o.recursive_attr_clear, true, m.json_path + ".options");
        sys::set_propagation(target.get(), o.propagation, o.recursive_propagation, m.json_path + ".options");
    } catch (const Error& e) {
        if (e.error_number() != EINVAL) throw;
        throw Error(e.what_failed(), EINVAL, "\"remount\" changes the mount an earlier entry made at " + dest + "; is one there?");
    }
}

// Copies a directory tree without following any symlink in it (they are copied as links):
// it comes from the image, and its links may point anywhere.
void copy_tree(int from_dir, int to_dir, const std::string& what) {
    DIR* dir = ::fdopendir(::dup(from_dir));
    if (!dir) throw Error(what + ": read the image's directory", errno);
    std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, ::closedir);
    while (dirent* entry = ::readdir(dir)) {
        const char* name = entry->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
        struct stat st{};
        if (::fstatat(from_dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        mode_t mode = st.st_mode & 07777;
        if (S_ISDIR(st.st_mode)) {
            if (::mkdirat(to_dir, name, 0700) != 0 && errno != EEXIST) throw Error(what + ": mkdir " + name, errno);
            UniqueFd sub_from(::openat(from_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            UniqueFd sub_to(::openat(to_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub_from || !sub_to) throw Error(what + ": open " + name, errno);
            copy_tree(sub_from.get(), sub_to.get(), what);
        } else if (S_ISREG(st.st_mode)) {
            UniqueFd in(::openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            UniqueFd out(::openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!in || !out) throw Error(what + ": copy " + name, errno);
            char buf[65536];
            ssize_t n;
            while ((n = ::read(in.get(), buf, sizeof buf)) > 0)
                if (::write(out.get(), buf, size_t(n)) != n) throw Error(what + ": write " + name, errno);
            if (n < 0) throw Error(what + ": read " + name, errno);
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = ::readlinkat(from_dir, name, target, sizeof target - 1);
            if (n < 0) throw Error(what + ": readlink " + name, errno);
            target[n] = '\0';
            if (::symlinkat(target, to_dir, name) != 0) throw Error(what + ": symlink " + name, errno);
        } else {
            continue;  // devices, fifos, sockets: not what tmpcopyup is for
        }
        ::fchownat(to_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
        if (!S_ISLNK(st.st_mode)) ::fchmodat(to_dir, name, mode, 0);
    }
}

std::vector<std::pair<std::string, std::string>> cgroup_v1_options(const cgroups::Hierarchy& h) {
    std::vector<std::pair<std::string, std::string>> out;
    std::istringstream ss(h.options);
    std::string opt;
    while (std::getline(ss, opt, ',')) {
        auto eq = opt.find('=');
        if (eq == std::string::npos) out.emplace_back(opt, "");
        else out.emplace_back(opt.substr(0, eq), opt.substr(eq + 1));
    }
    return out;
}


// One hierarchy's mount for a "cgroup" mount, made in init's cgroup namespace.
UniqueFd make_cgroup_mount(const cgroups::Hierarchy& h, uint64_t attrs, const std::string& json_path) {
    std::string what = json_path + " (" + h.name() + ")";
    return h.unified ? sys::make_filesystem("cgroup2", "cgroup", {}, attrs, what)
                     : sys::make_filesystem("cgroup", "cgroup", cgroup_v1_options(h), attrs, what);
}

// "cgroup" mounts show the container's own cgroups. On cgroup2 with a cgroup namespace they
// are real cgroup mounts (rooted at the container's cgroup by the namespace); otherwise the
// container's directories are bind-mounted (by the runtime on v1 without a user namespace).
// `from_runtime`: the runtime's bind mounts (CGROUP_MOUNTS), one per hierarchy, for the mount
// the plan gives them to.
void mount_cgroups(const InitPlan& plan, const PlannedMount& m, int target_fd, std::vector<UniqueFd> from_runtime) {
    const cgroups::Layout& layout = plan.cgroups.layout;
    const std::vector<std::string>& dirs = plan.cgroups.dirs;
    uint64_t attrs = mount_attributes(m);
    if (dirs.empty()) {
        // No cgroups of its own (an unprivileged user's container): the host's tree, as it is.
        UniqueFd tree = sys::clone_tree(AT_FDCWD, "/sys/fs/cgroup", true, m.json_path);
        sys::set_attributes(tree.get(), attrs, 0, true, m.json_path + ".options");
        sys::attach(tree.get(), target_fd, m.json_path);
        return;
    }
    // Real cgroup mounts need init inside its cgroups and cgroup namespace. With the runtime's
    // mounts (CGROUP_MOUNTS) init joins only after mounting: any other cgroup mount is a bind
    // of the container's own directories too, never the view from the host's namespace.
    bool real_mounts = plan.new_cgroup_ns && (layout.mode == cgroups::Mode::v2 || !plan.in_user_ns) &&
                       !plan.cgroups.mount_from_runtime;

    if (layout.mode == cgroups::Mode::v2) {
        UniqueFd mnt = real_mounts ? sys::make_filesystem("cgroup2", "cgroup", {}, attrs, m.json_path)
                                   : sys::clone_tree(AT_FDCWD, dirs.at(0), false, m.json_path);
        if (!real_mounts) sys::set_attributes(mnt.get(), attrs, 0, false, m.json_path + ".options");
        sys::attach(mnt.get(), target_fd, m.json_path);
        return;
    }
    UniqueFd tmpfs = sys::make_filesystem("tmpfs", "tmpfs", {{"mode", "755"}}, attrs & ~uint64_t(MOUNT_ATTR_RDONLY), m.json_path);
    sys::attach(tmpfs.get(), target_fd, m.json_path);
    if (!from_runtime.empty() && from_runtime.size() != layout.hierarchies.size())
        throw Error(m.json_path + ": the runtime sent " + std::to_string(from_runtime.size()) + " cgroup mounts for " +
                    std::to_string(layout.hierarchies.size()) + " hierarchies");
    for (size_t i = 0; i < layout.hierarchies.size(); ++i) {
        const cgroups::Hierarchy& h = layout.hierarchies[i];
        std::string name = h.name();
        if (::mkdirat(tmpfs.get(), name.c_str(), 0755) != 0) throw Error(m.json_path + ": mkdir " + name, errno);
        UniqueFd mnt;
        if (!from_runtime.empty())
            mnt = std::move(from_runtime[i]);
        else if (real_mounts)
            mnt = make_cgroup_mount(h, attrs, m.json_path);
        else {
            mnt = sys::clone_tree(AT_FDCWD, dirs.at(i), false, m.json_path + " (" + name + ")");
            sys::set_attributes(mnt.get(), attrs, 0, false, m.json_path + ".options");
        }
        // By name in the tmpfs made just above, which nothing else can reach yet.
        sys::attach_at(mnt.get(), tmpfs.get(), name, m.json_path + " (" + name + ")");
    }
    if (attrs & MOUNT_ATTR_RDONLY) sys::set_attributes(tmpfs.get(), MOUNT_ATTR_RDONLY, 0, false, m.json_path);
}

// "copy-symlink" (crun): a symlink where the source was one, with the same target, made in the
// destination's in-root parent; a non-directory already there is replaced, as in crun.
void copy_symlink(const PlannedMount& m, int root_fd) {
    auto [parent_path, name] = sys::split_parent(m.config->destination);
    if (name.empty() || name == "." || name == "..")
        throw Error(m.json_path + ".destination: " + m.config->destination + " cannot be a symlink (copy-symlink)");
    UniqueFd parent;
    try {
        parent = sys::make_directory_in_root(root_fd, parent_path.empty() ? "/" : parent_path);
    } catch (const Error& e) {
        throw Error(m.json_path + ".destination: " + e.what());
    }
    struct stat st{};
    if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISDIR(st.st_mode)) throw Error(m.json_path + ".destination: " + m.config->destination + " is a directory (copy-symlink)", EISDIR);
        if (::unlinkat(parent.get(), name.c_str(), 0) != 0) throw Error(m.json_path + ".destination: remove " + m.config->destination, errno);
    }
    if (::symlinkat(m.symlink_copy.c_str(), parent.get(), name.c_str()) != 0)
        throw Error(m.json_path + ".destination: symlink " + m.config->destination + " -> " + m.symlink_copy, errno);
}

}  // namespace

bool FreshFilesystems::contains(dev_t dev) const { return std::find(devices.begin(), devices.end(), dev) != devices.end(); }

void mount_all(const InitPlan& plan, int root_fd, size_t first, size_t end, FreshFilesystems& fresh) {
    for (size_t i = first; i < end && i < plan.mounts.size(); ++i) {
        const PlannedMount& m = plan.mounts[i];
        if (m.options.remount) {
            remount(m, root_fd);
            continue;
        }
        if (!m.symlink_copy.empty()) {
            copy_symlink(m, root_fd);
            continue;
        }
        UniqueFd target = open_target(m, root_fd);
        if (m.config->type == "cgroup") mount_cgroups(plan, m, target.get(), {});
        else if (m.options.bind) mount_bind(m, target.get());
        else mount_filesystem(plan, m, target.get(), fresh);
    }
}

void mount_cgroups_from_runtime(const InitPlan& plan, int root_fd, std::vector<UniqueFd> mounts) {
    const PlannedMount& m = plan.mounts.at(*plan.cgroups.mount_from_runtime);
    UniqueFd target = open_target(m, root_fd);
    mount_cgroups(plan, m, target.get(), std::move(mounts));
}

}  // namespace crunlite::init
