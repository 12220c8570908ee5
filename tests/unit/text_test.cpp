// The stream-free readers used on the container start path (src/util/text.hpp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "test_util.hpp"
#include "util/text.hpp"

using crunlite::text::has_item;
using crunlite::text::parse_number_list;
using crunlite::text::trim_number_list;
using crunlite::text::read_file;
using crunlite::text::split;

TEST(TextSplit, DropsEmptyPieces) {
    EXPECT_EQ(split("/crun-lite//abc/", '/'), (std::vector<std::string_view>{"crun-lite", "abc"}));
    EXPECT_EQ(split("", ','), std::vector<std::string_view>{});
    EXPECT_EQ(split(",,,", ','), std::vector<std::string_view>{});
    EXPECT_EQ(split("a b  c", ' '), (std::vector<std::string_view>{"a", "b", "c"}));
    EXPECT_EQ(split("one", ' '), std::vector<std::string_view>{"one"});
}

TEST(TextHasItem, MatchesWholeItemsOnly) {
    EXPECT_TRUE(has_item("cpu,cpuacct", "cpuacct"));
    EXPECT_TRUE(has_item("cpu,cpuacct", "cpu"));
    EXPECT_FALSE(has_item("cpuacct", "cpu"));
    EXPECT_FALSE(has_item("", "cpu"));
    EXPECT_TRUE(has_item("name=systemd", "name=systemd"));
}

TEST(TextReadFile, ReadsWholeFilesAndHonoursTheLimit) {
    char dir_template[] = "/tmp/crunlite-text-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    std::string dir = dir_template, path = dir + "/f", content(20000, 'x');
    content += "\nend";
    std::ofstream(path) << content;
    std::string out;
    ASSERT_TRUE(read_file(path, out));
    EXPECT_EQ(out, content);  // more than one read(2) buffer
    EXPECT_FALSE(read_file(path, out, 100));
    EXPECT_EQ(errno, EFBIG);
    EXPECT_FALSE(read_file(dir + "/missing", out));
    EXPECT_EQ(errno, ENOENT);
    ASSERT_TRUE(read_file("/proc/self/stat", out));  // procfs reports size 0: read until EOF
    EXPECT_EQ(out.substr(0, std::to_string(getpid()).size() + 1), std::to_string(getpid()) + " ");
    unlink(path.c_str());
    rmdir(dir.c_str());
}TEST(TextNumberList, RangesAndNumbersSortedOnce) {
    std::vector<unsigned> out;
    EXPECT_EQ(parse_number_list("3,0-1,1", 8, out), "");
    EXPECT_EQ(out, (std::vector<unsigned>{0, 1, 3}));
    EXPECT_EQ(parse_number_list("", 8, out), "");
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(parse_number_list("7", 8, out), "");
    EXPECT_EQ(out, (std::vector<unsigned>{7}));
}

TEST(TextNumberList, EachProblemIsNamed) {
    std::vector<unsigned> out;
    EXPECT_EQ(parse_number_list("0-2,", 8, out), "a number is missing at the end");
    EXPECT_EQ(parse_number_list("0-", 8, out), "a number is missing at the end");
    EXPECT_EQ(parse_number_list("3-1", 8, out), "a range goes from low to high");
    EXPECT_EQ(parse_number_list("0, 1", 8, out), "unexpected \" \"");
    EXPECT_EQ(parse_number_list("0;1", 8, out), "unexpected \";\"");
    EXPECT_EQ(parse_number_list("8", 8, out), "each number must be below 8");
    EXPECT_EQ(parse_number_list("99999999999999999999", 8, out), "each number must be below 8");
    EXPECT_EQ(parse_number_list("1\n", 8, out), "unexpected \"\n\"");
}

TEST(TextNumberList, BlanksAroundNumbersAreTrimmedButNotBetweenDigits) {
    EXPECT_EQ(trim_number_list(" 0 - 2, 4\n"), "0-2,4");
    EXPECT_EQ(trim_number_list("1 2"), "1 2");
    EXPECT_EQ(trim_number_list(""), "");
    std::vector<unsigned> out;
    EXPECT_NE(parse_number_list(trim_number_list("1 2"), 8, out), "");
}


