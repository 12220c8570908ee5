// parse_signal: the signal argument of `crun-lite kill`, as runc reads it (name with or
// without SIG, any case, or a number).
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "crunlite/error.hpp"
#include "crunlite/runtime.hpp"
#include "test_util.hpp"

namespace crunlite::runtime {
namespace {

using test::ThrowsError;

TEST(ParseSignal, KillInEveryForm) {
    for (const char* text : {"KILL", "SIGKILL", "kill", "sigkill", "Kill", "SigKill", "9"})
        EXPECT_EQ(parse_signal(text), SIGKILL) << text;
}

TEST(ParseSignal, CommonNames) {
    EXPECT_EQ(parse_signal("TERM"), SIGTERM);
    EXPECT_EQ(parse_signal("SIGTERM"), SIGTERM);
    EXPECT_EQ(parse_signal("HUP"), SIGHUP);
    EXPECT_EQ(parse_signal("SIGINT"), SIGINT);
    EXPECT_EQ(parse_signal("USR1"), SIGUSR1);
    EXPECT_EQ(parse_signal("SIGUSR2"), SIGUSR2);
    EXPECT_EQ(parse_signal("SIGSTOP"), SIGSTOP);
    EXPECT_EQ(parse_signal("CONT"), SIGCONT);
    EXPECT_EQ(parse_signal("SIGCHLD"), SIGCHLD);
    EXPECT_EQ(parse_signal("SIGWINCH"), SIGWINCH);
    EXPECT_EQ(parse_signal("SIGPWR"), SIGPWR);
    EXPECT_EQ(parse_signal("SIGSYS"), SIGSYS);
    EXPECT_EQ(parse_signal("SIGSTKFLT"), SIGSTKFLT);
    EXPECT_EQ(parse_signal("ABRT"), SIGABRT);
    EXPECT_EQ(parse_signal("IOT"), SIGABRT);
}

// golang.org/x/sys/unix, which runc uses (unix.SignalNum), names signal 29 "SIGIO"; glibc's
// sigabbrev_np() calls it "POLL", so looking names up there alone misses "SIGIO".
TEST(ParseSignal, SigioIsKnown) {
    EXPECT_EQ(parse_signal("SIGIO"), SIGIO);
    EXPECT_EQ(parse_signal("IO"), SIGIO);
}

TEST(ParseSignal, Numbers) {
    EXPECT_EQ(parse_signal("1"), 1);
    EXPECT_EQ(parse_signal("15"), 15);
    EXPECT_EQ(parse_signal("09"), 9);
    EXPECT_EQ(parse_signal(std::to_string(SIGRTMIN)), SIGRTMIN);
    EXPECT_EQ(parse_signal(std::to_string(NSIG - 1)), NSIG - 1);
}

// Signal 0 sends nothing and only checks that init is alive, as kill(1) and runc
// (strconv.Atoi, then unix.Signal(0)) allow.
TEST(ParseSignal, ZeroIsAProbe) {
    EXPECT_EQ(parse_signal("0"), 0);
    EXPECT_EQ(parse_signal("000"), 0);
}

TEST(ParseSignal, NumbersOutOfRangeAreInvalid) {
    EXPECT_TRUE(ThrowsError([] { parse_signal(std::to_string(NSIG)); }, "invalid signal"));
    EXPECT_TRUE(ThrowsError([] { parse_signal("99999"); }, "invalid signal"));
    EXPECT_TRUE(ThrowsError([] { parse_signal("99999999999999999999999"); }, "invalid signal"));
}

TEST(ParseSignal, UnknownNamesThrow) {
    for (const char* text : {"FOO", "SIGFOO", "SIG", "", "-9", " 9", "9 ", "KILL9", "SIGSIGKILL", "SIG_KILL", "+9"})
        EXPECT_TRUE(ThrowsError([&] { parse_signal(text); }, "signal")) << "\"" << text << "\"";
}

TEST(ParseSignal, UnknownNameMessageQuotesTheInput) {
    EXPECT_TRUE(ThrowsError([] { parse_signal("FOO"); }, "unknown signal \"FOO\""));
}

// Real-time signals by name are not supported (runc refuses them too); if they ever are,
// they must map to the right numbers.
TEST(ParseSignal, RealTimeNamesAreUnsupportedOrCorrect) {
    for (auto [name, expected] : {std::pair<const char*, int>{"SIGRTMIN", SIGRTMIN}, {"RTMIN", SIGRTMIN}, {"SIGRTMAX", SIGRTMAX}}) {
        try {
            EXPECT_EQ(parse_signal(name), expected) << name;
        } catch (const Error& e) {
            EXPECT_TRUE(test::contains(e.what(), "unknown signal")) << e.what();
        }
    }
}

}  // namespace
}  // namespace crunlite::runtime
