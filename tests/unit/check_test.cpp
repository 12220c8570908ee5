// `crun-lite check`: the pure parts. Collecting every config error at once (with the normal
// parse unchanged), the PATH resolution args[0] goes through, and the findings report.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "check/checks.hpp"
#include "crunlite/check.hpp"
#include "crunlite/error.hpp"
#include "crunlite/spec.hpp"
#include "sys/executable_search.hpp"
#include "test_util.hpp"

namespace crunlite {
namespace {

using nlohmann::json;

std::vector<std::string> paths_of(const std::vector<SpecError>& errors) {
    std::vector<std::string> out;
    for (auto& e : errors) out.push_back(e.json_path());
    return out;
}

json with_many_faults() {
    json c = spec::default_spec(false);
    c["process"]["capabilities"]["bounding"].push_back("CAP-NOPE");       // malformed (an unknown CAP_X only warns)
    c["process"]["capabilities"]["effective"].push_back("cap_also_nope");
    c["process"]["rlimits"].push_back({{"type", "RLIMIT_NOPE"}, {"hard", 1}, {"soft", 1}});
    c["process"]["env"].push_back("NOEQUALS");
    c["mounts"].push_back({{"destination", ""}, {"type", "tmpfs"}});  // a relative one only warns
    c["mounts"].push_back({{"destination", "/ok"}, {"type", "tmpfs"}});
    c["linux"]["namespaces"].push_back({{"type", "nett"}});
    c["linux"]["sysctl"] = {{"kernel.panic", "1"}};
    c["linux"]["resources"]["memory"] = {{"limit", "lots"}};
    c["hooks"] = {{"prestart", {{{"path", "relative/hook"}}}}};
    return c;
}

TEST(CollectingParse, ReportsEveryFaultWithItsPath) {
    std::vector<SpecError> errors;
    spec::Spec s = spec::parse_spec_collecting(with_many_faults(), errors);
    std::vector<std::string> expected = {
        ".process.env[2]",        ".process.capabilities.bounding[3]", ".process.capabilities.effective[3]",
        ".process.rlimits[1].type", ".mounts[7].destination",          ".hooks.prestart[0].path",
        ".linux.namespaces[6].type", ".linux.resources.memory.limit",   ".linux.sysctl.kernel.panic",
    };
    auto got = paths_of(errors);
    for (auto& path : expected) EXPECT_NE(std::find(got.begin(), got.end(), path), got.end()) << path << " missing";
    EXPECT_EQ(got.size(), expected.size());
    // What parsed is kept: the good mount after the bad one, the other namespaces.
    ASSERT_EQ(s.mounts.size(), 8u);
    EXPECT_EQ(s.mounts.back().destination, "/ok");
    EXPECT_EQ(s.linux.namespaces.size(), 6u);
    EXPECT_EQ(s.process->capabilities->bounding.size(), 3u);
}

TEST(CollectingParse, TheNormalParseStillThrowsTheFirst) {
    EXPECT_TRUE(test::ThrowsSpecError([] { spec::parse_spec(with_many_faults()); }, ".process.env[2]"));
}

TEST(CollectingParse, AGoodConfigHasNoErrors) {
    std::vector<SpecError> errors;
    spec::parse_spec_collecting(spec::default_spec(false), errors);
    spec::parse_spec_collecting(spec::default_spec(true), errors);
    EXPECT_TRUE(errors.empty()) << errors.front().what();
}

TEST(CollectingParse, NotAnObjectIsOneError) {
    std::vector<SpecError> errors;
    spec::parse_spec_collecting(json::array({1, 2}), errors);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].json_path(), "");
}

TEST(CollectingParse, ABadSectionDoesNotHideTheOthers) {
    json c = spec::default_spec(false);
    c["process"] = "sh";  // not an object: one error, not one per member
    c["root"] = {{"path", 1}};
    c["ociVersion"] = "9.9";
    std::vector<SpecError> errors;
    spec::parse_spec_collecting(c, errors);
    EXPECT_EQ(paths_of(errors), (std::vector<std::string>{".ociVersion", ".root.path", ".process"}));
}

TEST(CollectingParse, CrossFieldRulesAreAllReported) {
    json c = spec::default_spec(false);
    c["linux"]["namespaces"] = json::array({{{"type", "pid"}}});
    c["hostname"] = "h";
    c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    std::vector<SpecError> errors;
    spec::parse_spec_collecting(c, errors);
    // (no mount namespace is no error: the container shares the runtime's)
    EXPECT_EQ(paths_of(errors), (std::vector<std::string>{".hostname", ".linux.sysctl.net.ipv4.ip_forward"}));
}

