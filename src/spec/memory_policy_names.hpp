// The names of linux.memoryPolicy (runtime-spec 1.3) with set_mempolicy(2)'s numbers: read by
// the parser, listed by `crun-lite features`. <linux/mempolicy.h> of Debian 12 predates
// MPOL_WEIGHTED_INTERLEAVE (Linux 6.9), so the numbers are written here.
#pragma once
#include <utility>

namespace crunlite::spec {

inline constexpr std::pair<const char*, int> kMemoryPolicyModes[] = {
    {"MPOL_DEFAULT", 0}, {"MPOL_PREFERRED", 1},      {"MPOL_BIND", 2},
    {"MPOL_INTERLEAVE", 3}, {"MPOL_LOCAL", 4}, {"MPOL_PREFERRED_MANY", 5}, {"MPOL_WEIGHTED_INTERLEAVE", 6},
};
inline constexpr std::pair<const char*, unsigned> kMemoryPolicyFlags[] = {
    {"MPOL_F_NUMA_BALANCING", 1u << 13}, {"MPOL_F_RELATIVE_NODES", 1u << 14}, {"MPOL_F_STATIC_NODES", 1u << 15},
};

}  // namespace crunlite::spec
