// The flags of `checkpoint` and `restore` (runc's), and the CRIU arguments they become.
#pragma once
#include <string>
#include <vector>

#include "crunlite/spec.hpp"

namespace crunlite::runtime {

// What checkpoint and restore share.
struct CriuOptions {
    std::string image_path = "checkpoint";  // runc's default: ./checkpoint
    std::string work_path;                  // CRIU's logs and work files; default: the image path
    bool tcp_established = false;
    bool ext_unix_sk = false;
    bool shell_job = false;
    bool file_locks = false;
    std::string manage_cgroups_mode;  // soft, full, strict, ignore; "" is CRIU's default (soft)
    std::vector<std::string> empty_ns;  // namespaces CRIU makes empty instead of dumping ("network")
    bool auto_dedup = false;
    bool lazy_pages = false;
};

struct CheckpointOptions : CriuOptions {
    std::string parent_path;  // a previous --pre-dump's image, relative to the image path
    bool leave_running = false;
    bool pre_dump = false;
    // ADDRESS:PORT: with --lazy-pages where CRIU serves the pages, else a `criu page-server`
    // that receives them.
    std::string page_server;
    int status_fd = -1;  // --status-fd: gets a NUL byte once the lazy pages are served
};

struct RestoreOptions : CriuOptions {
    std::string bundle = ".";
    bool detach = false;
    std::string pid_file;
    std::string console_socket;
    bool no_subreaper = false;
    bool no_pivot = false;
};

// The arguments for the flags above, the same at dump and restore (--lazy-pages is not one of
// them: dump_memory_args and restore add it). Throws on an unknown --manage-cgroups-mode or
// --empty-ns value, with one line.
std::vector<std::string> common_criu_args(const CriuOptions& options);

// Where the memory goes at a dump, as runc: with --lazy-pages CRIU keeps it and serves it from
// --page-server's address (which it then needs) to a restore's `criu lazy-pages` daemon, writing
// a NUL byte to --status-fd when it is ready; otherwise --page-server sends the pages to a
// remote `criu page-server`. Checks that the status descriptor is open for writing; the
// caller hands it to CRIU (checkpoint.cpp).
std::vector<std::string> dump_memory_args(const CheckpointOptions& options);

// runc takes --empty-ns "network"; CRIU's name is "net".
std::vector<std::string> empty_namespace_names(const CriuOptions& options);

// A network namespace the config joins by path is the host's business: CRIU records it as the
// external "extRootNetNS" (restore joins it again). One the container made is not dumped: CRIU
// leaves it empty (--empty-ns net), restore makes a fresh one and brings its loopback up, as
// create does. runc does this only with --empty-ns network; by default it has CRIU dump the
// namespace's links, addresses and firewall rules. Throws for --tcp-established then.
inline constexpr const char* kExternalNetNsKey = "extRootNetNS";
const spec::Namespace* network_namespace(const spec::Spec& spec);
std::vector<std::string> dump_network_args(const spec::Spec& spec, const CriuOptions& options);

// One line for an unprivileged caller, whose containers crun-lite does not checkpoint or
// restore (CRIU needs root).
void refuse_rootless_criu_caller(const std::string& command);

// The image and work directories, absolute; the work directory defaults to the image's.
std::string absolute_path(const std::string& path);

}  // namespace crunlite::runtime

namespace crunlite::runtime {

// `checkpoint ID`: dumps the running or paused container into options.image_path.
void checkpoint(const std::string& root, const std::string& id, const CheckpointOptions& options);
// `restore ID`: a container made again from an image; detached it returns 0 once it runs,
// otherwise it waits for it as `run` does and returns its exit status.
int restore(const std::string& root, const std::string& id, const RestoreOptions& options, bool systemd_cgroup);

}  // namespace crunlite::runtime
