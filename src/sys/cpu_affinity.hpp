// CPU affinity masks of any size (sched_setaffinity(2) takes as many bits as the kernel has
// CPUs; glibc's cpu_set_t stops at 1024) and memory node masks for set_mempolicy(2), both
// as arrays of unsigned long, bit N for CPU or node N.
#pragma once
#include <sys/types.h>

#include <vector>

namespace crunlite::sys {

using BitMask = std::vector<unsigned long>;

// The mask with exactly these bits set.
BitMask bit_mask(const std::vector<unsigned>& bits);

// Every CPU the kernel can have (8192 bits, runc's limit too): sched_setaffinity with it lets a
// process run wherever its cpuset allows, since the kernel intersects the two.
BitMask every_cpu();

// sched_setaffinity(pid, mask); -1 and errno on failure. Never allocates: safe after clone.
int set_cpu_affinity(pid_t pid, const BitMask& mask);

// The runtime's own affinity set to `mask` for the lifetime of this object (a child cloned
// meanwhile starts with it), then put back.
class ScopedCpuAffinity {
public:
    explicit ScopedCpuAffinity(const BitMask& mask, const char* json_path);
    ~ScopedCpuAffinity();
    ScopedCpuAffinity(const ScopedCpuAffinity&) = delete;
    ScopedCpuAffinity& operator=(const ScopedCpuAffinity&) = delete;

private:
    BitMask saved_;
};

}  // namespace crunlite::sys
