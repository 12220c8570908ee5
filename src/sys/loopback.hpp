// The loopback interface of a new network namespace is down; a container expects it up.
#pragma once

namespace crunlite::sys {

// Brings "lo" up in the network namespace of `netns_fd` (an fd of /proc/PID/ns/net), or in this
// process's own when it is -1. The socket that carries the request is made in that namespace
// (setns there and back: the runtime is single-threaded).
void bring_up_loopback(int netns_fd = -1);

}  // namespace crunlite::sys
