// The parent <-> container-init protocol: one SOCK_SEQPACKET socketpair, one datagram per
// message, created before clone and closed (CLOEXEC) by the exec of the user program.
//
//  step | sender | message | meaning
//  -----+--------+---------+---------------------------------------------------------------
//   1   | parent | GO      | uid/gid maps are written (and, for exec, the cgroups joined): init
//       |        |         | may create or join its namespaces (create: all but the cgroup one)
//  1'   | parent | CGROUP_ | (plan.cgroup_mounts_from_parent: cgroup v1 or hybrid, no user
//       |        | MOUNTS  | namespace) the mounts for /sys/fs/cgroup: a detached bind mount of
//       |        |         | the container's directory in each hierarchy; init attaches them at
//       |        |         | the config's first "cgroup" mount. Sent as soon as the v1 cgroups
//       |        |         | exist, while init mounts the rest
//  1''  | parent | CGROUPS | (create, not rootless) the cgroups are made and their device rules
//       |        |         | written; carries the open `tasks` file of each v1 hierarchy, to which
//       |        |         | init writes "0" to join it, then unshares its cgroup namespace. With
//       |        |         | step 1' init joins after its mounts and mknods; without, after its
//       |        |         | other namespaces (a cgroup2 mount needs the cgroup namespace). The
//       |        |         | limits are written after it
//  1a   | init   | HOOKS   | (only when prestart/createRuntime hooks exist) namespaces and mounts
//       |        |         | are in place, before pivot_root: the parent runs those hooks
//  1b   | parent | DONE | they succeeded; init runs createContainer hooks itself
//  1c   | init   | CONSOLE | (only with process.terminal) carries the pty master as SCM_RIGHTS
//  1d   | init   | SECCOMP | (only with SCMP_ACT_NOTIFY rules) carries the listener fd, which the
//       |        |         | parent hands to linux.seccomp.listenerPath
//  1e   | child  | PID     | (exec by an unprivileged user) the child joined the pid namespace for
//       |        |         | its children and forked with CLONE_PARENT: `err` carries the new pid,
//       |        |         | which sends the rest of the protocol; the first child exits
//   2   | init   | READY   | root filesystem and process are set up; init now blocks opening
//       |        |         | exec.fifo for writing, until `start` opens it for reading
//  2a   | parent | START   | (`run` only: no exec.fifo, unless seccomp is loaded before READY)
//       |        |         | instead of the fifo: exec the process
//  2b   | init   | GOING   | (`run` only) the startContainer hooks passed: init execs now (the
//       |        |         | byte `start` reads from the fifo otherwise)
//  any  | init   | ERROR   | setup failed: errno plus a one-line message; init then exits
//
// A parent that sees the socket close without READY or ERROR reports how init died.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace crunlite::linux_setup {

enum class SyncType : uint32_t { none = 0, go = 1, ready = 2, error = 3, hooks = 4, done = 5, console = 6, seccomp = 7, pid = 8, cgroups = 9, start = 10, going = 11, cgroup_mounts = 13 };

// The most descriptors one message carries.
constexpr size_t kMaxPassedFds = 32;

struct SyncMessage {
    SyncType type = SyncType::none;
    int32_t err = 0;
    char text[2048] = {};
};

// Both return false when the peer is gone. A message may carry one descriptor.
bool send_sync(int fd, SyncType type, int err = 0, const char* text = "", int pass_fd = -1);
bool receive_sync(int fd, SyncMessage& message, int* received_fd = nullptr);
// The same with up to kMaxPassedFds descriptors; `fds` has room for that many.
bool send_sync_fds(int fd, SyncType type, const int* fds, size_t count, int err = 0, const char* text = "");
bool receive_sync_fds(int fd, SyncMessage& message, int* fds, size_t* count);

// Sends `fd` over a unix socket with SCM_RIGHTS and `payload` as the data.
bool send_fd(int socket_fd, int fd, const std::string& payload);

}  // namespace crunlite::linux_setup
