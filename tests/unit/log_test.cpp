#include <gtest/gtest.h>
#include <time.h>

#include <regex>

#include "crunlite/log.hpp"

using namespace crunlite;

namespace {
std::string utc_seconds(time_t t) {
    tm utc{};
    gmtime_r(&t, &utc);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    return buf;
}
}  // namespace

// The hand-made civil date must agree with the C library's, to the second.
TEST(Rfc3339Now, MatchesGmtimeAndHasNanoseconds) {
    time_t before = time(nullptr);
    std::string now = log::rfc3339_now();
    time_t after = time(nullptr);
    ASSERT_TRUE(std::regex_match(now, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z)"))) << now;
    std::string seconds = now.substr(0, 19);
    EXPECT_TRUE(seconds == utc_seconds(before) || seconds == utc_seconds(after)) << now;
}
