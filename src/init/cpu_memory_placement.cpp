// Where the container's process runs and allocates: its CPU affinity and its NUMA memory
// policy, both set by the process on itself before exec (and inherited across it).
#include <sys/syscall.h>
#include <unistd.h>

#include "crunlite/error.hpp"
#include "init/init_steps.hpp"
#include "sys/cpu_affinity.hpp"

namespace crunlite::init {

void apply_cpu_affinity(const InitPlan& plan) {
    if (plan.cpu_affinity.empty()) return;
    if (sys::set_cpu_affinity(0, plan.cpu_affinity) == 0) return;
    const auto& affinity = plan.spec->process->exec_cpu_affinity;
    if (affinity && !affinity->final_cpus.empty())
        throw Error(JsonPath{".process.execCPUAffinity.final"}, "sched_setaffinity", errno,
                    "name CPUs of the container's cpuset (.linux.resources.cpu.cpus) that are online");
    throw Error("reset the CPU affinity to the container's cpuset", errno);
}

void apply_memory_policy(const InitPlan& plan) {
    if (!plan.memory_policy) return;
    const MemoryPolicyPlan& policy = *plan.memory_policy;
    const unsigned long* nodes = policy.nodes.empty() ? nullptr : policy.nodes.data();
    if (::syscall(SYS_set_mempolicy, policy.mode, nodes, nodes ? policy.max_node : 0) != 0) {
        // Newer modes are refused with EINVAL by older kernels: say so rather than blame the nodes.
        constexpr int kPreferredMany = 5, kWeightedInterleave = 6, kModeMask = 0xff;
        const char* hint = errno != EINVAL ? ""
                           : (policy.mode & kModeMask) == kWeightedInterleave ? "MPOL_WEIGHTED_INTERLEAVE needs Linux 6.9 or later"
                           : (policy.mode & kModeMask) == kPreferredMany      ? "MPOL_PREFERRED_MANY needs Linux 5.15 or later"
                           : "name memory nodes the container may use (/sys/devices/system/node/online, .linux.resources.cpu.mems)";
        throw Error(JsonPath{".linux.memoryPolicy"}, "set_mempolicy", errno, hint);
    }
}

}  // namespace crunlite::init
