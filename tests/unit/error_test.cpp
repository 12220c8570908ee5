// crunlite::Error keeps its parts (JSON path, what failed, errno, hint) and puts them into one
// line only to be shown; the line of every constructor that existed before the parts stays the same.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <nlohmann/json.hpp>

#include "crunlite/error.hpp"
#include "crunlite/log.hpp"
#include "test_util.hpp"
#include "util/text.hpp"

namespace crunlite {
namespace {

TEST(ErrorParts, AMessageAndAnErrno) {
    Error e("open /x", ENOENT);
    EXPECT_STREQ(e.what(), "open /x: No such file or directory");
    EXPECT_EQ(e.what_failed(), "open /x");
    EXPECT_EQ(e.error_number(), ENOENT);
    EXPECT_EQ(e.problem(), "open /x: No such file or directory");
    EXPECT_EQ(e.json_path(), "");
    EXPECT_EQ(e.hint(), "");
    EXPECT_EQ(e.line(), e.what());
}

TEST(ErrorParts, AHintEndsTheLine) {
    Error e("write cpuset.cpus", EINVAL, "name CPUs this host has");
    EXPECT_STREQ(e.what(), "write cpuset.cpus: Invalid argument (hint: name CPUs this host has)");
    EXPECT_EQ(e.problem(), "write cpuset.cpus: Invalid argument");
    EXPECT_EQ(e.hint(), "name CPUs this host has");
}

TEST(ErrorParts, AFieldLeadsTheLineAsItAlwaysDid) {
    Error e(JsonPath{".mounts[7].source"}, "bind /nope", ENOENT, "create it");
    EXPECT_EQ(std::string(e.what()), Error(".mounts[7].source: bind /nope", ENOENT, "create it").what());
    EXPECT_EQ(e.json_path(), ".mounts[7].source");
    EXPECT_EQ(e.problem(), "bind /nope: No such file or directory");
}

TEST(ErrorParts, ASpecErrorLeavesItsHintOutOfWhatButNotOutOfItsLine) {
    SpecError e(".process.cwd", "must be an absolute path", "start the path with /");
    EXPECT_STREQ(e.what(), ".process.cwd: must be an absolute path");
    EXPECT_EQ(e.line(), ".process.cwd: must be an absolute path (hint: start the path with /)");
    EXPECT_EQ(e.json_path(), ".process.cwd");
    EXPECT_EQ(e.problem(), "must be an absolute path");
    EXPECT_STREQ(SpecError("", "must be an object").what(), ": must be an object");  // the whole document
}

TEST(ErrorParts, InContextKeepsTheParts) {
    Error e = SpecError(".process.args", "is required", "add it").in_context("config.json");
    EXPECT_STREQ(e.what(), "config.json: .process.args: is required");
    EXPECT_EQ(e.line(), "config.json: .process.args: is required (hint: add it)");
    EXPECT_EQ(e.json_path(), ".process.args");
    EXPECT_EQ(e.hint(), "add it");
}

TEST(ErrorParts, NotFoundKeepsItsText) {
    EXPECT_EQ(std::string(NotFoundError("x").what()).rfind("container \"x\" does not exist (hint: `crun-lite list`", 0), 0u);
}

// With --log-format json the parts are keys of their own; "msg" is the line stderr shows.
TEST(ErrorLog, JsonLineCarriesTheParts) {
    test::TempDir dir;
    std::string file = dir.path() + "/log.json";
    log::configure(file, log::Format::json, false);
    int saved_stderr = ::dup(STDERR_FILENO);
    int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    ::dup2(null, STDERR_FILENO);
    log::error(Error(JsonPath{".linux.resources.cpu.cpus"}, "write \"4000\" to cpuset.cpus", EINVAL, "name CPUs this host has"));
    log::error(Error("plain"));
    ::dup2(saved_stderr, STDERR_FILENO);
    ::close(saved_stderr);
    ::close(null);
    log::configure("", log::Format::text, false);
    std::string text;
    ASSERT_TRUE(text::read_file(file, text));
    auto first = nlohmann::json::parse(text.substr(0, text.find('\n')));
    EXPECT_EQ(first["msg"], ".linux.resources.cpu.cpus: write \"4000\" to cpuset.cpus: Invalid argument (hint: name CPUs this host has)");
    EXPECT_EQ(first["json_path"], ".linux.resources.cpu.cpus");
    EXPECT_EQ(first["errno"], EINVAL);
    EXPECT_EQ(first["hint"], "name CPUs this host has");
    auto second = nlohmann::json::parse(text.substr(text.find('\n') + 1));
    EXPECT_EQ(second.size(), 3u) << second;  // level, msg, time: no empty parts
}

}  // namespace
}  // namespace crunlite
