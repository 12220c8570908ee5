// The parent <-> init protocol's socket (linux/sync.hpp): what one side sent before it went away
// still reaches the other.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "linux/sync.hpp"

namespace crunlite::linux_setup {
namespace {

struct Pair {
    int parent = -1, init = -1;
    Pair() {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
        parent = fds[0];
        init = fds[1];
    }
    ~Pair() {
        if (parent >= 0) ::close(parent);
        if (init >= 0) ::close(init);
    }
};

TEST(Sync, MessageArrives) {
    Pair p;
    ASSERT_TRUE(send_sync(p.init, SyncType::ready, 0, "phases"));
    SyncMessage m;
    ASSERT_TRUE(receive_sync(p.parent, m));
    EXPECT_EQ(m.type, SyncType::ready);
    EXPECT_STREQ(m.text, "phases");
}

// init fails and exits while a message of the parent's (CGROUPS) is still unread: the kernel
// then has the parent's next read fail with ECONNRESET before the ERROR init sent first.
TEST(Sync, ErrorOfAPeerThatLeftAMessageUnreadStillArrives) {
    Pair p;
    ASSERT_TRUE(send_sync(p.init, SyncType::error, 5, ".mounts[7]: mount tmpfs: Invalid argument"));
    ASSERT_TRUE(send_sync(p.parent, SyncType::cgroups));
    ::close(p.init);
    p.init = -1;
    SyncMessage m;
    ASSERT_TRUE(receive_sync(p.parent, m));
    EXPECT_EQ(m.type, SyncType::error);
    EXPECT_EQ(m.err, 5);
    EXPECT_STREQ(m.text, ".mounts[7]: mount tmpfs: Invalid argument");
    EXPECT_FALSE(receive_sync(p.parent, m));  // then the end
}

}  // namespace
}  // namespace crunlite::linux_setup
