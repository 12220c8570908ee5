// One way to run a helper program (ps, a hook, newuidmap): fork and exec it directly, never
// through a shell, so no argument can be read as shell syntax. Optionally feed it text on
// stdin, capture what it prints, and kill it after a timeout; then wait for it.
#pragma once
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace crunlite::subprocess {

struct Options {
    // The file to execute; empty: argv[0], looked up in PATH when it holds no '/' (execvp).
    std::string program;
    // The child's whole environment; unset: this process's.
    std::optional<std::vector<std::string>> env;
    // Written to the child's stdin, which is then closed; unset: the child shares our stdin.
    // A child that never reads it is not failing: what it does not take is dropped. The
    // caller ignores SIGPIPE (cli/main.cpp does), or such a child's exit would kill it.
    std::optional<std::string> input;
    bool capture_stdout = false;  // the child's stdout into Result::output
    bool capture_stderr = false;  // its stderr too, interleaved as written
    size_t output_limit = 1 << 20;  // bytes of output kept; the rest is read and dropped
    // After this long the child is killed (SIGKILL) and Result::timed_out is set.
    std::optional<int> timeout_seconds;
    // Descriptors the program inherits under the same numbers (all others above 2 are closed
    // on exec), such as the stdio pipes CRIU hands to a restored process (--inherit-fd).
    std::vector<int> pass_fds;
    // Its own process group, so that a signal to the caller's group (a Ctrl-C) does not reach
    // it half-way through its work (CRIU's freeze and dump, or a restore).
    bool new_process_group = false;
    // Runs in the child after fork, before exec (after the descriptors above are set up): only
    // what is safe after a fork. It returns an error text to fail the child with status 127.
    std::function<std::string()> before_exec;
    // Runs in the parent right after the fork, while the child waits (before anything above):
    // what must hold the child's pid before the program runs, as restore's systemd unit, which
    // takes CRIU in by pid so that what CRIU restores lands in the unit's cgroup. If it throws,
    // the child is killed and reaped, and the error goes on to the caller.
    std::function<void(pid_t)> after_fork;
    // A descriptor watched while the program runs, and what is done each time it is readable:
    // how restore answers CRIU's action script (criu/action_script.hpp) while CRIU waits.
    int watch_fd = -1;
    std::function<void()> on_watch_readable;
};

struct Result {
    int status = 0;  // as waitpid(2) reports it
    bool timed_out = false;
    std::string output;
    bool succeeded() const;  // exited with status 0
};

// Runs argv (argv[0] is the program's name as it sees it) and waits for it. Throws only when
// the child cannot be started (pipe, fork); a program that cannot be executed exits with 127
// after printing "exec <program>: <errno text>" on its stderr.
Result run(const std::vector<std::string>& argv, const Options& options = {});

// "exited with status N" or "was killed by signal NAME", for messages about a child.
std::string describe_exit(int status);

}  // namespace crunlite::subprocess