TEST(ExecutableCandidates, SearchesPathFromTheEnvironment) {
    using sys::executable_candidates;
    EXPECT_EQ(executable_candidates("sh", {"PATH=/a:/b"}), (std::vector<std::string>{"/a/sh", "/b/sh"}));
    // The last PATH wins, as in the exec that init makes; an empty entry is the working directory.
    EXPECT_EQ(executable_candidates("sh", {"PATH=/x", "TERM=xterm", "PATH=/a::/b"}),
              (std::vector<std::string>{"/a/sh", "./sh", "/b/sh"}));
}

TEST(ExecutableCandidates, DefaultPathWithoutOne) {
    auto c = sys::executable_candidates("ls", {"HOME=/root"});
    ASSERT_EQ(c.size(), 6u);
    EXPECT_EQ(c.front(), "/usr/local/sbin/ls");
    EXPECT_EQ(c.back(), "/bin/ls");
}

TEST(ExecutableCandidates, ANameWithASlashIsUsedAsIs) {
    using sys::executable_candidates;
    EXPECT_EQ(executable_candidates("/bin/sh", {"PATH=/a"}), std::vector<std::string>{"/bin/sh"});
    EXPECT_EQ(executable_candidates("./run.sh", {"PATH=/a"}), std::vector<std::string>{"./run.sh"});
}

TEST(Report, CountsDeduplicatesAndRenders) {
    check::Report r;
    r.error(".process.args[0]", "\"x\" not found", "install it");
    r.error(".process.args[0]", "\"x\" not found", "install it");  // the same finding once
    r.warning(".linux.seccomp.syscalls[0].names[1]", "unknown syscall", "check the spelling");
    r.add_error(SpecError(".linux.namespaces[6].type", "unknown namespace \"nett\"", "namespace types are pid, network"), "", "fallback");
    r.add_error(Error(JsonPath{".mounts[7].source"}, "bind source /nope", ENOENT), ".mounts", "create it");
    r.add_error(Error("no path here"), ".mounts", "hint");
    EXPECT_EQ(r.findings().size(), 5u);
    EXPECT_EQ(r.errors(), 4u);
    EXPECT_EQ(r.warnings(), 1u);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.findings()[2].path, ".linux.namespaces[6].type");
    EXPECT_EQ(r.findings()[2].message, "unknown namespace \"nett\"");
    EXPECT_EQ(r.findings()[2].hint, "namespace types are pid, network");  // the error's own hint
    EXPECT_EQ(r.findings()[3].path, ".mounts[7].source");
    EXPECT_EQ(r.findings()[3].message, "bind source /nope: No such file or directory");
    EXPECT_EQ(r.findings()[3].hint, "create it");  // the caller's, for an error without one
    EXPECT_EQ(r.findings()[4].path, ".mounts");
    EXPECT_EQ(r.findings()[4].message, "no path here");

    json j = r.to_json();
    ASSERT_EQ(j["findings"].size(), 5u);
    EXPECT_EQ(j["findings"][0], (json{{"severity", "error"}, {"path", ".process.args[0]"}, {"message", "\"x\" not found"}, {"hint", "install it"}}));
    EXPECT_EQ(j["summary"], (json{{"errors", 4}, {"warnings", 1}, {"ok", false}}));

    std::string table = r.to_table();
    EXPECT_NE(table.find("SEVERITY"), std::string::npos);
    EXPECT_NE(table.find("hint: install it"), std::string::npos);
    EXPECT_NE(table.find("4 errors, 1 warning: this bundle would not run here"), std::string::npos);
}

TEST(Report, ErrorUnderAPath) {
    check::Report r;
    r.error(".mounts[2].source", "missing", "");
    r.warning(".mounts[3]", "a warning does not count", "");
    EXPECT_TRUE(r.has_error_under(".mounts[2]"));
    EXPECT_TRUE(r.has_error_under(".mounts"));
    EXPECT_TRUE(r.has_error_under(".mounts[2].source"));
    EXPECT_FALSE(r.has_error_under(".mounts[20]"));
    EXPECT_FALSE(r.has_error_under(".mounts[3]"));
    EXPECT_FALSE(r.has_error_under(".mount"));
}

TEST(Report, AnEmptyReportIsOk) {
    check::Report r;
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.to_table(), "0 errors, 0 warnings: this bundle would run here\n");
    EXPECT_EQ(r.to_json()["summary"]["ok"], true);
}

