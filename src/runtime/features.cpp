// `features`: what this build really acts on, in the runtime-spec features format.
// Keep it in step with docs/status.md: engines probe it before they use a field.
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/syscall.h>

#include <algorithm>
#include <fstream>

#include "criu/criu.hpp"
#include "spec/memory_policy_names.hpp"
#include "spec/namespace_kinds.hpp"
#include "sys/lsm.hpp"
#include "crunlite/runtime.hpp"
#include "crunlite/spec_version.hpp"

namespace crunlite::runtime {
namespace {

template <typename Table>
std::vector<std::string> names_of(const Table& table) {
    std::vector<std::string> names;
    for (auto& [name, value] : table) names.push_back(name);
    return names;
}

}  // namespace

std::string compiled_features() {
    std::string out = "+SYSTEMD +CAP +SECCOMP";  // +SYSTEMD: the systemd cgroup driver (libdbus-1)
#ifdef SCMP_ACT_NOTIFY
    out += " +SECCOMP_NOTIFY";
#endif
#ifdef SYS_bpf
    out += " +EBPF";  // the cgroup v2 device filter
#endif
#ifdef SYS_clone3
    out += " +CLONE3";
#endif
#ifdef SYS_pidfd_open
    out += " +PIDFD";
#endif
#ifdef MOUNT_ATTR_IDMAP
    out += " +IDMAP";
#endif
#ifdef CRUNLITE_STATIC
    out += " +STATIC";
#endif
    return out;
}

namespace {

// In name order: the order `features` has always printed.
std::vector<std::string> namespace_names() {
    std::vector<std::string> names;
    for (const spec::NamespaceInfo& info : spec::kNamespaceKinds) names.push_back(info.spec_name);
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

namespace {

nlohmann::json annotations() {
    nlohmann::json out = {{"io.github.crun-lite.version", CRUNLITE_VERSION_STRING}};
    // runc's: engines (podman, containerd) offer checkpoint/restore only when it says so, and
    // only a `criu check` that passes makes it true.
    if (!criu::unusable_reason()) out["org.opencontainers.runc.checkpoint.enabled"] = "true";
    return out;
}

}  // namespace

nlohmann::json features() {
    nlohmann::json caps = nlohmann::json::array();
    int last = 40;
    std::ifstream("/proc/sys/kernel/cap_last_cap") >> last;
    for (int cap = 0; cap <= last; ++cap) {
        char* name = cap_to_name(cap);
        std::string upper = name;
        cap_free(name);
        for (auto& c : upper) c = char(toupper(c));
        if (upper.rfind("CAP_", 0) == 0) caps.push_back(upper);
    }
    return {
        {"ociVersionMin", spec::kOldestSpecVersion},
        {"ociVersionMax", spec::kSpecVersion},
        {"hooks", {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
        {"mountOptions",
         {"idmap", "ridmap", "async", "atime", "bind", "copy-symlink", "defaults", "dest-nofollow", "dev", "diratime", "dirsync", "exec", "iversion", "lazytime", "loud",
          "mand", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", "nomand", "norelatime",
          "nostrictatime", "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime",
          "remount", "rexec", "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid",
          "rnosymfollow", "ro", "rprivate",
          "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw",
          "shared", "silent", "slave", "src-nofollow", "strictatime", "suid", "symfollow", "sync", "tmpcopyup", "unbindable"}},
        {"linux",
         {{"namespaces", namespace_names()},
          {"capabilities", caps},
          {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", true}, {"systemdUser", true}, {"rdma", true}}},
          {"seccomp",
           {{"enabled", true},
            {"actions",
             {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
              "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}},
            {"operators",
             {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
            {"archs",
             {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
              "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
              "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_X32",
              "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"}},
            {"knownFlags",
             {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
              "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}},
            {"supportedFlags",
             {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
              "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}}}},
          // The labels are applied where the host runs the LSM and refused elsewhere (.process.apparmorProfile).
          {"apparmor", {{"enabled", sys::apparmor_enabled()}}},
          {"selinux", {{"enabled", sys::selinux_enabled()}}},
          // What the runtime supports, as runc says it: a host without a resctrl mount makes a
          // config with intelRdt an error at create (and in `check`), naming .linux.intelRdt.
          {"intelRdt", {{"enabled", true}, {"schemata", true}, {"monitoring", true}}},
          {"memoryPolicy", {{"modes", names_of(spec::kMemoryPolicyModes)}, {"flags", names_of(spec::kMemoryPolicyFlags)}}},
          {"mountExtensions", {{"idmap", {{"enabled", true}}}}},
          {"netDevices", {{"enabled", true}}}}},
        {"annotations", annotations()},
    };
}

}  // namespace crunlite::runtime
