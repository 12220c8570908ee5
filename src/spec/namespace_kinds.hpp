// Every namespace kind in one table: its "type" in config.json, its file under /proc/<pid>/ns,
// its CLONE_NEW* flag (clone, unshare, setns, and what NS_GET_NSTYPE answers) and the order in
// which `exec` joins it. Parsing, `check`, `features`, the clone flags and exec's joins all
// read this table, so a kind is added or renamed in one place.
#pragma once
#include <sched.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "crunlite/spec.hpp"

namespace crunlite::spec {

struct NamespaceInfo {
    NamespaceKind kind;
    const char* spec_name;  // "type" in .linux.namespaces
    const char* proc_name;  // the file under /proc/<pid>/ns/
    int clone_flag;         // CLONE_NEW*
    // Joining goes from low to high rank. The user namespace comes first, since it owns the
    // others and grants the right to join them; the mount namespace comes last, since joining
    // it moves the root and the working directory away from the paths the others are opened
    // by. Joining the pid namespace affects only the children made afterwards.
    int join_rank;
};

// In the order of the NamespaceKind enumerators, so that a kind indexes its own row.
inline constexpr NamespaceInfo kNamespaceKinds[] = {
    {NamespaceKind::pid, "pid", "pid", CLONE_NEWPID, 1},
    {NamespaceKind::network, "network", "net", CLONE_NEWNET, 4},
    {NamespaceKind::mount, "mount", "mnt", CLONE_NEWNS, 7},
    {NamespaceKind::ipc, "ipc", "ipc", CLONE_NEWIPC, 2},
    {NamespaceKind::uts, "uts", "uts", CLONE_NEWUTS, 3},
    {NamespaceKind::user, "user", "user", CLONE_NEWUSER, 0},
    {NamespaceKind::cgroup, "cgroup", "cgroup", CLONE_NEWCGROUP, 5},
    {NamespaceKind::time, "time", "time", CLONE_NEWTIME, 6},
};
inline constexpr size_t kNamespaceKindCount = std::size(kNamespaceKinds);

constexpr bool rows_follow_the_enum() {
    for (size_t i = 0; i < kNamespaceKindCount; ++i)
        if (size_t(kNamespaceKinds[i].kind) != i) return false;
    return true;
}
static_assert(rows_follow_the_enum(), "kNamespaceKinds must list the kinds in NamespaceKind's order");

constexpr const NamespaceInfo& namespace_info(NamespaceKind kind) { return kNamespaceKinds[size_t(kind)]; }
constexpr int namespace_clone_flag(NamespaceKind kind) { return namespace_info(kind).clone_flag; }
constexpr const char* namespace_proc_name(NamespaceKind kind) { return namespace_info(kind).proc_name; }

// The kind whose config.json "type" is `spec_name`; none for an unknown name.
constexpr std::optional<NamespaceKind> namespace_kind_named(std::string_view spec_name) {
    for (const NamespaceInfo& info : kNamespaceKinds)
        if (spec_name == info.spec_name) return info.kind;
    return std::nullopt;
}

constexpr bool join_ranks_are_distinct() {
    bool taken[kNamespaceKindCount] = {};
    for (const NamespaceInfo& info : kNamespaceKinds) {
        if (info.join_rank < 0 || size_t(info.join_rank) >= kNamespaceKindCount || taken[info.join_rank]) return false;
        taken[info.join_rank] = true;
    }
    return true;
}
static_assert(join_ranks_are_distinct(), "each kind needs its own join_rank, 0 to kNamespaceKindCount - 1");

// Every kind, in the order `exec` joins them (see NamespaceInfo::join_rank).
constexpr std::array<NamespaceKind, kNamespaceKindCount> namespace_join_order() {
    std::array<NamespaceKind, kNamespaceKindCount> order{};
    for (const NamespaceInfo& info : kNamespaceKinds) order[size_t(info.join_rank)] = info.kind;
    return order;
}
static_assert(namespace_join_order().front() == NamespaceKind::user && namespace_join_order().back() == NamespaceKind::mount);

}  // namespace crunlite::spec
