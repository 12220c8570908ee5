// util/passwd: the user name and home directory of a uid, from passwd text as the host's or a
// container's /etc/passwd holds it.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "crunlite/unique_fd.hpp"
#include "util/passwd.hpp"

namespace crunlite {
namespace {

constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "broken:x\n"
    "nohome:x:1000:1000:No Home::/bin/sh\n"
    "app:x:1001:1001::/srv/app:/bin/false\n"
    "short:x:1002:1002";

TEST(PasswdHome, TheHomeOfTheUid) {
    EXPECT_EQ(passwd_home_directory(kPasswd, 0), "/root");
    EXPECT_EQ(passwd_home_directory(kPasswd, 1001), "/srv/app");
}

TEST(PasswdHome, SlashWhenThereIsNoneToGive) {
    EXPECT_EQ(passwd_home_directory(kPasswd, 1000), "/");  // an empty home field
    EXPECT_EQ(passwd_home_directory(kPasswd, 1002), "/");  // a line without a home field
    EXPECT_EQ(passwd_home_directory(kPasswd, 4242), "/");  // no such uid
    EXPECT_EQ(passwd_home_directory("", 0), "/");
}

TEST(PasswdHome, AUidIsMatchedWholeNotAsAPrefix) {
    EXPECT_EQ(passwd_home_directory("a:x:10:10::/ten:/bin/sh\nb:x:1:1::/one:/bin/sh\n", 1), "/one");
}

TEST(PasswdHome, FromAnOpenFile) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    std::string text = kPasswd;
    ASSERT_EQ(::write(write_end.get(), text.data(), text.size()), ssize_t(text.size()));
    write_end.reset();
    EXPECT_EQ(passwd_home_directory_from_fd(read_end.get(), 1001), "/srv/app");
    EXPECT_EQ(passwd_home_directory_from_fd(-1, 0), "/");  // unreadable
}

}  // namespace
}  // namespace crunlite
