// The host checks of `crun-lite check`, one area per file. Each looks at the parsed spec and
// the host and adds findings; parts the config parse already refused are skipped.
#pragma once
#include <optional>
#include <set>
#include <string>

#include "crunlite/check.hpp"
#include "crunlite/spec.hpp"

namespace crunlite::check {

struct Context {
    const nlohmann::json& config;
    const spec::Spec& spec;
    std::string bundle;  // absolute
    bool rootless = false;
    bool systemd_cgroup = false;  // --systemd-cgroup
    bool checkpoint = false;      // --checkpoint: whether CRIU can checkpoint and restore it here

    // The JSON path of the n-th item the parse kept from the list at `list_path` (".mounts"):
    // an item the parse refused is not in the Spec, so the n-th kept one may sit further down.
    std::string item_path(const Report& report, const std::string& list_path, size_t n) const;
};

void check_root_and_executable(const Context& ctx, Report& report);  // rootfs.cpp
void check_process(const Context& ctx, Report& report);              // process.cpp: capabilities, rlimits, LSMs, user
void check_namespaces(const Context& ctx, Report& report);           // namespaces.cpp: kinds, paths, id mappings, sysctls
void check_cgroups(const Context& ctx, Report& report);              // cgroups.cpp
void check_systemd(const Context& ctx, Report& report);              // systemd.cpp: --systemd-cgroup
void check_seccomp(const Context& ctx, Report& report);              // seccomp.cpp
void check_mounts_and_hooks(const Context& ctx, Report& report);     // files.cpp
void check_placement(const Context& ctx, Report& report);            // placement.cpp: execCPUAffinity, memoryPolicy, netDevices
void check_checkpoint(const Context& ctx, Report& report);           // criu.cpp: --checkpoint, CRIU on this host

// "0-3,5" -> {0,1,2,3,5}; false when it does not parse (cgroups.cpp).
bool parse_list(const std::string& text, std::set<long>& out);

// Reads a small file (a /proc or /sys value); empty when it cannot be read.
std::string read_small_file(const std::string& path);

// cgroup v2 (check_cgroups.cpp): whether a cgroup that has the controller of `file`
// ("hugetlb.2MB.max") enabled shows that file, asked of the cgroups right below the hierarchy's
// root at `mount_point` and of `own_cgroup` ("/a/b", as /proc/self/cgroup says; "/" is the
// root, which has almost no interface files). nullopt when no such cgroup has the controller
// yet (a fresh host: create enables it on the way down, so only create can tell).
std::optional<bool> unified_has_file(const std::string& mount_point, const std::string& file, const std::string& own_cgroup);

}  // namespace crunlite::check
