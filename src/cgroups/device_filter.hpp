// Device control on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program built in code from the
// device rules (no compiler at run time), attached to the container's cgroup.
#pragma once
#include <linux/bpf.h>

#include <string>
#include <vector>

#include "crunlite/spec.hpp"

namespace crunlite::cgroups {

// The rules a container gets, in order: the config's, then the standard devices (runc's set),
// then an allow rule per linux.devices node. Later rules win, as with v1's devices.allow/deny.
std::vector<spec::DeviceRule> effective_device_rules(const spec::Spec& spec);

// The program: it checks the rules from last to first and answers with the first that
// matches (1 allow, 0 deny); no match denies.
std::vector<bpf_insn> device_filter_program(const std::vector<spec::DeviceRule>& rules);

// Loads the program and attaches it to the cgroup2 directory (BPF_F_ALLOW_MULTI).
void attach_device_filter(const std::string& cgroup_dir, const std::vector<bpf_insn>& program);

}  // namespace crunlite::cgroups