// The hints come from where each error is thrown, not from its wording: every config error
// the collecting parse finds carries one.
TEST(CollectingParse, EveryFaultCarriesItsHint) {
    std::vector<SpecError> errors;
    spec::parse_spec_collecting(with_many_faults(), errors);
    ASSERT_FALSE(errors.empty());
    for (auto& e : errors) EXPECT_FALSE(e.hint().empty()) << e.what();
    auto at = [&](const std::string& path) {
        for (auto& e : errors)
            if (e.json_path() == path) return e.hint();
        return std::string("no error at ") + path;
    };
    EXPECT_NE(at(".linux.namespaces[6].type").find("pid, network, mount, ipc, uts, user, cgroup and time"), std::string::npos);
    EXPECT_NE(at(".process.capabilities.bounding[3]").find("capabilities(7)"), std::string::npos);
    EXPECT_NE(at(".process.rlimits[1].type").find("RLIMIT_"), std::string::npos);
    EXPECT_NE(at(".mounts[7].destination").find("start the path with /"), std::string::npos);
    EXPECT_NE(at(".linux.sysctl.kernel.panic").find("set this one on the host"), std::string::npos);
}

TEST(CollectingParse, AVersionOutOfRangeIsHintedWithTheRange) {
    json c = spec::default_spec(false);
    c["ociVersion"] = "9.0.0";
    std::vector<SpecError> errors;
    spec::parse_spec_collecting(c, errors);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_STREQ(errors[0].what(), ".ociVersion: unsupported version \"9.0.0\" (this runtime supports 1.x from 1.0.0)");
    EXPECT_EQ(errors[0].hint(), "set ociVersion to a version 1.x from 1.0.0, e.g. \"1.3.0\"");
}


// ---------------------------------------------------------------------------------------------
// cgroup v2 files, against a stand-in hierarchy in a temporary directory

void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
}

// A stand-in cgroup: the directory `dir` (made unless it is the root) with these controllers.
void stand_in_cgroup(const std::string& dir, const std::string& controllers, bool root = false) {
    if (!root) ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir;
    write_file(dir + "/cgroup.controllers", controllers + "\n");
}

// A fresh host: the root offers hugetlb (cgroup.controllers) but has not enabled it
// (cgroup.subtree_control), so no cgroup below shows its files yet. create enables it on the
// way down and succeeds: check must not call the file missing.
TEST(UnifiedHasFile, AFreshHostWhoseRootHasNotEnabledTheControllerCannotTell) {
    test::TempDir root;
    stand_in_cgroup(root.path(), "cpuset cpu io memory hugetlb pids rdma misc", true);
    write_file(root / "cgroup.subtree_control", "\n");
    stand_in_cgroup(root / "init.scope", "");
    EXPECT_EQ(check::unified_has_file(root.path(), "hugetlb.2MB.max", "/"), std::nullopt);
    EXPECT_EQ(check::unified_has_file(root.path(), "hugetlb.2MB.max", "/init.scope"), std::nullopt);
}

TEST(UnifiedHasFile, ACgroupWithTheControllerAnswers) {
    test::TempDir root;
    stand_in_cgroup(root.path(), "memory hugetlb", true);
    write_file(root / "cgroup.subtree_control", "hugetlb\n");
    stand_in_cgroup(root / "a", "hugetlb");
    write_file(root / "a/hugetlb.2MB.max", "max\n");
    EXPECT_EQ(check::unified_has_file(root.path(), "hugetlb.2MB.max", "/"), std::optional<bool>(true));
    EXPECT_EQ(check::unified_has_file(root.path(), "hugetlb.64KB.max", "/"), std::optional<bool>(false));
    // Only a cgroup that has the controller is asked: one without it says nothing.
    EXPECT_EQ(check::unified_has_file(root.path(), "memory.max", "/"), std::nullopt);
}

TEST(UnifiedHasFile, TheOwnCgroupDeeperDownIsAskedToo) {
    test::TempDir root;
    stand_in_cgroup(root.path(), "memory", true);
    stand_in_cgroup(root / "a", "");
    stand_in_cgroup(root / "a/b", "memory");
    write_file(root / "a/b/memory.max", "max\n");
    EXPECT_EQ(check::unified_has_file(root.path(), "memory.max", "/"), std::nullopt);
    EXPECT_EQ(check::unified_has_file(root.path(), "memory.max", "/a/b"), std::optional<bool>(true));
}

}  // namespace
}  // namespace crunlite
