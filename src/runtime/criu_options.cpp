#include "runtime/criu_options.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

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

namespace {

// "ADDRESS:PORT" (an IPv6 address in brackets) -> {ADDRESS, PORT}.
std::pair<std::string, std::string> address_and_port(const std::string& server) {
    size_t colon = server.rfind(':');
    std::string address = colon == std::string::npos ? "" : server.substr(0, colon);
    std::string port = colon == std::string::npos ? "" : server.substr(colon + 1);
    if (address.size() > 2 && address.front() == '[' && address.back() == ']') address = address.substr(1, address.size() - 2);
    unsigned number = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (address.empty() || ec != std::errc() || end != port.data() + port.size() || number == 0 || number > 65535)
        throw Error("--page-server " + server + ": not ADDRESS:PORT", 0, "e.g. --page-server 127.0.0.1:27277");
    return {address, port};
}

}  // namespace

std::vector<std::string> dump_memory_args(const CheckpointOptions& options) {
    if (options.status_fd >= 0 && !options.lazy_pages) throw Error("--status-fd goes only with --lazy-pages");
    if (!options.lazy_pages) {
        if (options.page_server.empty()) return {};
        auto [address, port] = address_and_port(options.page_server);
        return {"--page-server", "--address", address, "--port", port};
    }
    if (options.pre_dump) throw Error("--lazy-pages goes with a checkpoint, not with --pre-dump");
    if (options.page_server.empty())
        throw Error("--lazy-pages needs --page-server ADDRESS:PORT, where CRIU serves the pages to the restore's `criu lazy-pages`");
    auto [address, port] = address_and_port(options.page_server);
    if (options.status_fd >= 0) {
        int flags = ::fcntl(options.status_fd, F_GETFL);
        if (flags < 0) throw Error("--status-fd " + std::to_string(options.status_fd) + ": not an open descriptor", errno);
        if ((flags & O_ACCMODE) == O_RDONLY) throw Error("--status-fd " + std::to_string(options.status_fd) + ": not open for writing");
    }
    return {"--lazy-pages", "--address", address, "--port", port};
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

void refuse_rootless_criu_caller(const std::string& command) {
    if (::geteuid() != 0)
        throw Error(command + ": CRIU needs root; a rootless container cannot be checkpointed or restored by crun-lite");
}

std::string absolute_path(const std::string& path) {
    if (!path.empty() && path[0] == '/') return path;
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) throw Error("getcwd", errno);
    return std::string(cwd) + "/" + path;
}

}  // namespace crunlite::runtime
