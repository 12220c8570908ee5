// Files on the host that the bundle names: mount sources and options, hook programs.
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <sstream>

#include "sys/mount_api.hpp"
#include "plan/mount_options.hpp"
#include "check/checks.hpp"
#include "crunlite/error.hpp"

namespace crunlite::check {
namespace {

std::set<std::string> known_filesystems() {
    std::set<std::string> out;
    std::istringstream lines(read_small_file("/proc/filesystems"));
    for (std::string line; std::getline(lines, line);) {
        auto tab = line.rfind('\t');
        out.insert(tab == std::string::npos ? line : line.substr(tab + 1));
    }
    return out;
}

void check_mount(const Context& ctx, const spec::Mount& m, const std::string& path, const std::set<std::string>& filesystems,
                 Report& report) {
    planning::MountOptions options;
    try {
        options = planning::parse_mount_options(m.options, m.type, path + ".options");
    } catch (const Error& e) {
        report.add_error(e, path + ".options", "mount(8) and the runtime-spec (config.md, mounts) list the options");
        return;
    }
    if (options.remount) return;  // it changes an earlier entry's mount: nothing of its own to check
    for (auto& [option_path, option] : options.ignored_on_bind)
        report.warning(option_path, "\"" + option + "\" is filesystem data, which the kernel ignores on a bind mount",
                       "drop it: a bind mount shows the source's filesystem as it is (runc refuses such an option)");
    if (options.bind) {
        if (m.source.empty()) {
            report.error(path + ".source", "is required for a bind mount", "name the host file or directory to bind");
            return;
        }
        std::string source = m.source[0] == '/' ? m.source : ctx.bundle + "/" + m.source;
        struct stat st{};
        // As create does: src-nofollow and copy-symlink take a symlink source as it is.
        bool keep_symlink = options.src_nofollow || options.copy_symlink;
        if ((keep_symlink ? ::lstat(source.c_str(), &st) : ::stat(source.c_str(), &st)) != 0)
            report.error(path + ".source", "bind source " + source + ": " + Error::errno_text(errno),
                         "create it on the host first, or fix the path (a relative source is resolved against the bundle)");
        return;
    }
    if (m.type.empty() || m.type == "none") {
        report.error(path + ".type", "is required unless the mount is a bind mount", "give a filesystem type, or add \"rbind\" to options");
        return;
    }
    if (!ctx.rootless) {
        // The kernel checks the type and each option now, as create will; nothing is mounted.
        // The finding's path is the field checked; "mount" leads its message.
        auto kernel_check = [&](const std::string& field, const sys::FsOptions& fs_options) {
            try {
                sys::configure_filesystem(m.type, m.source, fs_options, "mount", fs_options.empty() ? std::vector<std::string>{} : options.fs_option_paths);
                return true;
            } catch (const Error& e) {
                report.add_error(e, field, "check the filesystem type and its options (the filesystem's man page lists them)");
                return false;
            }
        };
        if (kernel_check(path + ".type", {}) && !options.fs_options.empty()) kernel_check(path + ".options", options.fs_options);
        return;
    }
    if (!filesystems.empty() && !filesystems.count(m.type))
        report.warning(path + ".type", "filesystem \"" + m.type + "\" is not in /proc/filesystems",
                       "check the name; unless a kernel module provides it on demand, the mount will fail with ENODEV");
}

void check_hook(const spec::Hook& hook, const std::string& path, Report& report) {
    struct stat st{};
    if (::stat(hook.path.c_str(), &st) != 0) {
        report.error(path + ".path", hook.path + ": " + Error::errno_text(errno), "install the hook program there, or fix the path");
    } else if (!S_ISREG(st.st_mode)) {
        report.error(path + ".path", hook.path + " is not a regular file", "point the hook at a program");
    } else if (::access(hook.path.c_str(), X_OK) != 0) {
        report.error(path + ".path", hook.path + " is not executable", "chmod +x " + hook.path);
    }
}

}  // namespace

void check_mounts_and_hooks(const Context& ctx, Report& report) {
    std::set<std::string> filesystems = known_filesystems();
    for (size_t i = 0; i < ctx.spec.mounts.size(); ++i)
        check_mount(ctx, ctx.spec.mounts[i], ctx.item_path(report, ".mounts", i), filesystems, report);
    const spec::Hooks& hooks = ctx.spec.hooks;
    std::pair<const char*, const std::vector<spec::Hook>*> lists[] = {
        {"prestart", &hooks.prestart},   {"createRuntime", &hooks.create_runtime}, {"createContainer", &hooks.create_container},
        {"startContainer", &hooks.start_container}, {"poststart", &hooks.poststart}, {"poststop", &hooks.poststop},
    };
    for (auto& [name, list] : lists)
        for (size_t i = 0; i < list->size(); ++i)
            check_hook((*list)[i], ctx.item_path(report, std::string(".hooks.") + name, i), report);
}

}  // namespace crunlite::check
