// Pieces shared by the lifecycle commands, not part of the public runtime API.
#pragma once
#include <string>

#include "crunlite/runtime.hpp"
#include "crunlite/state.hpp"
#include "crunlite/unique_fd.hpp"

namespace crunlite::runtime {

struct CreatedContainer {
    int pid = 0;
    state::Record record;  // as saved in its state file
    UniqueFd console;  // the pty master, when the process has a terminal and no console socket took it
    UniqueFd start_socket;  // start_here: the sync socket init waits on for START
};

// The end of `delete` for a container whose init has exited: cgroups (ending what outlived
// init), poststop hooks, the state file.
void remove_stopped(state::StateFile& state_file);

// create, keeping the pty master for a foreground `run` when there is no --console-socket.
// start_here (`run`): no exec.fifo; init waits for START on `start_socket` instead
// (start_created_here). Ignored (a fifo, no socket) when seccomp is loaded before READY.
CreatedContainer create_container(const std::string& root, const std::string& id, const CreateOptions& options,
                                  bool foreground, bool start_here);

// `run`'s start of what create_container(start_here) made: START to init, then its GOING (it
// passed the startContainer hooks and execs), then the poststart hooks.
void start_created_here(CreatedContainer& container);

// Hands the pty master to the --console-socket listener (SCM_RIGHTS), as runc does.
void send_to_console_socket(const std::string& socket_path, int master_fd);

// With every signal blocked by the caller: forwards signals to `pid` until it exits (and,
// given a pty master, copies between it and the runtime's own stdio), then returns the
// exit status (128+N when killed by signal N).
int wait_forwarding_signals(int pid, int console_fd = -1);

}  // namespace crunlite::runtime
