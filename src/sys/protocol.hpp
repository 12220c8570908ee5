// The runtime <-> container-init protocol: one SOCK_SEQPACKET socketpair made before clone, one
// datagram per message, closed (CLOEXEC) by the exec of the user program. This table is the
// only statement of the exchange; kExchange below is the same table as code, and both ends
// check every message they send or receive against it.
//
//  # | sender  | message        | when (ExchangeShape)  | meaning
//  --+---------+----------------+-----------------------+----------------------------------------
//  1 | runtime | GO             | always                | uid/gid maps written (exec: cgroups joined):
//    |         |                |                       | init may create or join its namespaces
//  2 | init    | PID            | pid_handover          | init joined or unshared a pid namespace that
//    |         |                |                       | only its children enter: it forked (with
//    |         |                |                       | CLONE_PARENT) and exits; the child with this
//    |         |                |                       | pid speaks the rest of the protocol
//  3 | runtime | CGROUP_MOUNTS  | cgroup_mounts         | (create, cgroup v1 or hybrid, no user
//    |         |                |                       | namespace) a detached bind mount of the
//    |         |                |                       | container's directory in each hierarchy, for
//    |         |                |                       | the config's first "cgroup" mount; sent as
//    |         |                |                       | soon as the v1 cgroups exist, while init
//    |         |                |                       | mounts the rest
//  4 | runtime | CGROUPS        | cgroups               | (create, not rootless) the cgroups exist and
//    |         |                |                       | their device rules are written; carries each
//    |         |                |                       | v1 hierarchy's open `tasks` file, to which
//    |         |                |                       | init writes "0", then it unshares its cgroup
//    |         |                |                       | namespace. With 3, init joins after its
//    |         |                |                       | mounts and mknods; without, before them (a
//    |         |                |                       | cgroup2 mount needs the cgroup namespace)
//  5 | init    | HOOKS          | runtime_hooks         | namespaces and mounts are in place, before
//    |         |                |                       | pivot_root: the runtime runs the prestart and
//    |         |                |                       | createRuntime hooks
//  6 | runtime | HOOKS_DONE     | runtime_hooks         | they passed (a failure ends init instead)
//  7 | init    | CONSOLE        | console               | the pty master (SCM_RIGHTS), for the runtime
//    |         |                |                       | or --console-socket
//  8 | init    | SECCOMP        | seccomp_listener      | the notify listener fd (SCM_RIGHTS), which the
//    |         |                |                       | runtime hands to linux.seccomp.listenerPath
//  9 | runtime | SECCOMP_DONE   | seccomp_listener      | the listener was handed on
// 10 | init    | READY          | always                | set up (carries init's phase timeline); init
//    |         |                |                       | now waits on exec.fifo, or for 11
// 11 | runtime | START          | start_over_socket     | (`run` without a fifo) exec the process
// 12 | init    | GOING          | start_over_socket     | the startContainer hooks passed; init execs
//  * | init    | ERROR          | any time              | setup failed: errno and one line; init exits
//
// Each direction is ordered on its own: the runtime sends 3 and 4 without waiting for 2, so
// the check is "the next message this side sends (or receives) is the next row of that sender
// that applies", never an interleaving of the two directions. A runtime that sees the socket
// close without READY or ERROR reports how init died.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "crunlite/unique_fd.hpp"

namespace crunlite::sys {

enum class Message : uint32_t {
    none = 0,  // the peer is gone
    go = 1,
    ready = 2,
    error = 3,
    hooks = 4,
    hooks_done = 5,
    console = 6,
    seccomp_listener = 7,
    pid = 8,
    cgroups = 9,
    start = 10,
    going = 11,
    seccomp_done = 12,
    cgroup_mounts = 13,
};
const char* message_name(Message message);

enum class Side { runtime, init };
const char* side_name(Side side);

// Which optional rows of the table a given start has; computed once from the plan
// (exchange_shape in the planner), the same on both sides.
struct ExchangeShape {
    bool pid_handover = false;
    bool cgroup_mounts = false;
    bool cgroups = false;
    bool runtime_hooks = false;
    bool console = false;
    bool seccomp_listener = false;
    bool start_over_socket = false;
};

struct ExchangeStep {
    Message message;
    Side sender;
    bool ExchangeShape::*when;  // nullptr: always
};

inline constexpr ExchangeStep kExchange[] = {
    {Message::go, Side::runtime, nullptr},
    {Message::pid, Side::init, &ExchangeShape::pid_handover},
    {Message::cgroup_mounts, Side::runtime, &ExchangeShape::cgroup_mounts},
    {Message::cgroups, Side::runtime, &ExchangeShape::cgroups},
    {Message::hooks, Side::init, &ExchangeShape::runtime_hooks},
    {Message::hooks_done, Side::runtime, &ExchangeShape::runtime_hooks},
    {Message::console, Side::init, &ExchangeShape::console},
    {Message::seccomp_listener, Side::init, &ExchangeShape::seccomp_listener},
    {Message::seccomp_done, Side::runtime, &ExchangeShape::seccomp_listener},
    {Message::ready, Side::init, nullptr},
    {Message::start, Side::runtime, &ExchangeShape::start_over_socket},
    {Message::going, Side::init, &ExchangeShape::start_over_socket},
};

// The most descriptors one message carries.
constexpr size_t kMaxPassedFds = 32;

// One message as received. `fds` own what came with it.
struct Received {
    Message message = Message::none;
    int error_number = 0;  // ERROR
    pid_t pid = 0;         // PID
    std::string text;      // ERROR: the message; READY: init's phase timeline
    std::vector<UniqueFd> fds;
};

// One end of the socketpair, speaking for `self`. send() and receive() hold each direction to
// kExchange: a message out of its row is refused (sending: a bug of ours, thrown as such;
// receiving: an Error naming what came and what was due). ERROR may come at any time.
class Channel {
public:
    Channel(UniqueFd socket, Side self, const ExchangeShape& shape);
    Channel(Channel&&) noexcept = default;
    Channel& operator=(Channel&&) noexcept = default;

    // A message of this side's that another process sent for it (the first process of a fork
    // into a pid namespace sends PID; its child, holding a copy of this channel, goes on).
    void sent_by_another(Message message);
    // false when the peer is gone.
    bool send(Message message, std::span<const int> fds = {}, pid_t pid = 0, const std::string& text = "");
    bool send_error(int error_number, const std::string& text);
    // Message::none when the peer is gone (or sent something unreadable).
    Received receive();
    // The message this side expects next from its peer (Message::none: nothing more).
    Message expected() const;

    int fd() const { return socket_.get(); }
    UniqueFd release_socket() { return std::move(socket_); }

private:
    size_t next_of(Side sender, size_t from) const;
    // Holds this side's sends to the table: throws unless `message` is due, then steps past it.
    void advance_send(Message message);

    UniqueFd socket_;
    Side self_;
    ExchangeShape shape_;
    size_t next_send_ = 0;     // index into kExchange: the first row this side may send
    size_t next_receive_ = 0;  // the first row the peer may send
};

// Sends `fd` over a unix socket with SCM_RIGHTS and `payload` as the data (the console socket
// and seccomp listener conventions of runc).
bool send_fd(int socket_fd, int fd, const std::string& payload);

}  // namespace crunlite::sys
