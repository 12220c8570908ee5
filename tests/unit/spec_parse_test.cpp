// parse_spec: config.json -> Spec, with every error naming the JSON path of the offending field.
// Each test starts from the config `crun-lite spec` writes and changes one thing.
#include <gtest/gtest.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "crunlite/error.hpp"
#include "crunlite/spec.hpp"
#include "crunlite/spec_version.hpp"
#include "spec/json_field.hpp"
#include "spec/namespace_kinds.hpp"
#include "test_util.hpp"

namespace crunlite::spec {
namespace {

using nlohmann::json;
using test::DoesNotThrow;
using test::ThrowsError;
using test::ThrowsSpecError;

json base(bool rootless = false) { return default_spec(rootless); }

::testing::AssertionResult RefusedAt(const json& config, const std::string& path, const std::string& fragment = "") {
    return ThrowsSpecError([&] { parse_spec(config); }, path, fragment);
}

::testing::AssertionResult Accepted(const json& config) {
    return DoesNotThrow([&] { parse_spec(config); });
}

// Index of the namespace of `type` in .linux.namespaces, or -1.
int ns_index(const json& config, const std::string& type) {
    const json& list = config["linux"]["namespaces"];
    for (size_t i = 0; i < list.size(); ++i)
        if (list[i]["type"] == type) return int(i);
    return -1;
}

void remove_ns(json& config, const std::string& type) {
    int i = ns_index(config, type);
    ASSERT_GE(i, 0) << "default spec has no " << type << " namespace";
    config["linux"]["namespaces"].erase(size_t(i));
}

std::vector<NamespaceKind> kinds(const Spec& spec) {
    std::vector<NamespaceKind> out;
    for (auto& ns : spec.linux.namespaces) out.push_back(ns.kind);
    return out;
}

// ---------------------------------------------------------------------------------------------
// The default configs

TEST(DefaultSpec, RootfulParsesToTheExpectedValues) {
    Spec spec = parse_spec(base(false));
    EXPECT_EQ(spec.oci_version, kSpecVersion);
    ASSERT_TRUE(spec.process.has_value());
    EXPECT_EQ(spec.process->args, std::vector<std::string>{"sh"});
    EXPECT_EQ(spec.process->cwd, "/");
    EXPECT_FALSE(spec.process->terminal);
    EXPECT_TRUE(spec.process->no_new_privileges);
    EXPECT_EQ(spec.process->user.uid, 0u);
    EXPECT_EQ(spec.process->user.gid, 0u);
    ASSERT_EQ(spec.process->env.size(), 2u);
    EXPECT_EQ(spec.process->env[1], "TERM=xterm");
    ASSERT_TRUE(spec.process->capabilities.has_value());
    std::vector<int> caps = {CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE};
    EXPECT_EQ(spec.process->capabilities->bounding, caps);
    EXPECT_EQ(spec.process->capabilities->effective, caps);
    EXPECT_EQ(spec.process->capabilities->permitted, caps);
    EXPECT_TRUE(spec.process->capabilities->ambient.empty());
    EXPECT_TRUE(spec.process->capabilities->inheritable.empty());
    ASSERT_EQ(spec.process->rlimits.size(), 1u);
    EXPECT_EQ(spec.process->rlimits[0].resource, RLIMIT_NOFILE);
    EXPECT_EQ(spec.process->rlimits[0].name, "RLIMIT_NOFILE");
    EXPECT_EQ(spec.process->rlimits[0].soft, 1024u);
    EXPECT_EQ(spec.process->rlimits[0].hard, 1024u);
    EXPECT_EQ(spec.root.path, "rootfs");
    EXPECT_TRUE(spec.root.readonly);
    EXPECT_EQ(spec.hostname, "crun-lite");
    ASSERT_EQ(spec.mounts.size(), 7u);
    EXPECT_EQ(spec.mounts[0].destination, "/proc");
    EXPECT_EQ(spec.mounts[0].type, "proc");
    EXPECT_EQ(spec.mounts[1].options, (std::vector<std::string>{"nosuid", "strictatime", "mode=755", "size=65536k"}));
    EXPECT_EQ(spec.mounts[6].destination, "/sys/fs/cgroup");
    EXPECT_EQ(kinds(spec), (std::vector<NamespaceKind>{NamespaceKind::pid, NamespaceKind::ipc, NamespaceKind::uts,
                                                       NamespaceKind::mount, NamespaceKind::network, NamespaceKind::cgroup}));
    for (auto& ns : spec.linux.namespaces) EXPECT_TRUE(ns.path.empty());
    EXPECT_TRUE(spec.linux.uid_mappings.empty());
    ASSERT_TRUE(spec.linux.resources.has_value());
    ASSERT_EQ(spec.linux.resources->devices.size(), 1u);
    EXPECT_FALSE(spec.linux.resources->devices[0].allow);
    EXPECT_EQ(spec.linux.resources->devices[0].type, 'a');
    EXPECT_EQ(spec.linux.resources->devices[0].access, "rwm");
    EXPECT_EQ(spec.linux.masked_paths.size(), 10u);
    EXPECT_EQ(spec.linux.readonly_paths.size(), 5u);
    EXPECT_TRUE(spec.hooks.empty());
}

TEST(DefaultSpec, RootlessParsesWithAUserNamespaceMappingTheCaller) {
    Spec spec = parse_spec(base(true));
    EXPECT_EQ(kinds(spec), (std::vector<NamespaceKind>{NamespaceKind::pid, NamespaceKind::ipc, NamespaceKind::uts,
                                                       NamespaceKind::mount, NamespaceKind::user}));
    ASSERT_EQ(spec.linux.uid_mappings.size(), 1u);
    EXPECT_EQ(spec.linux.uid_mappings[0].container_id, 0u);
    EXPECT_EQ(spec.linux.uid_mappings[0].host_id, uint32_t(getuid()));
    EXPECT_EQ(spec.linux.uid_mappings[0].size, 1u);
    ASSERT_EQ(spec.linux.gid_mappings.size(), 1u);
    EXPECT_EQ(spec.linux.gid_mappings[0].host_id, uint32_t(getgid()));
    ASSERT_EQ(spec.mounts.size(), 6u);
    EXPECT_EQ(spec.mounts[5].destination, "/sys");
    EXPECT_EQ(spec.mounts[5].options, (std::vector<std::string>{"rbind", "nosuid", "noexec", "nodev", "ro"}));
    EXPECT_FALSE(spec.linux.resources.has_value());
    // No gid=5 on devpts: that group is not mapped.
    for (auto& opt : spec.mounts[2].options) EXPECT_NE(opt, "gid=5");
}

TEST(DefaultSpec, FindNamespace) {
    Spec spec = parse_spec(base(false));
    const Namespace* ns = spec.linux.find_namespace(NamespaceKind::network);
    ASSERT_NE(ns, nullptr);
    EXPECT_EQ(ns->kind, NamespaceKind::network);
    EXPECT_EQ(spec.linux.find_namespace(NamespaceKind::user), nullptr);
    EXPECT_EQ(spec.linux.find_namespace(NamespaceKind::time), nullptr);
}

TEST(DefaultSpec, NamespaceNames) {
    EXPECT_STREQ(namespace_name(NamespaceKind::pid), "pid");
    EXPECT_STREQ(namespace_name(NamespaceKind::network), "network");
    EXPECT_STREQ(namespace_name(NamespaceKind::mount), "mount");
    EXPECT_STREQ(namespace_name(NamespaceKind::ipc), "ipc");
    EXPECT_STREQ(namespace_name(NamespaceKind::uts), "uts");
    EXPECT_STREQ(namespace_name(NamespaceKind::user), "user");
    EXPECT_STREQ(namespace_name(NamespaceKind::cgroup), "cgroup");
    EXPECT_STREQ(namespace_name(NamespaceKind::time), "time");
}

TEST(NamespaceKinds, OneTableForNamesProcFilesFlagsAndJoinOrder) {
    EXPECT_EQ(namespace_kind_named("network"), NamespaceKind::network);
    EXPECT_EQ(namespace_kind_named("net"), std::nullopt);  // the /proc name is not a config "type"
    EXPECT_STREQ(namespace_proc_name(NamespaceKind::network), "net");
    EXPECT_STREQ(namespace_proc_name(NamespaceKind::mount), "mnt");
    EXPECT_EQ(namespace_clone_flag(NamespaceKind::mount), CLONE_NEWNS);
    EXPECT_EQ(namespace_clone_flag(NamespaceKind::time), CLONE_NEWTIME);
    for (const NamespaceInfo& info : kNamespaceKinds) EXPECT_EQ(namespace_kind_named(info.spec_name), info.kind);
    auto order = namespace_join_order();
    EXPECT_EQ(order.front(), NamespaceKind::user);
    EXPECT_EQ(order.back(), NamespaceKind::mount);
}

// ---------------------------------------------------------------------------------------------
// ociVersion

class AcceptedVersion : public ::testing::TestWithParam<const char*> {};
TEST_P(AcceptedVersion, Parses) {
    json config = base();
    config["ociVersion"] = GetParam();
    ASSERT_TRUE(Accepted(config));
    EXPECT_EQ(parse_spec(config).oci_version, GetParam());
}
INSTANTIATE_TEST_SUITE_P(Spec, AcceptedVersion,
                         ::testing::Values("1.0.0", "1.0.1", "1.0.2", "1.0.2-dev", "1.0.0-rc5", "1.1.0", "1.1.0-rc.1",
                                           "1.2.0", "1.2.1", "1.3.0", "1.3.7",
                                           // any newer 1.x too, as runc: a minor release only adds fields
                                           "1.4.0", "1.9.1", "1.10.0", "1.4.0+dev"));

class RefusedVersion : public ::testing::TestWithParam<const char*> {};
TEST_P(RefusedVersion, NamesOciVersion) {
    json config = base();
    config["ociVersion"] = GetParam();
    EXPECT_TRUE(RefusedAt(config, ".ociVersion", "unsupported version"));
}
INSTANTIATE_TEST_SUITE_P(Spec, RefusedVersion,
                         ::testing::Values("2.0.0", "0.9", "0.9.0", "0.1.0", "", "one", "v1.0.0", "1", "1.", "1.x.0",
                                           " 1.0.0", "+1.0.0", "1.0.0-", "1.0.0 ", "1.0.0.0", "11.0.0", "1.-1.0"));

// ---------------------------------------------------------------------------------------------
// Required fields and types: one field of the default config erased or given a wrong value, and
// where and how parse_spec must refuse it.

struct Refusal {
    const char* pointer;        // the field, a JSON pointer into the default config
    std::optional<json> value;  // its new value; nullopt: the field is erased
    const char* path;           // the JSON path the error names
    const char* fragment;       // a part of the error message
};

void PrintTo(const Refusal& r, std::ostream* os) {
    *os << r.pointer << (r.value ? " = " + r.value->dump() : std::string(" erased")) << " -> " << r.path << ": ..."
        << r.fragment << "...";
}

json changed(const Refusal& r) {
    json config = base();
    json::json_pointer field(r.pointer);
    if (r.value)
        config[field] = *r.value;
    else
        config[field.parent_pointer()].erase(field.back());
    return config;
}

class RefusedField : public ::testing::TestWithParam<Refusal> {};
TEST_P(RefusedField, NamesItsPath) {
    EXPECT_TRUE(RefusedAt(changed(GetParam()), GetParam().path, GetParam().fragment));
}

const Refusal kMissing[] = {
    {"/ociVersion", std::nullopt, ".ociVersion", "is required"},
    {"/root", std::nullopt, ".root", "is required"},
    {"/root/path", std::nullopt, ".root.path", "is required"},
    {"/process/user", std::nullopt, ".process.user", "is required"},
    {"/process/user/uid", std::nullopt, ".process.user.uid", "is required"},
    {"/process/user/gid", std::nullopt, ".process.user.gid", "is required"},
    {"/process/args", std::nullopt, ".process.args", "non-empty array"},
    {"/process/cwd", std::nullopt, ".process.cwd", "is required"},
    {"/linux", std::nullopt, ".linux", "is required"},
    {"/mounts/0/destination", std::nullopt, ".mounts[0].destination", "is required"},
};
INSTANTIATE_TEST_SUITE_P(SpecRequired, RefusedField, ::testing::ValuesIn(kMissing));

const Refusal kWrongValues[] = {
    {"/ociVersion", 1, ".ociVersion", "must be a string"},
    {"/root/path", "", ".root.path", "must not be empty"},
    {"/process/args", json::array(), ".process.args", "non-empty array"},
    {"/process/args", "sh", ".process.args", "non-empty array"},
    {"/process/args", json{"sh", 1}, ".process.args[1]", "must be a string"},
    {"/process/cwd", "work", ".process.cwd", "absolute"},
    {"/process/user/uid", "0", ".process.user.uid", "must be an integer"},
    {"/process/user/uid", 1.5, ".process.user.uid", "must be an integer"},
    {"/process/user/uid", -1, ".process.user.uid", "must not be negative"},
    {"/process/user/uid", 4294967296ULL, ".process.user.uid", "32 bits"},
    {"/process/user/gid", json::parse("18446744073709551615"), ".process.user.gid", "32 bits"},
    // (uid_t)-1 is not a user: setresuid(-1, -1, -1) leaves the ids unchanged, so a config with
    // uid 4294967295 would run the container process as the runtime's own user (root). runc
    // refuses ids above 2^31-1 (user.ErrRange).
    {"/process/user/uid", 4294967295ULL, ".process.user.uid", ""},
    {"/process/user/gid", 4294967295ULL, ".process.user.gid", ""},
    {"/process/terminal", "false", ".process.terminal", "must be a boolean"},
    {"/root/readonly", 1, ".root.readonly", "must be a boolean"},
    {"/process/noNewPrivileges", "yes", ".process.noNewPrivileges", "must be a boolean"},
    {"/process", "sh", ".process", "must be an object"},
    {"/linux", json::array(), ".linux", "must be an object"},
    {"/linux/namespaces/1", "ipc", ".linux.namespaces[1]", "must be an object"},
    {"/mounts", json::object(), ".mounts", "must be an array"},
    {"/linux/namespaces", json{{"type", "mount"}}, ".linux.namespaces", "must be an array"},
    {"/hostname", 5, ".hostname", "must be a string"},
};
INSTANTIATE_TEST_SUITE_P(SpecTypes, RefusedField, ::testing::ValuesIn(kWrongValues));

// A NUL byte cuts a C string short: "sh\0-c" would run "sh". Refused in every string field,
// those of the default config and those set here for the test, at the exact path.
json with_nul(const char* before, const char* after = "") { return std::string(before) + '\0' + after; }

const Refusal kNulBytes[] = {
    {"/process/args/0", with_nul("sh", "-c"), ".process.args[0]", "must not contain a NUL byte"},
    {"/process/args", json{"sh", with_nul("-c")}, ".process.args[1]", "must not contain a NUL byte"},
    {"/process/env/1", with_nul("TERM=xterm", "LD_PRELOAD=/x.so"), ".process.env[1]", "NUL byte"},
    {"/process/cwd", with_nul("/tmp", "/x"), ".process.cwd", "NUL byte"},
    {"/process/apparmorProfile", with_nul("unconfined", "x"), ".process.apparmorProfile", "NUL byte"},
    {"/process/selinuxLabel", with_nul("system_u"), ".process.selinuxLabel", "NUL byte"},
    {"/process/capabilities/bounding/0", with_nul("CAP_KILL"), ".process.capabilities.bounding[0]", "NUL byte"},
    {"/process/rlimits/0/type", with_nul("RLIMIT_NOFILE"), ".process.rlimits[0].type", "NUL byte"},
    {"/root/path", with_nul("rootfs", "/../x"), ".root.path", "NUL byte"},
    {"/hostname", with_nul("host", "x"), ".hostname", "NUL byte"},
    {"/domainname", with_nul("example"), ".domainname", "NUL byte"},
    {"/mounts/1/destination", with_nul("/dev", "/x"), ".mounts[1].destination", "NUL byte"},
    {"/mounts/1/source", with_nul("tmpfs"), ".mounts[1].source", "NUL byte"},
    {"/mounts/1/type", with_nul("tmpfs"), ".mounts[1].type", "NUL byte"},
    {"/mounts/1/options/2", with_nul("mode=755", ",suid"), ".mounts[1].options[2]", "NUL byte"},
    {"/hooks", json{{"prestart", {{{"path", with_nul("/bin/hook")}}}}}, ".hooks.prestart[0].path", "NUL byte"},
    {"/hooks", json{{"poststop", {{{"path", "/bin/hook"}, {"args", {"hook", with_nul("a")}}}}}},
     ".hooks.poststop[0].args[1]", "NUL byte"},
    {"/hooks", json{{"poststop", {{{"path", "/bin/hook"}, {"env", {with_nul("A=1")}}}}}}, ".hooks.poststop[0].env[0]",
     "NUL byte"},
    {"/linux/sysctl", json{{"net.ipv4.ip_forward", with_nul("1")}}, ".linux.sysctl.net.ipv4.ip_forward", "NUL byte"},
    {"/linux/sysctl", json{{std::string("net.ipv4.ip_forward") + '\0' + "x", "1"}}, ".linux.sysctl", "\\u0000"},
    {"/linux/namespaces/1/path", with_nul("/proc/1/ns/ipc"), ".linux.namespaces[1].path", "NUL byte"},
    {"/linux/devices", json{{{"path", with_nul("/dev/x")}, {"type", "c"}, {"major", 1}, {"minor", 3}}},
     ".linux.devices[0].path", "NUL byte"},
    {"/linux/maskedPaths/0", with_nul("/proc/acpi"), ".linux.maskedPaths[0]", "NUL byte"},
    {"/linux/readonlyPaths/0", with_nul("/proc/bus"), ".linux.readonlyPaths[0]", "NUL byte"},
    {"/linux/mountLabel", with_nul("system_u"), ".linux.mountLabel", "NUL byte"},
    {"/linux/cgroupsPath", with_nul("/machine/c1"), ".linux.cgroupsPath", "NUL byte"},
    {"/linux/seccomp", json{{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", {{{"names", {with_nul("mount")}}, {"action", "SCMP_ACT_ERRNO"}}}}},
     ".linux.seccomp.syscalls[0].names[0]", "NUL byte"},
    {"/linux/resources/unified", json{{"memory.high", with_nul("max")}}, ".linux.resources.unified.memory.high", "NUL byte"},
    {"/annotations", json{{"org.example", with_nul("v")}}, ".annotations.org.example", "NUL byte"},
};
INSTANTIATE_TEST_SUITE_P(SpecNulBytes, RefusedField, ::testing::ValuesIn(kNulBytes));

// Control characters in cgroupsPath (both forms): refused with the field, shown escaped.
const Refusal kCgroupsPathControls[] = {
    {"/linux/cgroupsPath", "/machine/c1\nx", ".linux.cgroupsPath", "control characters: \"/machine/c1\\nx\""},
    {"/linux/cgroupsPath", "/machine/\tc1", ".linux.cgroupsPath", "control characters"},
    {"/linux/cgroupsPath", "/machine/c1\x7f", ".linux.cgroupsPath", "control characters"},
    {"/linux/cgroupsPath", "system.slice:crun:c1\r", ".linux.cgroupsPath", "control characters"},
    {"/linux/cgroupsPath", "system.slice:\x1b[31m:c1", ".linux.cgroupsPath", "control characters"},
};
INSTANTIATE_TEST_SUITE_P(SpecCgroupsPath, RefusedField, ::testing::ValuesIn(kCgroupsPathControls));

// runtime-spec: errnoRet and defaultErrnoRet go with SCMP_ACT_ERRNO and SCMP_ACT_TRACE only;
// with any other action the runtime MUST print an error and fail.
json seccomp_rule(const char* action) {
    return json{{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", {{{"names", {"mount"}}, {"action", action}, {"errnoRet", 1}}}}};
}
json seccomp_default(const char* action) {
    return json{{"defaultAction", action}, {"defaultErrnoRet", 1}, {"syscalls", {{{"names", {"read"}}, {"action", "SCMP_ACT_ALLOW"}}}}};
}

const Refusal kErrnoRetWithoutErrno[] = {
    {"/linux/seccomp", seccomp_rule("SCMP_ACT_KILL"), ".linux.seccomp.syscalls[0].errnoRet", "not SCMP_ACT_KILL"},
    {"/linux/seccomp", seccomp_rule("SCMP_ACT_KILL_PROCESS"), ".linux.seccomp.syscalls[0].errnoRet", "only for SCMP_ACT_ERRNO"},
    {"/linux/seccomp", seccomp_rule("SCMP_ACT_KILL_THREAD"), ".linux.seccomp.syscalls[0].errnoRet", "only for SCMP_ACT_ERRNO"},
    {"/linux/seccomp", seccomp_rule("SCMP_ACT_TRAP"), ".linux.seccomp.syscalls[0].errnoRet", "only for SCMP_ACT_ERRNO"},
    {"/linux/seccomp", seccomp_rule("SCMP_ACT_ALLOW"), ".linux.seccomp.syscalls[0].errnoRet", "only for SCMP_ACT_ERRNO"},
    {"/linux/seccomp", seccomp_rule("SCMP_ACT_LOG"), ".linux.seccomp.syscalls[0].errnoRet", "only for SCMP_ACT_ERRNO"},
    {"/linux/seccomp", seccomp_rule("SCMP_ACT_NOTIFY"), ".linux.seccomp.syscalls[0].errnoRet", "only for SCMP_ACT_ERRNO"},
    {"/linux/seccomp", seccomp_default("SCMP_ACT_ALLOW"), ".linux.seccomp.defaultErrnoRet", "not SCMP_ACT_ALLOW"},
    {"/linux/seccomp", seccomp_default("SCMP_ACT_KILL_PROCESS"), ".linux.seccomp.defaultErrnoRet", "only for SCMP_ACT_ERRNO"},
    {"/linux/seccomp", seccomp_default("SCMP_ACT_LOG"), ".linux.seccomp.defaultErrnoRet", "only for SCMP_ACT_ERRNO"},
};
INSTANTIATE_TEST_SUITE_P(SpecSeccompErrnoRet, RefusedField, ::testing::ValuesIn(kErrnoRetWithoutErrno));

TEST(SpecSeccompErrnoRet, ErrnoAndTraceTakeAValue) {
    for (const char* action : {"SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"}) {
        json config = base();
        config["linux"]["seccomp"] = seccomp_rule(action);
        ASSERT_TRUE(Accepted(config)) << action;
        EXPECT_EQ(parse_spec(config).linux.seccomp->syscalls.at(0).errno_ret, 1u) << action;
        config["linux"]["seccomp"] = seccomp_default(action);
        ASSERT_TRUE(Accepted(config)) << action;
        EXPECT_EQ(parse_spec(config).linux.seccomp->default_errno_ret, 1u) << action;
    }
}

// The profiles docker and podman really send (tests/fixtures) use errnoRet with SCMP_ACT_ERRNO
// and must keep parsing.
TEST(SpecSeccompErrnoRet, DockerAndPodmanProfilesAreAccepted) {
    for (const char* name : {"seccomp-docker-20.10.json", "seccomp-podman-4.3.json"}) {
        std::ifstream in(std::string(CRUNLITE_TEST_FIXTURES) + "/" + name);
        ASSERT_TRUE(in) << name;
        json config = base();
        config["linux"]["seccomp"] = json::parse(in);
        ASSERT_TRUE(Accepted(config)) << name;
        EXPECT_FALSE(parse_spec(config).linux.seccomp->syscalls.empty()) << name;
    }
}

TEST(SpecRequired, TopLevelMustBeAnObject) {
    EXPECT_TRUE(RefusedAt(json::array(), "", "must be an object"));
}

// The runtime-spec makes process optional at create; `start` refuses such a container.
TEST(SpecOptional, ProcessMayBeAbsent) {
    json config = base();
    config.erase("process");
    EXPECT_FALSE(parse_spec(config).process.has_value());
}

TEST(SpecOptional, NullReadsAsAbsent) {
    json config = base();
    config["process"] = nullptr;
    EXPECT_FALSE(parse_spec(config).process.has_value());
    config = base();
    config["hostname"] = nullptr;
    EXPECT_TRUE(parse_spec(config).hostname.empty());
}

TEST(SpecRequired, OptionalSectionsMayBeAbsent) {
    json config = base();
    config.erase("mounts");
    config.erase("hostname");
    config["process"].erase("env");
    config["process"].erase("capabilities");
    config["process"].erase("rlimits");
    config["process"].erase("noNewPrivileges");
    config["process"].erase("terminal");
    config["linux"].erase("resources");
    config["linux"].erase("maskedPaths");
    config["linux"].erase("readonlyPaths");
    ASSERT_TRUE(Accepted(config));
    Spec spec = parse_spec(config);
    EXPECT_TRUE(spec.mounts.empty());
    EXPECT_FALSE(spec.process->capabilities.has_value());
    EXPECT_FALSE(spec.process->no_new_privileges);
    EXPECT_FALSE(spec.linux.resources.has_value());
}

// ---------------------------------------------------------------------------------------------
// Types and ranges

TEST(SpecTypes, LargeValidUidIsKept) {
    json config = base();
    config["process"]["user"]["uid"] = 100000;
    config["process"]["user"]["gid"] = 2147483647;
    Spec spec = parse_spec(config);
    EXPECT_EQ(spec.process->user.uid, 100000u);
    EXPECT_EQ(spec.process->user.gid, 2147483647u);
}

TEST(SpecTypes, AnnotationValuesMustBeStrings) {
    json config = base();
    config["annotations"] = {{"org.example.ok", "yes"}, {"org.example.count", 3}};
    EXPECT_TRUE(RefusedAt(config, ".annotations.org.example.count", "must be a string"));
    config["annotations"]["org.example.count"] = "3";
    Spec spec = parse_spec(config);
    EXPECT_EQ(spec.annotations.at("org.example.count"), "3");
}

TEST(SpecTypes, UnknownKeysAreTolerated) {
    json config = base();
    config["x-vendor"] = {{"anything", 1}};
    config["process"]["futureField"] = true;
    config["process"]["user"]["futureField"] = 1;
    config["linux"]["futureField"] = json::array({1, 2});
    config["mounts"][0]["futureField"] = "x";
    config["linux"]["namespaces"][0]["futureField"] = "x";
    config["root"]["futureField"] = "x";
    EXPECT_TRUE(Accepted(config));
}

// ---------------------------------------------------------------------------------------------
// process fields

TEST(SpecProcess, EnvEntriesNeedKeyEqualsValue) {
    json config = base();
    config["process"]["env"] = {"A=1", "NOEQUALS"};
    EXPECT_TRUE(RefusedAt(config, ".process.env[1]", "KEY=VALUE"));
    config["process"]["env"] = {"=value"};
    EXPECT_TRUE(RefusedAt(config, ".process.env[0]", "KEY=VALUE"));
    config["process"]["env"] = {"EMPTY=", "A=b=c"};
    Spec spec = parse_spec(config);
    EXPECT_EQ(spec.process->env, (std::vector<std::string>{"EMPTY=", "A=b=c"}));
}

TEST(SpecProcess, UmaskAndAdditionalGids) {
    json config = base();
    config["process"]["user"]["umask"] = 077;
    config["process"]["user"]["additionalGids"] = {5, 10};
    Spec spec = parse_spec(config);
    EXPECT_EQ(spec.process->user.umask, 077u);
    EXPECT_EQ(spec.process->user.additional_gids, (std::vector<uint32_t>{5, 10}));
    config["process"]["user"]["umask"] = 01000;
    EXPECT_TRUE(RefusedAt(config, ".process.user.umask", "0777"));
    config["process"]["user"]["umask"] = 022;
    config["process"]["user"]["additionalGids"] = {5, -1};
    EXPECT_TRUE(RefusedAt(config, ".process.user.additionalGids[1]", "negative"));
}

TEST(SpecProcess, WindowsUsernameIsRefusedButEmptyIsFine) {
    json config = base();
    config["process"]["user"]["username"] = "";
    EXPECT_TRUE(Accepted(config));
    config["process"]["user"]["username"] = "alice";
    EXPECT_TRUE(RefusedAt(config, ".process.user.username", "Windows"));
}

TEST(SpecProcess, OomScoreAdjRange) {
    json config = base();
    config["process"]["oomScoreAdj"] = -1000;
    EXPECT_EQ(parse_spec(config).process->oom_score_adj, -1000);
    config["process"]["oomScoreAdj"] = 1001;
    EXPECT_TRUE(RefusedAt(config, ".process.oomScoreAdj", "between -1000 and 1000"));
}

TEST(SpecProcess, ConsoleSize) {
    json config = base();
    config["process"]["consoleSize"] = {{"height", 24}, {"width", 80}};
    Spec spec = parse_spec(config);
    ASSERT_TRUE(spec.process->console_size.has_value());
    EXPECT_EQ(spec.process->console_size->height, 24u);
    EXPECT_EQ(spec.process->console_size->width, 80u);
    config["process"]["consoleSize"].erase("width");
    EXPECT_TRUE(RefusedAt(config, ".process.consoleSize.width", "is required"));
}

TEST(SpecProcess, ParseProcessUsesTheGivenPathPrefix) {
    json process = base()["process"];
    Process p = parse_process(process, ".process");
    EXPECT_EQ(p.args, std::vector<std::string>{"sh"});
    process["args"] = json::array();
    EXPECT_TRUE(ThrowsSpecError([&] { parse_process(process, "process.json"); }, "process.json.args"));
}

// ---------------------------------------------------------------------------------------------
// Capabilities

TEST(SpecCapabilities, NamesBecomeNumbers) {
    json config = base();
    config["process"]["capabilities"] = {{"bounding", {"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_RAW"}},
                                         {"ambient", {"CAP_NET_BIND_SERVICE"}},
                                         {"inheritable", {"CAP_NET_BIND_SERVICE"}}};
    Spec spec = parse_spec(config);
    ASSERT_TRUE(spec.process->capabilities.has_value());
    EXPECT_EQ(spec.process->capabilities->bounding, (std::vector<int>{CAP_CHOWN, CAP_SYS_ADMIN, CAP_NET_RAW}));
    EXPECT_EQ(spec.process->capabilities->ambient, (std::vector<int>{CAP_NET_BIND_SERVICE}));
    EXPECT_EQ(spec.process->capabilities->inheritable, (std::vector<int>{CAP_NET_BIND_SERVICE}));
    EXPECT_TRUE(spec.process->capabilities->effective.empty());
    EXPECT_TRUE(spec.process->capabilities->permitted.empty());
}

// The runtime-spec: an unknown capability SHOULD NOT fail the container; runc logs it and goes on.
TEST(SpecCapabilities, UnknownNameIsLeftOutWithAWarningNamingItsIndex) {
    json config = base();
    config["process"]["capabilities"]["bounding"] = {"CAP_KILL", "CAP_NOT_A_CAP", "CAP_CHOWN"};
    config["process"]["capabilities"]["ambient"] = {"CAP_FOO_42"};
    Spec spec = parse_spec(config);
    EXPECT_EQ(spec.process->capabilities->bounding, (std::vector<int>{CAP_KILL, CAP_CHOWN}));
    EXPECT_TRUE(spec.process->capabilities->ambient.empty());
    ASSERT_EQ(spec.warnings.size(), 2u);
    EXPECT_EQ(spec.warnings[0].path, ".process.capabilities.bounding[1]");
    EXPECT_EQ(spec.warnings[0].message, "unknown capability \"CAP_NOT_A_CAP\", ignored");
    EXPECT_EQ(spec.warnings[1].path, ".process.capabilities.ambient[0]");
    EXPECT_FALSE(spec.warnings[1].hint.empty());
}

TEST(SpecCapabilities, AProcessAloneReportsItsWarningsToo) {
    std::vector<SpecWarning> warnings;
    json process = base()["process"];
    process["capabilities"] = {{"bounding", {"CAP_NOPE", "CAP_KILL"}}};
    Process p = parse_process(process, "", &warnings);
    EXPECT_EQ(p.capabilities->bounding, (std::vector<int>{CAP_KILL}));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0].path, ".capabilities.bounding[0]");
    EXPECT_NO_THROW(parse_process(process, ""));
}

TEST(SpecCapabilities, AMalformedNameIsStillRefused) {
    json config = base();
    for (const char* name : {"KILL", "5", "", "cap_kill", "CAP_", "CAP_kill", "CAP_KILL ", "CAP-KILL"}) {
        config["process"]["capabilities"]["effective"] = {"CAP_KILL", name};
        EXPECT_TRUE(RefusedAt(config, ".process.capabilities.effective[1]", "malformed capability name")) << name;
    }
}

TEST(SpecCapabilities, EntriesMustBeStrings) {
    json config = base();
    config["process"]["capabilities"]["permitted"] = {5};
    EXPECT_TRUE(RefusedAt(config, ".process.capabilities.permitted[0]", "must be a string"));
}

// ---------------------------------------------------------------------------------------------
// rlimits

TEST(SpecRlimits, ParsedWithResourceNumbers) {
    json config = json::parse(base().dump());
    config["process"]["rlimits"] = json::parse(
        R"([{"type":"RLIMIT_CORE","soft":0,"hard":18446744073709551615},{"type":"RLIMIT_NPROC","soft":10,"hard":20}])");
    Spec spec = parse_spec(config);
    ASSERT_EQ(spec.process->rlimits.size(), 2u);
    EXPECT_EQ(spec.process->rlimits[0].resource, RLIMIT_CORE);
    EXPECT_EQ(spec.process->rlimits[0].hard, uint64_t(RLIM_INFINITY));
    EXPECT_EQ(spec.process->rlimits[1].resource, RLIMIT_NPROC);
    EXPECT_EQ(spec.process->rlimits[1].soft, 10u);
    EXPECT_EQ(spec.process->rlimits[1].hard, 20u);
}

TEST(SpecRlimits, UnknownTypeIsRefused) {
    json config = base();
    config["process"]["rlimits"] = {{{"type", "RLIMIT_FOO"}, {"soft", 1}, {"hard", 1}}};
    EXPECT_TRUE(RefusedAt(config, ".process.rlimits[0].type", "unknown rlimit \"RLIMIT_FOO\""));
    config["process"]["rlimits"][0]["type"] = "NOFILE";
    EXPECT_TRUE(RefusedAt(config, ".process.rlimits[0].type", "unknown rlimit"));
}

TEST(SpecRlimits, DuplicateTypeIsRefused) {
    json config = base();
    config["process"]["rlimits"].push_back({{"type", "RLIMIT_NOFILE"}, {"soft", 10}, {"hard", 10}});
    EXPECT_TRUE(RefusedAt(config, ".process.rlimits[1].type", "duplicate rlimit"));
}

TEST(SpecRlimits, SoftAboveHardIsRefused) {
    json config = base();
    config["process"]["rlimits"][0]["soft"] = 2048;
    EXPECT_TRUE(RefusedAt(config, ".process.rlimits[0].soft", "must not exceed hard"));
}

TEST(SpecRlimits, MissingOrNegativeValuesAreRefused) {
    json config = base();
    config["process"]["rlimits"][0].erase("soft");
    EXPECT_TRUE(RefusedAt(config, ".process.rlimits[0].soft", "is required"));
    config = base();
    config["process"]["rlimits"][0]["hard"] = -1;
    EXPECT_TRUE(RefusedAt(config, ".process.rlimits[0].hard", "negative"));
}

// ---------------------------------------------------------------------------------------------
// Namespaces

TEST(SpecNamespaces, UnknownTypeIsRefusedWithItsIndex) {
    json config = base();
    config["linux"]["namespaces"][2]["type"] = "utsname";
    EXPECT_TRUE(RefusedAt(config, ".linux.namespaces[2].type", "unknown namespace \"utsname\""));
}

TEST(SpecNamespaces, TypeIsRequired) {
    json config = base();
    config["linux"]["namespaces"][0].erase("type");
    EXPECT_TRUE(RefusedAt(config, ".linux.namespaces[0].type", "is required"));
}

TEST(SpecNamespaces, DuplicateIsRefusedAtTheSecondOccurrence) {
    json config = base();
    config["linux"]["namespaces"].push_back({{"type", "pid"}});
    size_t last = config["linux"]["namespaces"].size() - 1;
    EXPECT_TRUE(RefusedAt(config, ".linux.namespaces[" + std::to_string(last) + "].type", "duplicate namespace \"pid\""));
}

TEST(SpecNamespaces, RelativePathIsRefused) {
    json config = base();
    config["linux"]["namespaces"][1]["path"] = "proc/1/ns/ipc";
    EXPECT_TRUE(RefusedAt(config, ".linux.namespaces[1].path", "absolute"));
}

TEST(SpecNamespaces, AbsolutePathIsKeptAsAJoin) {
    json config = base();
    config["linux"]["namespaces"][ns_index(config, "network")]["path"] = "/var/run/netns/blue";
    Spec spec = parse_spec(config);
    const Namespace* net = spec.linux.find_namespace(NamespaceKind::network);
    ASSERT_NE(net, nullptr);
    EXPECT_EQ(net->path, "/var/run/netns/blue");
    EXPECT_TRUE(spec.linux.find_namespace(NamespaceKind::pid)->path.empty());
}

// runc (specconv: config.Namespaces.Add(t, ns.Path)) treats an empty path as "create a new
// namespace", as does the runtime-spec ("if path is not specified"); "path": "" must not be
// refused as a relative path.
TEST(SpecNamespaces, EmptyPathMeansANewNamespace) {
    json config = base();
    config["linux"]["namespaces"][ns_index(config, "network")]["path"] = "";
    ASSERT_TRUE(Accepted(config));
    EXPECT_TRUE(parse_spec(config).linux.find_namespace(NamespaceKind::network)->path.empty());
}

// runtime-spec: a namespace not listed is the runtime's; runc accepts it too (issue 18).
TEST(SpecNamespaces, MountNamespaceIsOptional) {
    json config = base();
    remove_ns(config, "mount");
    EXPECT_TRUE(Accepted(config));
    EXPECT_EQ(parse_spec(config).linux.find_namespace(NamespaceKind::mount), nullptr);
}

TEST(SpecNamespaces, AMountNamespaceCanBeJoinedByPath) {
    json config = base();
    config["linux"]["namespaces"][ns_index(config, "mount")]["path"] = "/proc/1/ns/mnt";
    ASSERT_TRUE(Accepted(config));
    EXPECT_EQ(parse_spec(config).linux.find_namespace(NamespaceKind::mount)->path, "/proc/1/ns/mnt");
}

TEST(SpecNamespaces, PidNamespaceIsOptional) {
    json config = base();
    remove_ns(config, "pid");
    EXPECT_TRUE(Accepted(config));
}

TEST(SpecNamespaces, TimeNamespaceIsKnown) {
    json config = base();
    config["linux"]["namespaces"].push_back({{"type", "time"}});
    ASSERT_TRUE(Accepted(config));
    EXPECT_NE(parse_spec(config).linux.find_namespace(NamespaceKind::time), nullptr);
}

// ---------------------------------------------------------------------------------------------
// hostname / domainname need UTS

TEST(SpecUts, HostnameWithoutUtsIsRefused) {
    json config = base();
    remove_ns(config, "uts");
    EXPECT_TRUE(RefusedAt(config, ".hostname", "\"uts\""));
}

TEST(SpecUts, DomainnameWithoutUtsIsRefused) {
    json config = base();
    remove_ns(config, "uts");
    config.erase("hostname");
    config["domainname"] = "example.org";
    EXPECT_TRUE(RefusedAt(config, ".domainname", "\"uts\""));
}

TEST(SpecUts, EmptyHostnameWithoutUtsIsFine) {
    json config = base();
    remove_ns(config, "uts");
    config["hostname"] = "";
    EXPECT_TRUE(Accepted(config));
}

TEST(SpecUts, HostnameAndDomainnameAreKept) {
    json config = base();
    config["hostname"] = "box";
    config["domainname"] = "example.org";
    Spec spec = parse_spec(config);
    EXPECT_EQ(spec.hostname, "box");
    EXPECT_EQ(spec.domainname, "example.org");
}

// ---------------------------------------------------------------------------------------------
// User namespace and mappings

TEST(SpecUserNs, NewUserNamespaceWithoutUidMappingsIsRefused) {
    json config = base(true);
    config["linux"].erase("uidMappings");
    EXPECT_TRUE(RefusedAt(config, ".linux.uidMappings", "user namespace"));
}

TEST(SpecUserNs, NewUserNamespaceWithoutGidMappingsIsRefused) {
    json config = base(true);
    config["linux"].erase("gidMappings");
    EXPECT_TRUE(RefusedAt(config, ".linux.gidMappings", "user namespace"));
}

TEST(SpecUserNs, MappingsWithoutUserNamespaceAreRefused) {
    json config = base(false);
    config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    EXPECT_TRUE(RefusedAt(config, ".linux.uidMappings", "requires a new \"user\" namespace"));
    config = base(false);
    config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    EXPECT_TRUE(RefusedAt(config, ".linux.gidMappings", "requires a new \"user\" namespace"));
}

TEST(SpecUserNs, JoinedUserNamespaceNeedsNoMappings) {
    json config = base(true);
    config["linux"].erase("uidMappings");
    config["linux"].erase("gidMappings");
    config["linux"]["namespaces"][ns_index(config, "user")]["path"] = "/proc/1/ns/user";
    EXPECT_TRUE(Accepted(config));
}

TEST(SpecUserNs, MappingFieldsAreChecked) {
    json config = base(true);
    config["linux"]["uidMappings"][0]["size"] = 0;
    EXPECT_TRUE(RefusedAt(config, ".linux.uidMappings[0].size", "greater than 0"));
    config = base(true);
    config["linux"]["gidMappings"][0].erase("hostID");
    EXPECT_TRUE(RefusedAt(config, ".linux.gidMappings[0].hostID", "is required"));
    config = base(true);
    config["linux"]["uidMappings"][0]["containerID"] = -5;
    EXPECT_TRUE(RefusedAt(config, ".linux.uidMappings[0].containerID", "negative"));
}

TEST(SpecUserNs, SeveralMappingsAreKept) {
    json config = base(true);
    config["linux"]["uidMappings"].push_back({{"containerID", 1}, {"hostID", 100000}, {"size", 65535}});
    Spec spec = parse_spec(config);
    ASSERT_EQ(spec.linux.uid_mappings.size(), 2u);
    EXPECT_EQ(spec.linux.uid_mappings[1].container_id, 1u);
    EXPECT_EQ(spec.linux.uid_mappings[1].host_id, 100000u);
    EXPECT_EQ(spec.linux.uid_mappings[1].size, 65535u);
}

// ---------------------------------------------------------------------------------------------
// Time offsets

TEST(SpecTimeNs, OffsetsWithoutTimeNamespaceAreRefused) {
    json config = base();
    config["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 10}}}};
    EXPECT_TRUE(RefusedAt(config, ".linux.timeOffsets", "\"time\" namespace"));
}

TEST(SpecTimeNs, OffsetsWithJoinedTimeNamespaceAreRefused) {
    json config = base();
    config["linux"]["namespaces"].push_back({{"type", "time"}, {"path", "/proc/1/ns/time"}});
    config["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 10}}}};
    EXPECT_TRUE(RefusedAt(config, ".linux.timeOffsets", "\"time\" namespace"));
}

TEST(SpecTimeNs, OffsetsWithNewTimeNamespaceAreParsed) {
    json config = base();
    config["linux"]["namespaces"].push_back({{"type", "time"}});
    config["linux"]["timeOffsets"] = {{"monotonic", {{"secs", -86400}, {"nanosecs", 5}}}, {"boottime", {{"secs", 3600}}}};
    Spec spec = parse_spec(config);
    ASSERT_EQ(spec.linux.time_offsets.size(), 2u);
    EXPECT_EQ(spec.linux.time_offsets.at("monotonic").secs, -86400);
    EXPECT_EQ(spec.linux.time_offsets.at("monotonic").nanosecs, 5u);
    EXPECT_EQ(spec.linux.time_offsets.at("boottime").secs, 3600);
    EXPECT_EQ(spec.linux.time_offsets.at("boottime").nanosecs, 0u);
}

TEST(SpecTimeNs, UnknownClockAndTooManyNanosecondsAreRefused) {
    json config = base();
    config["linux"]["namespaces"].push_back({{"type", "time"}});
    config["linux"]["timeOffsets"] = {{"realtime", {{"secs", 1}}}};
    EXPECT_TRUE(RefusedAt(config, ".linux.timeOffsets.realtime", "unknown clock"));
    config["linux"]["timeOffsets"] = {{"boottime", {{"nanosecs", 1000000000}}}};
    EXPECT_TRUE(RefusedAt(config, ".linux.timeOffsets.boottime.nanosecs", "1000000000"));
}

// ---------------------------------------------------------------------------------------------
// sysctl

TEST(SpecSysctl, NetKeysNeedANetworkNamespace) {
    json config = base();
    config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    ASSERT_TRUE(Accepted(config));
    EXPECT_EQ(parse_spec(config).linux.sysctl.at("net.ipv4.ip_forward"), "1");
    remove_ns(config, "network");
    EXPECT_TRUE(RefusedAt(config, ".linux.sysctl.net.ipv4.ip_forward", "\"network\" namespace"));
}

TEST(SpecSysctl, NetKeysAreFineInAJoinedNetworkNamespace) {
    json config = base();
    config["linux"]["namespaces"][ns_index(config, "network")]["path"] = "/var/run/netns/blue";
    config["linux"]["sysctl"] = {{"net.core.somaxconn", "1024"}};
    EXPECT_TRUE(Accepted(config));
}

TEST(SpecSysctl, IpcKeysNeedAnIpcNamespace) {
    json config = base();
    config["linux"]["sysctl"] = {{"kernel.shmmax", "68719476736"}, {"fs.mqueue.msg_max", "100"}, {"kernel.sem", "250 32000 32 128"}};
    ASSERT_TRUE(Accepted(config));
    remove_ns(config, "ipc");
    // std::map order: "fs.mqueue.msg_max" is checked first.
    EXPECT_TRUE(RefusedAt(config, ".linux.sysctl.fs.mqueue.msg_max", "\"ipc\" namespace"));
    config["linux"]["sysctl"] = {{"kernel.shmmax", "68719476736"}};
    EXPECT_TRUE(RefusedAt(config, ".linux.sysctl.kernel.shmmax", "\"ipc\" namespace"));
}

TEST(SpecSysctl, HostWideKeysAreRefused) {
    json config = base();
    config["linux"]["sysctl"] = {{"kernel.panic", "10"}};
    EXPECT_TRUE(RefusedAt(config, ".linux.sysctl.kernel.panic", "not namespaced"));
    config["linux"]["sysctl"] = {{"vm.swappiness", "10"}};
    EXPECT_TRUE(RefusedAt(config, ".linux.sysctl.vm.swappiness", "not namespaced"));
    // A prefix of a namespaced key is not that key.
    config["linux"]["sysctl"] = {{"kernel.shm", "1"}};
    EXPECT_TRUE(RefusedAt(config, ".linux.sysctl.kernel.shm", "not namespaced"));
}

// user.* sysctls (the ucount limits) belong to a user namespace: allowed with a new one, as
// runc >= 1.4 does; without one they would change the host's.
TEST(SpecSysctl, UserKeysNeedANewUserNamespace) {
    json config = base();
    config["linux"]["sysctl"] = {{"user.max_user_namespaces", "10"}};
    EXPECT_TRUE(RefusedAt(config, ".linux.sysctl.user.max_user_namespaces", "\"user\" namespace"));
    config["linux"]["namespaces"].push_back({{"type", "user"}, {"path", "/proc/1/ns/user"}});
    EXPECT_TRUE(RefusedAt(config, ".linux.sysctl.user.max_user_namespaces", "new \"user\" namespace"));
    config["linux"]["namespaces"].back().erase("path");
    config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    ASSERT_TRUE(Accepted(config));
    EXPECT_EQ(parse_spec(config).linux.sysctl.at("user.max_user_namespaces"), "10");
    config["linux"]["sysctl"] = {{"user/max_mnt_namespaces", "5"}};
    EXPECT_TRUE(Accepted(config));
}

TEST(SpecSysctl, DomainnameNeedsUts) {
    json config = base();
    config["linux"]["sysctl"] = {{"kernel.domainname", "example.org"}};
    EXPECT_TRUE(Accepted(config));
    remove_ns(config, "uts");
    config.erase("hostname");
    EXPECT_TRUE(RefusedAt(config, ".linux.sysctl.kernel.domainname", "\"uts\""));
}

// runc refuses kernel.hostname even with a UTS namespace: it conflicts with the OCI "hostname"
// field (validator.go: `sysctl "kernel.hostname" is not allowed as it conflicts with the OCI
// "hostname" field`).
TEST(SpecSysctl, KernelHostnameConflictsWithTheHostnameField) {
    json config = base();
    config["linux"]["sysctl"] = {{"kernel.hostname", "other"}};
    EXPECT_TRUE(RefusedAt(config, ".linux.sysctl.kernel.hostname"));
}

// runc accepts "/" as the separator (sysctl.d(5)): "net/ipv4/ip_forward" is net.ipv4.ip_forward
// (validator.go: convertSysctlVariableToDotsSeparator) and is allowed with a network namespace.
TEST(SpecSysctl, SlashSeparatedKeysAreAccepted) {
    json config = base();
    config["linux"]["sysctl"] = {{"net/ipv4/ip_forward", "1"}};
    EXPECT_TRUE(Accepted(config));
    config["linux"]["sysctl"] = {{"kernel/shmmax", "1024"}};
    EXPECT_TRUE(Accepted(config));
}

TEST(SpecSysctl, ValuesMustBeStrings) {
    json config = base();
    config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", 1}};
    EXPECT_TRUE(RefusedAt(config, ".linux.sysctl.net.ipv4.ip_forward", "must be a string"));
}

// ---------------------------------------------------------------------------------------------
// mounts

TEST(SpecMounts, EmptyDestinationIsRefused) {
    json config = base();
    config["mounts"][0]["destination"] = "";
    EXPECT_TRUE(RefusedAt(config, ".mounts[0].destination", "absolute"));
}

TEST(SpecMounts, FieldsAreKept) {
    json config = base();
    config["mounts"].push_back({{"destination", "/data"}, {"type", "bind"}, {"source", "/srv/data"}, {"options", {"rbind", "ro"}}});
    Spec spec = parse_spec(config);
    const Mount& m = spec.mounts.back();
    EXPECT_EQ(m.destination, "/data");
    EXPECT_EQ(m.type, "bind");
    EXPECT_EQ(m.source, "/srv/data");
    EXPECT_EQ(m.options, (std::vector<std::string>{"rbind", "ro"}));
}

TEST(SpecMounts, OptionsMustBeStrings) {
    json config = base();
    config["mounts"][1]["options"] = {"nosuid", 7};
    EXPECT_TRUE(RefusedAt(config, ".mounts[1].options[1]", "must be a string"));
}

TEST(SpecMounts, TypeAndSourceAreOptional) {
    json config = base();
    config["mounts"].push_back({{"destination", "/x"}});
    Spec spec = parse_spec(config);
    EXPECT_TRUE(spec.mounts.back().type.empty());
    EXPECT_TRUE(spec.mounts.back().source.empty());
}

// ---------------------------------------------------------------------------------------------
// linux.devices

json fuse_device() {
    return {{"path", "/dev/fuse"}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"fileMode", 0666}, {"uid", 0}, {"gid", 0}};
}

TEST(SpecDevices, DeviceIsParsed) {
    json config = base();
    config["linux"]["devices"] = {fuse_device(), {{"path", "/dev/myfifo"}, {"type", "p"}}};
    Spec spec = parse_spec(config);
    ASSERT_EQ(spec.linux.devices.size(), 2u);
    const Device& d = spec.linux.devices[0];
    EXPECT_EQ(d.path, "/dev/fuse");
    EXPECT_EQ(d.type, 'c');
    EXPECT_EQ(d.major, 10);
    EXPECT_EQ(d.minor, 229);
    EXPECT_EQ(d.file_mode, 0666u);
    EXPECT_EQ(d.uid, 0u);
    EXPECT_EQ(spec.linux.devices[1].type, 'p');  // a fifo needs no numbers
}

TEST(SpecDevices, UnknownTypeIsRefused) {
    json config = base();
    config["linux"]["devices"] = {fuse_device()};
    config["linux"]["devices"][0]["type"] = "x";
    EXPECT_TRUE(RefusedAt(config, ".linux.devices[0].type", "must be one of"));
    config["linux"]["devices"][0]["type"] = "cb";
    EXPECT_TRUE(RefusedAt(config, ".linux.devices[0].type", "must be one of"));
    config["linux"]["devices"][0].erase("type");
    EXPECT_TRUE(RefusedAt(config, ".linux.devices[0].type", "is required"));
}

TEST(SpecDevices, MissingMajorOrMinorIsRefused) {
    json config = base();
    config["linux"]["devices"] = {fuse_device(), fuse_device()};
    config["linux"]["devices"][1]["path"] = "/dev/fuse2";
    config["linux"]["devices"][1].erase("major");
    EXPECT_TRUE(RefusedAt(config, ".linux.devices[1].major", "is required"));
    config["linux"]["devices"][1]["major"] = 10;
    config["linux"]["devices"][1].erase("minor");
    EXPECT_TRUE(RefusedAt(config, ".linux.devices[1].minor", "is required"));
}

TEST(SpecDevices, RelativePathIsRefused) {
    json config = base();
    config["linux"]["devices"] = {fuse_device()};
    config["linux"]["devices"][0]["path"] = "dev/fuse";
    EXPECT_TRUE(RefusedAt(config, ".linux.devices[0].path", "absolute"));
}

// A device node has no "any" major: -1 is what device cgroup rules use for a wildcard, and
// device_cgroup_lines() turns it into "c *:229 rwm", allowing every character device with
// that minor. It must be refused when parsing.
TEST(SpecDevices, NegativeMajorIsRefused) {
    json config = base();
    config["linux"]["devices"] = {fuse_device()};
    config["linux"]["devices"][0]["major"] = -1;
    EXPECT_TRUE(RefusedAt(config, ".linux.devices[0].major"));
}

// ---------------------------------------------------------------------------------------------
// linux.resources.devices (device cgroup rules)

TEST(SpecDeviceRules, RuleIsParsed) {
    json config = base();
    config["linux"]["resources"]["devices"].push_back(
        {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 200}, {"access", "rw"}});
    config["linux"]["resources"]["devices"].push_back({{"allow", true}, {"type", "b"}, {"major", 8}});
    Spec spec = parse_spec(config);
    ASSERT_EQ(spec.linux.resources->devices.size(), 3u);
    const DeviceRule& r = spec.linux.resources->devices[1];
    EXPECT_TRUE(r.allow);
    EXPECT_EQ(r.type, 'c');
    EXPECT_EQ(r.major, 10);
    EXPECT_EQ(r.minor, 200);
    EXPECT_EQ(r.access, "rw");
    const DeviceRule& b = spec.linux.resources->devices[2];
    EXPECT_EQ(b.type, 'b');
    EXPECT_EQ(b.major, 8);
    EXPECT_FALSE(b.minor.has_value());
    EXPECT_EQ(b.access, "rwm");  // the default
}

TEST(SpecDeviceRules, AccessMustBeMadeOfRwm) {
    json config = base();
    config["linux"]["resources"]["devices"].push_back({{"allow", true}, {"type", "c"}, {"access", "rwx"}});
    EXPECT_TRUE(RefusedAt(config, ".linux.resources.devices[1].access", "\"r\", \"w\" and \"m\""));
    config["linux"]["resources"]["devices"][1]["access"] = "";
    EXPECT_TRUE(RefusedAt(config, ".linux.resources.devices[1].access"));
}

TEST(SpecDeviceRules, TypeMustBeACOrB) {
    json config = base();
    config["linux"]["resources"]["devices"][0]["type"] = "p";
    EXPECT_TRUE(RefusedAt(config, ".linux.resources.devices[0].type", "must be one of"));
}

TEST(SpecDeviceRules, AllowIsRequired) {
    json config = base();
    config["linux"]["resources"]["devices"][0].erase("allow");
    EXPECT_TRUE(RefusedAt(config, ".linux.resources.devices[0].allow", "is required"));
}

// ---------------------------------------------------------------------------------------------
// Other linux fields

TEST(SpecLinux, RootfsPropagation) {
    json config = base();
    for (const char* p : {"private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable", ""}) {
        config["linux"]["rootfsPropagation"] = p;
        EXPECT_TRUE(Accepted(config)) << p;
    }
    config["linux"]["rootfsPropagation"] = "rro";
    EXPECT_TRUE(RefusedAt(config, ".linux.rootfsPropagation", "unknown propagation"));
}

TEST(SpecLinux, MaskedAndReadonlyPathsMustBeAbsolute) {
    json config = base();
    config["linux"]["maskedPaths"].push_back("proc/kcore");
    size_t i = config["linux"]["maskedPaths"].size() - 1;
    EXPECT_TRUE(RefusedAt(config, ".linux.maskedPaths[" + std::to_string(i) + "]", "absolute"));
    config = base();
    config["linux"]["readonlyPaths"][0] = "proc/bus";
    EXPECT_TRUE(RefusedAt(config, ".linux.readonlyPaths[0]", "absolute"));
}

TEST(SpecLinux, CgroupsPathIsKept) {
    json config = base();
    config["linux"]["cgroupsPath"] = "/machine/c1";
    EXPECT_EQ(parse_spec(config).linux.cgroups_path, "/machine/c1");
    config["linux"]["cgroupsPath"] = "system.slice:crun-lite:c1";  // the systemd form
    EXPECT_EQ(parse_spec(config).linux.cgroups_path, "system.slice:crun-lite:c1");
}

// ---------------------------------------------------------------------------------------------
// Fields this version does not implement: refused with their path, never ignored.

// Terminal support (f60f856) and hooks (2dfcc03) have landed since these tests were planned:
// both are now parsed rather than refused. (Seccomp is being implemented too: no test here
// pins it either way.)
TEST(SpecProcess, TerminalIsParsed) {
    json config = base();
    config["process"]["terminal"] = true;
    ASSERT_TRUE(Accepted(config));
    EXPECT_TRUE(parse_spec(config).process->terminal);
}

TEST(SpecHooks, HooksAreParsedInEveryPhase) {
    json config = base();
    config["hooks"] = {
        {"prestart", {{{"path", "/usr/bin/pre"}}}},
        {"createRuntime", {{{"path", "/usr/bin/cr"}, {"args", {"cr", "-x"}}, {"env", {"A=1"}}, {"timeout", 5}}}},
        {"createContainer", {{{"path", "/usr/bin/cc"}}}},
        {"startContainer", {{{"path", "/usr/bin/sc"}}}},
        {"poststart", {{{"path", "/usr/bin/ps1"}}, {{"path", "/usr/bin/ps2"}}}},
        {"poststop", {{{"path", "/usr/bin/stop"}}}},
    };
    Spec spec = parse_spec(config);
    ASSERT_EQ(spec.hooks.prestart.size(), 1u);
    EXPECT_EQ(spec.hooks.prestart[0].path, "/usr/bin/pre");
    EXPECT_FALSE(spec.hooks.prestart[0].timeout.has_value());
    ASSERT_EQ(spec.hooks.create_runtime.size(), 1u);
    EXPECT_EQ(spec.hooks.create_runtime[0].args, (std::vector<std::string>{"cr", "-x"}));
    EXPECT_EQ(spec.hooks.create_runtime[0].env, (std::vector<std::string>{"A=1"}));
    EXPECT_EQ(spec.hooks.create_runtime[0].timeout, 5);
    EXPECT_EQ(spec.hooks.create_container.size(), 1u);
    EXPECT_EQ(spec.hooks.start_container.size(), 1u);
    ASSERT_EQ(spec.hooks.poststart.size(), 2u);
    EXPECT_EQ(spec.hooks.poststart[1].path, "/usr/bin/ps2");
    EXPECT_EQ(spec.hooks.poststop.size(), 1u);
    EXPECT_FALSE(spec.hooks.empty());
}

TEST(SpecHooks, EmptyHooksAreAccepted) {
    json config = base();
    config["hooks"] = json::object();
    EXPECT_TRUE(parse_spec(config).hooks.empty());
    config["hooks"] = {{"prestart", json::array()}, {"poststart", json::array()}};
    EXPECT_TRUE(parse_spec(config).hooks.empty());
}

TEST(SpecHooks, HookFieldsAreValidated) {
    json config = base();
    config["hooks"] = {{"createRuntime", {{{"path", "bin/hook"}}}}};
    EXPECT_TRUE(RefusedAt(config, ".hooks.createRuntime[0].path", "absolute"));
    config["hooks"] = {{"createRuntime", {{{"path", "/bin/hook"}, {"timeout", 0}}}}};
    EXPECT_TRUE(RefusedAt(config, ".hooks.createRuntime[0].timeout", "greater than 0"));
    config["hooks"] = {{"poststop", {{{"args", {"x"}}}}}};
    EXPECT_TRUE(RefusedAt(config, ".hooks.poststop[0].path", "is required"));
    config["hooks"] = {{"poststart", "/bin/hook"}};
    EXPECT_TRUE(RefusedAt(config, ".hooks.poststart", "must be an array"));
}

TEST(SpecResources, ControllersParseIntoTypedFields) {
    json config = base();
    config["linux"]["resources"]["memory"] = {{"limit", 536870912}, {"swappiness", 10}};
    config["linux"]["resources"]["pids"] = {{"limit", 100}};
    config["linux"]["resources"]["cpu"] = {{"cpus", "0-1"}, {"shares", 512}};
    config["linux"]["resources"]["unified"] = {{"memory.max", "max"}};
    Spec spec = parse_spec(config);
    ASSERT_TRUE(spec.linux.resources->memory.has_value());
    EXPECT_EQ(*spec.linux.resources->memory->limit, 536870912);
    EXPECT_EQ(*spec.linux.resources->memory->swappiness, 10u);
    EXPECT_EQ(*spec.linux.resources->pids_limit, 100);
    EXPECT_EQ(spec.linux.resources->cpu->cpus, "0-1");
    EXPECT_EQ(*spec.linux.resources->cpu->shares, 512u);
    EXPECT_EQ(spec.linux.resources->unified.at("memory.max"), "max");
}

TEST(SpecResources, ZeroResourceValuesAreTreatedAsUnset) {
    json config = base();
    config["linux"]["resources"]["memory"] = {{"limit", 0}, {"reservation", 0}, {"swap", 0}, {"disableOOMKiller", false}};
    config["linux"]["resources"]["cpu"] = {{"shares", 0}, {"quota", 0}, {"period", 0}, {"cpus", ""}, {"mems", ""}};
    config["linux"]["resources"]["blockIO"] = {{"weight", 0}, {"weightDevice", json::array()}};
    config["linux"]["resources"]["hugepageLimits"] = json::array();
    config["linux"]["resources"]["unified"] = json::object();
    ASSERT_TRUE(Accepted(config));
    Spec spec = parse_spec(config);
    EXPECT_EQ(spec.linux.resources->devices.size(), 1u);
    EXPECT_FALSE(spec.linux.resources->memory->limit.has_value());
    EXPECT_FALSE(spec.linux.resources->cpu->shares.has_value());
    EXPECT_FALSE(spec.linux.resources->block_io->weight.has_value());
}

TEST(SpecResources, PidsLimitZeroIsALimitAndAbsentIsNone) {
    // runtime-spec 1.3: `limit` is optional, 0 is a real limit, negative means "max".
    json config = base();
    config["linux"]["resources"]["pids"] = {{"limit", 0}};
    Spec spec = parse_spec(config);
    ASSERT_TRUE(spec.linux.resources->pids_limit.has_value());
    EXPECT_EQ(*spec.linux.resources->pids_limit, 0);
    config["linux"]["resources"]["pids"] = {{"limit", -1}};
    EXPECT_EQ(*parse_spec(config).linux.resources->pids_limit, -1);
    config["linux"]["resources"]["pids"] = json::object();
    ASSERT_TRUE(Accepted(config));
    EXPECT_FALSE(parse_spec(config).linux.resources->pids_limit.has_value());
    config["linux"]["resources"].erase("pids");
    EXPECT_FALSE(parse_spec(config).linux.resources->pids_limit.has_value());
    config["linux"]["resources"]["pids"] = {{"limit", "many"}};
    EXPECT_TRUE(RefusedAt(config, ".linux.resources.pids.limit", ""));
}

TEST(SpecEmptyValues, FalseOrEmptyValuesAreAccepted) {
    json config = base();
    config["process"]["apparmorProfile"] = "";
    config["process"]["selinuxLabel"] = "";
    config["linux"]["seccomp"] = nullptr;
    config["linux"]["mountLabel"] = "";
    config["linux"]["intelRdt"] = json::object();
    EXPECT_TRUE(Accepted(config));
}

TEST(SpecProcessExtras, SecurityLabelsParse) {
    // Whether the host runs the LSM is checked at create (linux/process_attributes.cpp).
    json config = base();
    config["process"]["apparmorProfile"] = "docker-default";
    config["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0";
    config["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0";
    Spec spec = parse_spec(config);
    EXPECT_EQ(spec.process->apparmor_profile, "docker-default");
    EXPECT_EQ(spec.linux.mount_label, "system_u:object_r:container_file_t:s0");
}

TEST(SpecProcessExtras, SchedulerIoPriorityAndPersonality) {
    json config = base();
    config["process"]["scheduler"] = {{"policy", "SCHED_FIFO"}, {"priority", 1}, {"flags", {"SCHED_FLAG_RESET_ON_FORK"}}};
    config["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_IDLE"}, {"priority", 4}};
    config["linux"]["personality"] = {{"domain", "LINUX32"}};
    Spec spec = parse_spec(config);
    EXPECT_EQ(spec.process->scheduler->policy, 1);
    EXPECT_EQ(spec.process->scheduler->flags, 1u);
    EXPECT_EQ(spec.process->io_priority->io_class, 3);
    EXPECT_EQ(spec.process->io_priority->priority, 4);
    EXPECT_EQ(*spec.linux.personality, 8u);

    config["process"]["scheduler"]["policy"] = "SCHED_FAST";
    EXPECT_TRUE(RefusedAt(config, ".process.scheduler.policy", "unknown"));
    config = base();
    config["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_BE"}, {"priority", 9}};
    EXPECT_TRUE(RefusedAt(config, ".process.ioPriority.priority"));
    config = base();
    config["linux"]["personality"] = {{"domain", "LINUX64"}};
    EXPECT_TRUE(RefusedAt(config, ".linux.personality.domain"));
}

// runc warns about personality flags and ignores them; the domain is still set.
TEST(SpecProcessExtras, PersonalityFlagsAreIgnoredWithAWarning) {
    json config = base();
    config["linux"]["personality"] = {{"domain", "LINUX32"}, {"flags", {"ADDR_NO_RANDOMIZE"}}};
    Spec spec = parse_spec(config);
    EXPECT_EQ(*spec.linux.personality, 8u);
    ASSERT_EQ(spec.warnings.size(), 1u);
    EXPECT_EQ(spec.warnings[0].path, ".linux.personality.flags");
    config["linux"]["personality"]["flags"] = {1};
    EXPECT_TRUE(RefusedAt(config, ".linux.personality.flags[0]", "must be a string"));
}

// A relative destination is deprecated but allowed by the runtime-spec: it is taken against /.
TEST(SpecMounts, RelativeDestinationIsResolvedAgainstRootWithAWarning) {
    json config = base();
    config["mounts"][0]["destination"] = "proc";
    Spec spec = parse_spec(config);
    EXPECT_EQ(spec.mounts[0].destination, "/proc");
    ASSERT_EQ(spec.warnings.size(), 1u);
    EXPECT_EQ(spec.warnings[0].path, ".mounts[0].destination");
    EXPECT_NE(spec.warnings[0].message.find("deprecated"), std::string::npos);
}

TEST(SpecIntelRdt, FieldsParse) {
    json config = base();
    config["linux"]["intelRdt"] = {{"closID", "guaranteed_group"}, {"l3CacheSchema", "L3:0=7f0;1=1f"}, {"memBwSchema", "MB:0=20;1=70"},
                                   {"schemata", {"L2:0=3"}}, {"enableMonitoring", true}};
    Spec spec = parse_spec(config);
    ASSERT_TRUE(spec.linux.intel_rdt.has_value());
    EXPECT_EQ(spec.linux.intel_rdt->clos_id, "guaranteed_group");
    EXPECT_EQ(spec.linux.intel_rdt->mem_bw_schema, "MB:0=20;1=70");
    EXPECT_EQ(spec.linux.intel_rdt->schemata, std::vector<std::string>{"L2:0=3"});
    EXPECT_TRUE(spec.linux.intel_rdt->enable_monitoring);
    config["linux"]["intelRdt"] = {{"closID", "/"}};  // the default CLOS (runtime-spec 1.3)
    EXPECT_EQ(parse_spec(config).linux.intel_rdt->clos_id, "/");
}

TEST(SpecIntelRdt, NamesAndLinesThatWouldLeadElsewhereAreRefused) {
    json config = base();
    for (const char* bad : {"../x", "a/b", "..", "info", "mon_groups", "x\ny"}) {
        config["linux"]["intelRdt"] = {{"closID", bad}};
        EXPECT_TRUE(RefusedAt(config, ".linux.intelRdt.closID")) << bad;
    }
    config["linux"]["intelRdt"] = {{"memBwSchema", "L3:0=1"}};
    EXPECT_TRUE(RefusedAt(config, ".linux.intelRdt.memBwSchema", "MB:"));
    config["linux"]["intelRdt"] = {{"memBwSchema", "MB:0=20\nL3:0=1"}};
    EXPECT_TRUE(RefusedAt(config, ".linux.intelRdt.memBwSchema"));
    config["linux"]["intelRdt"] = {{"schemata", {"L3:0=1", "MB:0=5\nL3:0=3"}}};
    EXPECT_TRUE(RefusedAt(config, ".linux.intelRdt.schemata[1]"));
    config["linux"]["intelRdt"] = {{"enableCMT", true}};
    EXPECT_TRUE(RefusedAt(config, ".linux.intelRdt.enableCMT", "enableMonitoring"));
    config["linux"]["intelRdt"] = {{"enableMonitoring", "yes"}};
    EXPECT_TRUE(RefusedAt(config, ".linux.intelRdt.enableMonitoring"));
}

TEST(SpecPlacement, ExecCpuAffinityListsParseSortedAndOnce) {
    json config = base();
    config["process"]["execCPUAffinity"] = {{"initial", "3,0-1,1"}, {"final", ""}};
    Spec spec = parse_spec(config);
    ASSERT_TRUE(spec.process->exec_cpu_affinity.has_value());
    EXPECT_EQ(spec.process->exec_cpu_affinity->initial, (std::vector<unsigned>{0, 1, 3}));
    EXPECT_TRUE(spec.process->exec_cpu_affinity->final_cpus.empty());
    for (const char* bad : {"1-0", "0,", ",0", "a", "0 1", "0-", "8192"}) {
        config["process"]["execCPUAffinity"] = {{"final", bad}};
        EXPECT_TRUE(RefusedAt(config, ".process.execCPUAffinity.final")) << bad;
    }
}

TEST(SpecPlacement, MemoryPolicyModesNodesAndFlags) {
    json config = base();
    config["linux"]["memoryPolicy"] = {{"mode", "MPOL_INTERLEAVE"}, {"nodes", "0-2,5"}, {"flags", {"MPOL_F_STATIC_NODES"}}};
    Spec spec = parse_spec(config);
    ASSERT_TRUE(spec.linux.memory_policy.has_value());
    EXPECT_EQ(spec.linux.memory_policy->mode, 3);
    EXPECT_EQ(spec.linux.memory_policy->flags, 1u << 15);
    EXPECT_EQ(spec.linux.memory_policy->nodes, (std::vector<unsigned>{0, 1, 2, 5}));
    // Empty nodes: what MPOL_DEFAULT, MPOL_LOCAL and MPOL_PREFERRED (local allocation) take.
    for (const char* mode : {"MPOL_DEFAULT", "MPOL_LOCAL", "MPOL_PREFERRED"}) {
        config["linux"]["memoryPolicy"] = {{"mode", mode}, {"nodes", ""}};
        EXPECT_TRUE(Accepted(config)) << mode;
        config["linux"]["memoryPolicy"] = {{"mode", mode}};
        EXPECT_TRUE(Accepted(config)) << mode;
    }
    for (const char* mode : {"MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE", "MPOL_PREFERRED_MANY"}) {
        config["linux"]["memoryPolicy"] = {{"mode", mode}, {"nodes", ""}};
        EXPECT_TRUE(RefusedAt(config, ".linux.memoryPolicy.nodes", mode)) << mode;
    }
    config["linux"]["memoryPolicy"] = {{"mode", "MPOL_DEFAULT"}, {"nodes", "0"}};
    EXPECT_TRUE(RefusedAt(config, ".linux.memoryPolicy.nodes"));
    config["linux"]["memoryPolicy"] = {{"mode", "MPOL_PREFERRED"}, {"nodes", ""}, {"flags", {"MPOL_F_RELATIVE_NODES"}}};
    EXPECT_TRUE(RefusedAt(config, ".linux.memoryPolicy.flags[0]"));
    config["linux"]["memoryPolicy"] = {{"mode", "MPOL_PREFERRED_MANY"}, {"nodes", "0"}, {"flags", {"MPOL_F_NUMA_BALANCING"}}};
    EXPECT_TRUE(Accepted(config));
    config["linux"]["memoryPolicy"] = {{"mode", "MPOL_BIND"}, {"nodes", "1024"}};
    EXPECT_TRUE(RefusedAt(config, ".linux.memoryPolicy.nodes", "1024"));
    config["linux"]["memoryPolicy"] = {{"mode", "bind"}, {"nodes", "0"}};
    EXPECT_TRUE(RefusedAt(config, ".linux.memoryPolicy.mode"));
}

TEST(SpecPlacement, NetDevicesNamesAndNamespace) {
    json config = base();
    config["linux"]["netDevices"] = {{"eth1", json::object()}, {"dummy0", {{"name", "eth2"}}}, {"veth3", {{"name", ""}}}};
    Spec spec = parse_spec(config);
    ASSERT_EQ(spec.linux.net_devices.size(), 3u);
    EXPECT_EQ(spec.linux.net_devices.at("dummy0").name, "eth2");
    EXPECT_EQ(spec.linux.net_devices.at("eth1").name, "");
    for (const char* bad : {"a/b", "a:b", "a b", "eth%d", ".", "..", "0123456789abcdef"}) {
        config["linux"]["netDevices"] = {{"eth1", {{"name", bad}}}};
        EXPECT_TRUE(RefusedAt(config, ".linux.netDevices.eth1.name")) << bad;
    }
    config["linux"]["netDevices"] = {{"0123456789abcdef", json::object()}};
    EXPECT_TRUE(RefusedAt(config, ".linux.netDevices.0123456789abcdef", "15"));
    config["linux"]["netDevices"] = {{"eth1", {{"name", "eth2"}}}, {"eth2", json::object()}};
    EXPECT_TRUE(RefusedAt(config, ".linux.netDevices.eth2", "eth1"));
    config["linux"]["netDevices"] = {{"eth1", json::object()}};
    remove_ns(config, "network");
    EXPECT_TRUE(RefusedAt(config, ".linux.netDevices", "network"));
}

// Idmapped mounts are accepted by the parser; their mappings are checked when the mount is
// planned (runtime/plan.cpp) and applied by the kernel.
TEST(SpecMounts, IdmappedMountMappingsParse) {
    json config = base();
    config["mounts"].push_back({{"destination", "/data"},
                                {"type", "bind"},
                                {"source", "/srv"},
                                {"options", {"rbind", "idmap"}},
                                {"uidMappings", {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}},
                                {"gidMappings", {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}}});
    Spec spec = parse_spec(config);
    ASSERT_EQ(spec.mounts.back().uid_mappings.size(), 1u);
    EXPECT_EQ(spec.mounts.back().uid_mappings[0].host_id, 1000u);
    config["mounts"].back()["uidMappings"][0]["size"] = 0;
    EXPECT_TRUE(RefusedAt(config, ".mounts[" + std::to_string(config["mounts"].size() - 1) + "].uidMappings[0].size"));
}

// ---------------------------------------------------------------------------------------------
// load_bundle: reads <bundle>/config.json and resolves a relative root against the bundle.

void write_config(const std::string& dir, const std::string& text) {
    std::ofstream out(dir + "/config.json");
    out << text;
}

TEST(LoadBundle, RelativeRootIsResolvedAgainstTheBundle) {
    test::TempDir dir;
    write_config(dir.path(), base().dump());
    Spec spec = load_bundle(dir.path());
    EXPECT_EQ(spec.root.path, dir.path() + "/rootfs");
}

// runc cleans root.path (filepath.Join): "." is the bundle itself, and init finds the mount
// holding the root by this path (issue 18).
TEST(LoadBundle, RootPathIsCleaned) {
    EXPECT_EQ(absolute_root_path("/b", "."), "/b");
    EXPECT_EQ(absolute_root_path("/b", "./rootfs/"), "/b/rootfs");
    EXPECT_EQ(absolute_root_path("/b", "x/../rootfs"), "/b/rootfs");
    EXPECT_EQ(absolute_root_path("/b", "/srv//root/./fs/"), "/srv/root/fs");
    EXPECT_EQ(absolute_root_path("/b", "/../.."), "/");
    EXPECT_EQ(absolute_root_path("/b", "../../../.."), "/");
}

TEST(LoadBundle, AbsoluteRootIsKept) {
    test::TempDir dir;
    json config = base();
    config["root"]["path"] = "/var/lib/rootfs";
    write_config(dir.path(), config.dump());
    EXPECT_EQ(load_bundle(dir.path()).root.path, "/var/lib/rootfs");
}

TEST(LoadBundle, MissingConfigIsAnError) {
    test::TempDir dir;
    EXPECT_TRUE(ThrowsError([&] { load_bundle(dir.path()); }, dir.path() + "/config.json"));
}

// The message load_bundle throws for the bundle in `dir` ("" and a test failure when it loads).
std::string load_error(const std::string& dir) {
    try {
        load_bundle(dir);
    } catch (const Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "load_bundle(" << dir << ") did not throw";
    return "";
}

TEST(LoadBundle, InvalidJsonIsAnErrorWithoutTheLibraryPrefix) {
    test::TempDir dir;
    write_config(dir.path(), "{\"ociVersion\": ");
    std::string what = load_error(dir.path());
    EXPECT_EQ(what.rfind("config.json: invalid JSON: ", 0), 0u) << what;
    EXPECT_FALSE(test::contains(what, "[json.exception")) << what;
}

// Found by tests/fuzz/fuzz_config: a number beyond a double is nlohmann's out_of_range.406, not a
// parse_error, and escaped as "[json.exception.out_of_range.406] number overflow parsing '1e400'".
TEST(LoadBundle, NumberBeyondADoubleIsInvalidJson) {
    test::TempDir dir;
    std::string text = base().dump();
    text.pop_back();
    text += ",\"x\":1e400}";
    write_config(dir.path(), text);
    std::string what = load_error(dir.path());
    EXPECT_EQ(what.rfind("config.json: invalid JSON: ", 0), 0u) << what;
    EXPECT_TRUE(test::contains(what, "1e400")) << what;
    EXPECT_FALSE(test::contains(what, "[json.exception")) << what;
}

TEST(LoadBundle, SpecErrorsAreReportedWithTheirPath) {
    test::TempDir dir;
    json config = base();
    config["process"]["args"] = json::array();
    write_config(dir.path(), config.dump());
    EXPECT_TRUE(ThrowsError([&] { load_bundle(dir.path()); }, "config.json: .process.args: "));
}

// ---------------------------------------------------------------------------------------------
// JsonField: the typed accessors every error message comes from.

TEST(JsonField, IntegerRanges) {
    json big = json::parse("9223372036854775808");  // 2^63
    EXPECT_TRUE(ThrowsSpecError([&] { JsonField(big, ".x").int64(); }, ".x", "out of range"));
    EXPECT_EQ(JsonField(big, ".x").uint64(), 9223372036854775808ULL);
    json i32 = 2147483648LL;
    EXPECT_TRUE(ThrowsSpecError([&] { JsonField(i32, ".y").int32(); }, ".y", "out of range"));
    json neg = -2147483648LL;
    EXPECT_EQ(JsonField(neg, ".y").int32(), -2147483647 - 1);
    json u32 = 4294967295ULL;
    EXPECT_EQ(JsonField(u32, ".z").uint32(), 4294967295u);
}

TEST(JsonField, NulBytesAreRefusedInStringsAndKeys) {
    json value = std::string("a\0b", 3);
    EXPECT_TRUE(ThrowsSpecError([&] { JsonField(value, ".s").string(); }, ".s", "must not contain a NUL byte"));
    json list = {"ok", std::string("x\0", 2)};
    EXPECT_TRUE(ThrowsSpecError([&] { JsonField(list, ".l").strings(); }, ".l[1]", "NUL byte"));
    json object = {{std::string("k\0ey", 4), "v"}};
    EXPECT_TRUE(ThrowsSpecError([&] { JsonField(object, ".o").each_member([](const std::string&, const JsonField&) {}); },
                                ".o", "\"k\\u0000ey\" must not contain a NUL byte"));
    json fine = "UTF-8 \u00fc and \t tabs";
    EXPECT_EQ(JsonField(fine, ".s").string(), fine.get<std::string>());
}

TEST(JsonField, MemberAndRequiredPaths) {
    json obj = {{"a", {{"b", nullptr}}}};
    JsonField root(obj, "");
    auto a = root.member("a");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->path(), ".a");
    EXPECT_FALSE(a->member("b").has_value());
    EXPECT_TRUE(ThrowsSpecError([&] { a->required("b"); }, ".a.b", "is required"));
    std::vector<std::string> paths;
    json arr = {1, 2};
    JsonField(arr, ".list").each([&](const JsonField& f) { paths.push_back(f.path()); });
    EXPECT_EQ(paths, (std::vector<std::string>{".list[0]", ".list[1]"}));
}

// Hostile sizes: bounded before they cost memory.
TEST(LoadBundle, DeeplyNestedConfigIsRefused) {
    test::TempDir dir;
    std::string text = base().dump();
    text.pop_back();
    text += ",\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
    write_config(dir.path(), text);
    std::string what = load_error(dir.path());
    EXPECT_TRUE(test::contains(what, "nested deeper than")) << what;
}

TEST(LoadBundle, HugeConfigIsRefused) {
    test::TempDir dir;
    write_config(dir.path(), std::string(17 << 20, ' '));
    std::string what = load_error(dir.path());
    EXPECT_TRUE(test::contains(what, "larger than 16 MiB")) << what;
}

}  // namespace
}  // namespace crunlite::spec
