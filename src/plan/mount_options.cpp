#include "plan/mount_options.hpp"

#include <sys/mount.h>

#include <algorithm>
#include <cstring>

#include "crunlite/error.hpp"

namespace crunlite::planning {
namespace {

struct AttrOption {
    const char* name;
    bool clear;  // true: the option removes the attribute ("rw", "suid", ...)
    uint64_t attr;
};

// Per-mount attributes; an "r" prefix (rro, rnosuid...) applies them recursively.
constexpr AttrOption kAttrOptions[] = {
    {"ro", false, MOUNT_ATTR_RDONLY},         {"rw", true, MOUNT_ATTR_RDONLY},
    {"nosuid", false, MOUNT_ATTR_NOSUID},     {"suid", true, MOUNT_ATTR_NOSUID},
    {"nodev", false, MOUNT_ATTR_NODEV},       {"dev", true, MOUNT_ATTR_NODEV},
    {"noexec", false, MOUNT_ATTR_NOEXEC},     {"exec", true, MOUNT_ATTR_NOEXEC},
    {"nodiratime", false, MOUNT_ATTR_NODIRATIME}, {"diratime", true, MOUNT_ATTR_NODIRATIME},
    {"nosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW}, {"symfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

// Access-time modes are one field: setting one clears the others.
constexpr std::pair<const char*, uint64_t> kAtimeOptions[] = {
    {"relatime", MOUNT_ATTR_RELATIME}, {"noatime", MOUNT_ATTR_NOATIME}, {"strictatime", MOUNT_ATTR_STRICTATIME},
};

// Options that mean nothing to a fresh mount, or only restate a default.
constexpr const char* kIgnored[] = {"defaults", "async", "loud", "nomand", "noiversion", "nolazytime"};

// Options that undo noatime/strictatime: the kernel's default access-time mode, relatime, again.
constexpr const char* kDefaultAtime[] = {"atime", "norelatime", "nostrictatime"};

}  // namespace

bool parse_propagation(const std::string& name, uint64_t& flag, bool& recursive) {
    std::string base = name;
    recursive = false;
    if (base.size() > 1 && base[0] == 'r' && base != "ro" && base != "rw") {
        recursive = true;
        base = base.substr(1);
    }
    if (base == "private") flag = MS_PRIVATE;
    else if (base == "slave") flag = MS_SLAVE;
    else if (base == "shared") flag = MS_SHARED;
    else if (base == "unbindable") flag = MS_UNBINDABLE;
    else return false;
    return true;
}

MountOptions parse_mount_options(const std::vector<std::string>& options, const std::string& type,
                                 const std::string& json_path) {
    MountOptions out;
    out.bind = type == "bind";
    std::string symlink_option_path;
    for (size_t i = 0; i < options.size(); ++i) {
        const std::string& opt = options[i];
        std::string path = json_path + "[" + std::to_string(i) + "]";
        if (opt == "bind") { out.bind = true; continue; }
        if (opt == "rbind") { out.bind = out.recursive_bind = true; continue; }
        if (std::find(std::begin(kIgnored), std::end(kIgnored), opt) != std::end(kIgnored)) continue;
        if (std::find(std::begin(kDefaultAtime), std::end(kDefaultAtime), opt) != std::end(kDefaultAtime)) {
            out.attr_set = (out.attr_set & ~uint64_t(MOUNT_ATTR__ATIME)) | MOUNT_ATTR_RELATIME;
            out.attr_clear |= MOUNT_ATTR__ATIME;
            continue;
        }
        // "ratime", "rnorelatime", "rnostrictatime": the same on every mount of the tree (runc's too).
        if (opt.size() > 1 && opt[0] == 'r' &&
            std::find(std::begin(kDefaultAtime), std::end(kDefaultAtime), opt.substr(1)) != std::end(kDefaultAtime)) {
            out.recursive_attr_set = (out.recursive_attr_set & ~uint64_t(MOUNT_ATTR__ATIME)) | MOUNT_ATTR_RELATIME;
            out.recursive_attr_clear |= MOUNT_ATTR__ATIME;
            continue;
        }
        if (opt == "idmap" || opt == "ridmap") {
            out.idmap = true;
            out.recursive_idmap = opt == "ridmap";
            continue;
        }
        if (opt == "tmpcopyup") {
            if (type != "tmpfs") throw SpecError(path, "tmpcopyup is only for tmpfs mounts");
            out.tmpcopyup = true;
            continue;
        }
        if (opt == "remount") { out.remount = true; continue; }
        if (opt == "copy-symlink" || opt == "src-nofollow" || opt == "dest-nofollow") {
            (opt == "copy-symlink" ? out.copy_symlink : opt == "src-nofollow" ? out.src_nofollow : out.dest_nofollow) = true;
            symlink_option_path = path;
            continue;
        }
        uint64_t prop;
        bool recursive;
        if (parse_propagation(opt, prop, recursive)) {
            out.propagation = prop;
            out.recursive_propagation = recursive;
            continue;
        }
        bool matched = false;
        for (bool rec : {false, true}) {
            std::string name = rec ? (opt.size() > 1 && opt[0] == 'r' ? opt.substr(1) : std::string()) : opt;
            if (name.empty()) continue;
            for (auto& a : kAttrOptions) {
                if (name != a.name) continue;
                uint64_t& set = rec ? out.recursive_attr_set : out.attr_set;
                uint64_t& clear = rec ? out.recursive_attr_clear : out.attr_clear;
                if (a.clear) { clear |= a.attr; set &= ~a.attr; }
                else { set |= a.attr; clear &= ~a.attr; }
                matched = true;
            }
            for (auto& [atime_name, attr] : kAtimeOptions) {
                if (name != atime_name) continue;
                uint64_t& set = rec ? out.recursive_attr_set : out.attr_set;
                uint64_t& clear = rec ? out.recursive_attr_clear : out.attr_clear;
                set = (set & ~MOUNT_ATTR__ATIME) | attr;
                clear |= MOUNT_ATTR__ATIME;
                matched = true;
            }
            if (matched) break;
        }
        if (matched) continue;
        // The rest goes to the filesystem (fsconfig): superblock flags such as "sync", "dirsync",
        // "lazytime", "mand", "iversion" and "silent", which fsconfig takes as flags, and options of
        // its own ("mode=755"); the kernel refuses what the filesystem does not take.
        auto eq = opt.find('=');
        if (eq == 0 || opt.empty()) throw SpecError(path, "empty mount option name");
        if (eq == std::string::npos) out.fs_options.emplace_back(opt, "");
        else out.fs_options.emplace_back(opt.substr(0, eq), opt.substr(eq + 1));
        out.fs_option_paths.push_back(path);
    }
    if (out.bind) {
        // mount(2) with MS_BIND ignores its data: such options change nothing (crun passes them
        // and the kernel drops them; runc refuses them).
        for (size_t i = 0; i < out.fs_options.size(); ++i) {
            auto& [key, value] = out.fs_options[i];
            out.ignored_on_bind.emplace_back(out.fs_option_paths[i], value.empty() ? key : key + "=" + value);
        }
        out.fs_options.clear();
        out.fs_option_paths.clear();
    }
    if (!symlink_option_path.empty()) {
        if (!out.bind) throw SpecError(symlink_option_path, "copy-symlink, src-nofollow and dest-nofollow are for bind mounts");
        if (out.copy_symlink && (out.src_nofollow || out.dest_nofollow))
            throw SpecError(symlink_option_path, "copy-symlink makes no mount: it cannot go with src-nofollow or dest-nofollow");
    }
    if (out.remount && (out.tmpcopyup || out.idmap))
        throw SpecError(json_path, std::string("\"remount\" changes the mount already at the destination; \"") +
                                       (out.tmpcopyup ? "tmpcopyup" : "idmap") + "\" is for a new one");
    return out;
}

}  // namespace crunlite::planning
