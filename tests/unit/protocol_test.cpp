// The runtime <-> init protocol (linux/protocol.hpp) over a real socketpair, without root: the
// order of the table is held on both ends, every message keeps its own fields, and a whole
// exchange between a forked "init" and InitProcess runs as create runs it.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "crunlite/error.hpp"
#include "init/init_channel.hpp"
#include "sys/protocol.hpp"
#include "launch/spawn.hpp"

namespace crunlite::sys {
namespace {

using init::InitChannel;
using launch::InitProcess;

struct Ends {
    Channel runtime, init;
};

Ends connected(const ExchangeShape& shape) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    return {Channel(UniqueFd(fds[0]), Side::runtime, shape), Channel(UniqueFd(fds[1]), Side::init, shape)};
}

// The message of the Error `call` throws.
template <typename F>
std::string error_of(F&& call) {
    try {
        call();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(Protocol, TheShortestExchangeIsGoThenReady) {
    Ends ends = connected({});
    ASSERT_TRUE(ends.runtime.send(Message::go));
    EXPECT_EQ(ends.init.receive().message, Message::go);
    ASSERT_TRUE(ends.init.send(Message::ready, {}, 0, "namespaces=1.0ms"));
    Received ready = ends.runtime.receive();
    EXPECT_EQ(ready.message, Message::ready);
    EXPECT_EQ(ready.text, "namespaces=1.0ms");
    EXPECT_EQ(ends.runtime.expected(), Message::none);  // nothing more from init without START
}

TEST(Protocol, DescriptorsTravelWithTheirMessage) {
    ExchangeShape shape;
    shape.cgroups = true;
    Ends ends = connected(shape);
    UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC)), b(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    int raw[] = {a.get(), b.get()};
    ASSERT_TRUE(ends.runtime.send(Message::go));
    ASSERT_TRUE(ends.runtime.send(Message::cgroups, raw));
    ends.init.receive();
    Received cgroups = ends.init.receive();
    EXPECT_EQ(cgroups.message, Message::cgroups);
    ASSERT_EQ(cgroups.fds.size(), 2u);
    EXPECT_EQ(::fcntl(cgroups.fds[1].get(), F_GETFL) & O_ACCMODE, O_WRONLY);  // in the order sent
}

// Two ends that disagree on the shape (init believes there are hooks, the runtime does not):
// the receiving end refuses the message, naming what came and what was due.
TEST(Protocol, AMessageOutOfItsRowIsRefusedNamingBoth) {
    ExchangeShape with_hooks;
    with_hooks.runtime_hooks = true;
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    Channel runtime(UniqueFd(fds[0]), Side::runtime, ExchangeShape{});
    Channel init(UniqueFd(fds[1]), Side::init, with_hooks);
    ASSERT_TRUE(init.send(Message::hooks));
    EXPECT_EQ(error_of([&] { runtime.receive(); }), "sync protocol: container init sent HOOKS where READY was due");
}

TEST(Protocol, HooksAfterReadyIsRefused) {
    ExchangeShape shape;  // no hooks in this start
    Ends ends = connected(shape);
    EXPECT_EQ(error_of([&] { ends.init.send(Message::hooks); }),
              "sync protocol: container init was about to send HOOKS where READY is due (a bug in crun-lite)");
    shape.runtime_hooks = true;
    Ends with_hooks = connected(shape);
    ASSERT_TRUE(with_hooks.init.send(Message::hooks));
    ASSERT_TRUE(with_hooks.init.send(Message::ready));
    EXPECT_EQ(error_of([&] { with_hooks.init.send(Message::hooks); }),
              "sync protocol: container init was about to send HOOKS where end of the exchange is due (a bug in crun-lite)");
}

TEST(Protocol, TheRuntimeCannotSkipGo) {
    ExchangeShape shape;
    shape.cgroups = true;
    Ends ends = connected(shape);
    EXPECT_THROW(ends.runtime.send(Message::cgroups), Error);
    ASSERT_TRUE(ends.runtime.send(Message::go));
    EXPECT_NO_THROW(ends.runtime.send(Message::cgroups));
}

TEST(Protocol, PidTravelsInItsOwnField) {
    ExchangeShape shape;
    shape.pid_handover = true;
    Ends ends = connected(shape);
    ASSERT_TRUE(ends.init.send(Message::pid, {}, 4242));
    Received pid = ends.runtime.receive();
    EXPECT_EQ(pid.message, Message::pid);
    EXPECT_EQ(pid.pid, 4242);
    EXPECT_EQ(pid.error_number, 0);
}

TEST(Protocol, ErrorMayComeAnyTimeAndKeepsItsErrno) {
    ExchangeShape shape;
    shape.runtime_hooks = shape.console = true;
    Ends ends = connected(shape);
    ASSERT_TRUE(ends.init.send_error(EINVAL, ".mounts[7]: mount tmpfs: Invalid argument"));
    Received error = ends.runtime.receive();
    EXPECT_EQ(error.message, Message::error);
    EXPECT_EQ(error.error_number, EINVAL);
    EXPECT_EQ(error.text, ".mounts[7]: mount tmpfs: Invalid argument");
    EXPECT_EQ(ends.runtime.expected(), Message::hooks);  // an ERROR does not advance the order
}

// init fails and exits while a message of the runtime's (CGROUPS) is still unread: the kernel
// then has the runtime's next read fail with ECONNRESET before the ERROR init sent first.
TEST(Protocol, ErrorOfAPeerThatLeftAMessageUnreadStillArrives) {
    ExchangeShape shape;
    shape.cgroups = true;
    Ends ends = connected(shape);
    ASSERT_TRUE(ends.init.send_error(5, ".mounts[7]: mount tmpfs: Invalid argument"));
    ASSERT_TRUE(ends.runtime.send(Message::go));
    ASSERT_TRUE(ends.runtime.send(Message::cgroups));
    ends.init.release_socket();
    Received error = ends.runtime.receive();
    EXPECT_EQ(error.message, Message::error);
    EXPECT_EQ(error.error_number, 5);
    EXPECT_EQ(ends.runtime.receive().message, Message::none);  // then the end
}

// A whole create-shaped exchange: a forked "init" forks once more into a "pid namespace"
// (CLONE_PARENT, as init does), its child asks for the hooks, hands over a console and reports
// READY; the runtime side is the InitProcess create uses.
TEST(Protocol, AWholeExchangeWithHandoverHooksAndConsole) {
    ExchangeShape shape;
    shape.pid_handover = shape.cgroups = shape.runtime_hooks = shape.console = true;
    Ends ends = connected(shape);
    pid_t first = ::fork();
    ASSERT_GE(first, 0);
    if (first == 0) {
        ends.runtime.release_socket();
        InitChannel channel(std::move(ends.init));
        channel.wait_go();
        channel.hand_over_to_child([] {
            clone_args args{};
            args.flags = CLONE_PARENT;  // as init does: the runtime (here the test) is the parent
            return pid_t(::syscall(SYS_clone3, &args, sizeof args));
        });
        if (channel.receive_cgroups().size() != 1) _exit(3);
        channel.run_runtime_hooks();
        channel.hand_over_console(UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)));
        channel.ready("all=1ms");
        _exit(0);
    }
    ends.init.release_socket();
    InitProcess init(first, std::move(ends.runtime), false);
    init.go();
    std::vector<UniqueFd> tasks;
    tasks.emplace_back(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    init.send_cgroups(tasks);
    bool hooks_ran = false;
    InitProcess::Ready ready = init.wait_ready({.run_runtime_hooks = [&] { hooks_ran = true; }, .take_seccomp_listener = {}});
    EXPECT_TRUE(hooks_ran);
    EXPECT_TRUE(ready.console);
    EXPECT_EQ(ready.timeline, "all=1ms");
    EXPECT_NE(init.pid(), first);  // the child of the PID message was adopted
    pid_t adopted = init.release();
    int status = -1;
    ASSERT_EQ(::waitpid(adopted, &status, 0), adopted);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(Protocol, AnInitThatDiesIsReportedWithHowItDied) {
    Ends ends = connected({});
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) _exit(7);
    ends.init.release_socket();
    InitProcess init(child, std::move(ends.runtime), false);
    init.go();
    EXPECT_EQ(error_of([&] { init.wait_ready({}); }), "container init exited with status 7 before it was set up");
}

}  // namespace
}  // namespace crunlite::sys
