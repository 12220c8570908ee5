#include "runtime/criu_options.hpp"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "crunlite/error.hpp"

namespace crunlite::runtime {

std::vector<std::string> empty_namespace_names(const CriuOptions& options) {
    std::vector<std::string> names;
    for (const std::string& ns : options.empty_ns) {
        if (ns == "network" || ns == "net") names.push_back("net");
        else
            throw Error("--empty-ns " + ns + ": CRIU can leave only the network namespace empty", 0, "give --empty-ns network");
    }
    return names;
}

std::vector<std::string> common_criu_args(const CriuOptions& options) {
    if (options.lazy_pages)
        throw Error("--lazy-pages is not supported: crun-lite runs no CRIU page server or lazy-pages daemon", 0,
                    "checkpoint and restore without --lazy-pages");
    std::vector<std::string> args;
    if (options.tcp_established) args.push_back("--tcp-established");
    if (options.ext_unix_sk) args.push_back("--ext-unix-sk");
    if (options.shell_job) args.push_back("--shell-job");
    if (options.file_locks) args.push_back("--file-locks");
    if (options.auto_dedup) args.push_back("--auto-dedup");
    const std::string& mode = options.manage_cgroups_mode;
    if (!mode.empty() && mode != "soft" && mode != "full" && mode != "strict" && mode != "ignore")
        throw Error("--manage-cgroups-mode " + mode + ": unknown mode", 0, "give soft, full, strict or ignore");
    // Always said: CRIU's own default is soft, so leaving "ignore" out would give soft.
    args.push_back("--manage-cgroups=" + (mode.empty() ? std::string("soft") : mode));
    for (const std::string& ns : empty_namespace_names(options)) args.insert(args.end(), {"--empty-ns", ns});
    return args;
}

const spec::Namespace* network_namespace(const spec::Spec& spec) {
    for (const spec::Namespace& ns : spec.linux.namespaces)
        if (ns.kind == spec::NamespaceKind::network) return &ns;
    return nullptr;
}

std::vector<std::string> dump_network_args(const spec::Spec& spec, const CriuOptions& options) {
    const spec::Namespace* ns = network_namespace(spec);
    if (!ns) return {};  // the host's: CRIU leaves what it shares with itself alone
    if (!ns->path.empty()) {
        struct stat st{};
        if (::stat(ns->path.c_str(), &st) != 0) throw Error(".linux.namespaces: network namespace " + ns->path, errno);
        return {"--external", "net[" + std::to_string(st.st_ino) + "]:" + kExternalNetNsKey};
    }
    if (options.tcp_established)
        throw Error("--tcp-established: the container's own network namespace is not part of a crun-lite image, so its "
                    "connections cannot come back", 0, "join a network namespace by path (.linux.namespaces) to keep connections");
    std::vector<std::string> named = empty_namespace_names(options);
    if (std::find(named.begin(), named.end(), "net") != named.end()) return {};  // common_criu_args has it
    return {"--empty-ns", "net"};
}

void refuse_unsupported_criu_caller(const std::string& command, bool systemd_cgroup) {
    if (::geteuid() != 0)
        throw Error(command + ": CRIU needs root; a rootless container cannot be checkpointed or restored by crun-lite");
    if (systemd_cgroup)
        throw Error(command + ": containers in a systemd unit (--systemd-cgroup) cannot be checkpointed or restored by crun-lite", 0,
                    "use the cgroupfs driver (no --systemd-cgroup) for containers you checkpoint");
}

std::string absolute_path(const std::string& path) {
    if (!path.empty() && path[0] == '/') return path;
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) throw Error("getcwd", errno);
    return std::string(cwd) + "/" + path;
}

}  // namespace crunlite::runtime
