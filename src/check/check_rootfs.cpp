// The root filesystem: it exists, and .process.args[0] resolves inside it (PATH from
// .process.env, looked up in-root, as init will exec it) to an executable file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys/executable_search.hpp"
#include "sys/in_root.hpp"
#include "sys/in_root.hpp"
#include "check/checks.hpp"
#include "crunlite/error.hpp"

namespace crunlite::check {
namespace {

std::string join(const std::string& dir, const std::string& name) {
    if (name.empty() || name[0] == '/') return name;
    return (dir == "/" ? "" : dir) + "/" + name;
}

void check_executable(const Context& ctx, int root_fd, Report& report) {
    const spec::Process& process = *ctx.spec.process;
    const std::string& name = process.args[0];
    std::vector<std::string> candidates = sys::executable_candidates(name, process.env);
    std::string not_executable;
    for (auto& candidate : candidates) {
        // A relative candidate ("./x", or a PATH entry that is not absolute) is relative to the cwd.
        std::string path = join(process.cwd, candidate);
        UniqueFd fd = sys::open_in_root(root_fd, path, O_PATH);
        struct stat st{};
        if (!fd || ::fstat(fd.get(), &st) != 0) continue;
        if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
            if (not_executable.empty()) not_executable = path + (S_ISDIR(st.st_mode) ? " is a directory" : " is not an executable file");
            continue;
        }
        return;  // found, as init would
    }
    std::string root = ctx.spec.root.path;
    if (!not_executable.empty()) {
        report.error(".process.args[0]", "\"" + name + "\": " + not_executable + " in the root filesystem",
                     "make it executable (chmod +x " + root + not_executable.substr(0, not_executable.find(' ')) +
                         "), or point args[0] at the program");
    } else if (name.find('/') != std::string::npos) {
        report.error(".process.args[0]", "\"" + name + "\" does not exist in the root filesystem " + root,
                     "the path is looked up inside the root filesystem (" + join(root, join(process.cwd, name).substr(1)) +
                         " on the host): put the program there or fix args[0]");
    } else {
        std::string search;
        for (auto& c : candidates) search += (search.empty() ? "" : ":") + c.substr(0, c.size() - name.size() - 1);
        report.error(".process.args[0]", "\"" + name + "\": executable file not found in $PATH (" + search + ") of the root filesystem",
                     "PATH comes from .process.env (default " + std::string(sys::kDefaultSearchPath) +
                         ") and is searched inside " + root + ": install the program there, give an absolute path, or fix PATH");
    }
}

}  // namespace

void check_root_and_executable(const Context& ctx, Report& report) {
    if (report.has_error_under(".root")) return;
    // With a mount namespace joined by path the root is resolved in that namespace, which check
    // does not enter: what this one shows there proves nothing either way.
    const spec::Namespace* mount_ns = ctx.spec.linux.find_namespace(spec::NamespaceKind::mount);
    if (mount_ns && !mount_ns->path.empty()) return;
    const std::string& root = ctx.spec.root.path;
    struct stat st{};
    if (::stat(root.c_str(), &st) != 0) {
        report.error(".root.path", root + ": " + Error::errno_text(errno),
                     "create the root filesystem there (unpack an image into it), or fix .root.path (a relative path is "
                     "resolved against the bundle)");
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        report.error(".root.path", root + " is not a directory", "point .root.path at the directory holding the container's files");
        return;
    }
    if (!ctx.spec.process) {
        report.warning(".process", "there is no process: `create` works, but `start` will refuse the container",
                       "add a .process section (`crun-lite spec` writes one) unless the container only holds namespaces");
        return;
    }
    UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd) {
        report.error(".root.path", "open " + root + ": " + Error::errno_text(errno), "make the root filesystem readable by root");
        return;
    }
    if (!ctx.spec.process->args.empty() && !report.has_error_under(".process.args") && !report.has_error_under(".process.env") &&
        !report.has_error_under(".process.cwd"))
        check_executable(ctx, root_fd.get(), report);
    if (!report.has_error_under(".process.cwd")) {
        const std::string& cwd = ctx.spec.process->cwd;
        UniqueFd fd = sys::open_in_root(root_fd.get(), cwd, O_PATH);
        struct stat cwd_st{};
        if (fd && ::fstat(fd.get(), &cwd_st) == 0 && !S_ISDIR(cwd_st.st_mode))
            report.error(".process.cwd", cwd + " is not a directory in the root filesystem",
                         "point .process.cwd at a directory (a missing one is created)");
    }
}

}  // namespace crunlite::check
