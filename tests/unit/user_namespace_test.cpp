// Telling the host's user namespace from another one by its uid_map (src/sys/user_namespace.hpp):
// the runtime as uid 0 of rootless podman's namespace must not take itself for the host's root.
#include <gtest/gtest.h>

#include "sys/user_namespace.hpp"

using crunlite::sys::is_initial_uid_map;

TEST(UserNamespace, TheInitialMapIsTheWholeRangeOntoItself) {
    EXPECT_TRUE(is_initial_uid_map("         0          0 4294967295\n"));  // as the kernel prints it
    EXPECT_TRUE(is_initial_uid_map("0 0 4294967295\n"));
}

TEST(UserNamespace, AnyOtherMapIsAUserNamespace) {
    EXPECT_FALSE(is_initial_uid_map("         0       1000          1\n"));       // unshare -Ur by uid 1000
    EXPECT_FALSE(is_initial_uid_map("         0          0          1\n"));       // unshare -Ur by root
    EXPECT_FALSE(is_initial_uid_map("0 0 4294967294\n"));                          // all but one id
    EXPECT_FALSE(is_initial_uid_map("0 1000 1\n1 100000 65536\n"));                // rootless podman's
    EXPECT_FALSE(is_initial_uid_map("0 0 4294967295\n0 0 4294967295\n"));         // not one line
    EXPECT_FALSE(is_initial_uid_map(""));                                          // an unmapped namespace
    EXPECT_FALSE(is_initial_uid_map("0 0 4294967295"));                            // no newline: not the kernel's text
}
