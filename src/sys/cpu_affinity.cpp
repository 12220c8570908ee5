#include "sys/cpu_affinity.hpp"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

#include "crunlite/error.hpp"

namespace crunlite::sys {
namespace {

constexpr unsigned kBitsPerWord = sizeof(unsigned long) * CHAR_BIT;
constexpr unsigned kMaxCpus = 8192;

}  // namespace

BitMask bit_mask(const std::vector<unsigned>& bits) {
    BitMask mask;
    for (unsigned bit : bits) {
        if (mask.size() <= bit / kBitsPerWord) mask.resize(bit / kBitsPerWord + 1, 0);
        mask[bit / kBitsPerWord] |= 1UL << (bit % kBitsPerWord);
    }
    return mask;
}

BitMask every_cpu() { return BitMask(kMaxCpus / kBitsPerWord, ~0UL); }

int set_cpu_affinity(pid_t pid, const BitMask& mask) {
    // The raw system call: glibc's wrapper would do the same, but its cpu_set_t type caps the size.
    return int(::syscall(SYS_sched_setaffinity, pid, mask.size() * sizeof(unsigned long), mask.data()));
}

ScopedCpuAffinity::ScopedCpuAffinity(const BitMask& mask, const char* json_path) : saved_(kMaxCpus / kBitsPerWord, 0) {
    if (::syscall(SYS_sched_getaffinity, 0, saved_.size() * sizeof(unsigned long), saved_.data()) < 0)
        throw Error("sched_getaffinity", errno);
    if (set_cpu_affinity(0, mask) != 0)
        throw Error(JsonPath{json_path}, "sched_setaffinity", errno,
                    errno == EINVAL ? "name CPUs that are online and that the runtime may use (taskset, its cpuset)" : "");
}

ScopedCpuAffinity::~ScopedCpuAffinity() { set_cpu_affinity(0, saved_); }

}  // namespace crunlite::sys
