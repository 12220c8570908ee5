// `start` releases init from exec.fifo; `run` is create + start, and in the foreground
// stays to forward signals and report the exit status.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crunlite/error.hpp"
#include "crunlite/hooks.hpp"
#include "crunlite/log.hpp"
#include "crunlite/phase_timer.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/state.hpp"
#include "launch/spawn.hpp"
#include "runtime/internal.hpp"

namespace crunlite::runtime {
namespace {

void release_init(const state::StateFile& state_file) {
    // The pidfd first: once the fifo is open, init may exec, run a short program, exit and be
    // reaped by its subreaper before we look, and its byte in the fifo then still says it started.
    UniqueFd init(int(::syscall(SYS_pidfd_open, state_file.record().pid, 0)));
    if (!init) throw Error("container init (pid " + std::to_string(state_file.record().pid) + ") is gone", errno);
    // Non-blocking open: it never waits for a writer, and init, blocked in its own open
    // for writing, goes on as soon as this one exists.
    UniqueFd fifo(::open(state_file.fifo_path().c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC));
    if (!fifo) throw Error("open " + state_file.fifo_path(), errno);
    struct stat st{};
    if (::fstat(fifo.get(), &st) != 0 || !S_ISFIFO(st.st_mode)) throw Error(state_file.fifo_path() + " is not the container's fifo", 0,
                    "the state in --root was changed by hand: `crun-lite delete --force " + state_file.record().id + "`");
    pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {init.get(), POLLIN, 0}};
    char byte;
    for (;;) {
        int n = ::poll(fds, 2, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error("wait for container init", errno);
        if ((fds[0].revents & POLLIN) && ::read(fifo.get(), &byte, 1) == 1) break;
        if (fds[1].revents & POLLIN) {
            if (::read(fifo.get(), &byte, 1) == 1) break;  // it started, and has already finished
            throw Error("container init exited before it could start the process");
        }
    }
    ::unlink(state_file.fifo_path().c_str());
}

// Only when there are any: the state JSON they get on stdin costs a serialisation.
// runtime-spec 1.3 (runtime.md, start step 9): a failing poststart hook is an error and the
// container is stopped. runc and crun then destroy it as delete would (poststop hooks run) and
// exit non-zero: the callers (start, and run's own cleanup) do so, and the hook's error is theirs.
void run_poststart_hooks(const state::Record& r) {
    std::vector<spec::Hook> poststart = hooks::from_json(r.hooks).poststart;
    if (!poststart.empty()) hooks::run(poststart, "poststart", hooks::state_json(r.id, "running", r.pid, r.bundle, r.annotations));
}

}  // namespace

void start(const std::string& root, const std::string& id) {
    state::StateFile state_file = state::StateFile::open(root, id);
    switch (state_file.status()) {
        case state::Status::created:
            if (!state_file.record().has_process)
                throw Error("cannot start a container without a process: its config.json has no .process");
            break;
        case state::Status::stopped: throw Error("cannot start a container that has stopped");
        case state::Status::running: throw Error("cannot start an already running container");
        default: throw Error(std::string("cannot start a container in the ") + state::status_name(state_file.status()) + " state");
    }
    release_init(state_file);
    try {
        run_poststart_hooks(state_file.record());
    } catch (const Error&) {
        try {
            remove_whatever_its_status(state_file);
        } catch (const Error& e) {
            log::warning("removing the container after its poststart hook failed: " + std::string(e.what()));
        }
        throw;
    }
}

void start_created_here(CreatedContainer& container) {
    if (!container.record.has_process)
        throw Error("cannot start a container without a process: its config.json has no .process");
    bool has_poststart = !hooks::from_json(container.record.hooks).poststart.empty();
    bool going = launch::start_over_socket(*container.start_channel, has_poststart);
    container.start_channel.reset();
    if (!going) throw Error("container init exited before it could start the process");
    if (has_poststart) run_poststart_hooks(container.record);  // a failure: run's cleanup removes the container
}

int run(const std::string& root, const std::string& id, const CreateOptions& options, bool detach, bool keep) {
    // Signals wait in a queue from now on, to be forwarded once the container runs;
    // init unblocks them for itself right after clone.
    ScopedSignalBlock signals_queued(ScopedSignalBlock::all(), !detach);
    PhaseTimer timer;
    CreatedContainer container = create_container(root, id, options, !detach, true);
    timer.mark("create");
    try {
        if (container.start_channel) start_created_here(container);
        else start(root, id);
    } catch (...) {
        remove(root, id, true);
        throw;
    }
    timer.mark("start");
    if (detach) return 0;
    int status = wait_forwarding_signals(container.pid, container.console.get());
    timer.mark("container-ran");
    if (!keep) {
        try {
            // Init has exited and been reaped: the container is stopped, unless a `delete`
            // from elsewhere got there first.
            state::StateFile state_file = state::StateFile::reopen(root, container.record);
            remove_stopped(state_file);
        } catch (const NotFoundError&) {
        } catch (const Error& e) {
            log::warning("delete after run: " + std::string(e.what()));
        }
        timer.mark("delete");
    }
    log::debug("run phases: " + timer.summary());
    return status;
}

}  // namespace crunlite::runtime
