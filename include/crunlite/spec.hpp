// The runtime-spec (1.0.0 - 1.3.x) Linux config.json as typed structs.
// Parsing validates as it goes: every error names the JSON path of the offending field.
#pragma once
#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace crunlite {
class SpecError;
}

namespace crunlite::spec {

struct IdMapping {
    uint32_t container_id = 0;
    uint32_t host_id = 0;
    uint32_t size = 0;
};

struct User {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::optional<uint32_t> umask;
    std::vector<uint32_t> additional_gids;
};

// Capability numbers (CAP_*), already checked against what this kernel and libcap know.
struct Capabilities {
    std::vector<int> bounding, effective, inheritable, permitted, ambient;
};

struct Rlimit {
    int resource = 0;  // RLIMIT_*
    std::string name;
    uint64_t soft = 0;
    uint64_t hard = 0;
};

struct ConsoleSize {
    unsigned height = 0;
    unsigned width = 0;
};

struct IoPriority {
    int io_class = 0;  // IOPRIO_CLASS_RT = 1, BE = 2, IDLE = 3
    int priority = 0;  // 0..7
};

struct Scheduler {
    int policy = 0;  // SCHED_*
    int nice = 0;
    uint32_t priority = 0;
    uint64_t flags = 0;  // SCHED_FLAG_*
    uint64_t runtime = 0, deadline = 0, period = 0;
};

// process.execCPUAffinity (runtime-spec 1.2.1), for processes started by `exec` only: the spec
// says it does not apply to the container's init. CPU numbers, sorted; an empty list is "not set".
struct ExecCpuAffinity {
    std::vector<unsigned> initial;      // the CPUs the process sets itself up on, before it joins the cgroups
    std::vector<unsigned> final_cpus;   // `final`: the CPUs it runs on once it is in them
};

struct Process {
    bool terminal = false;
    std::optional<ConsoleSize> console_size;
    User user;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string cwd = "/";
    std::optional<Capabilities> capabilities;
    std::vector<Rlimit> rlimits;
    bool no_new_privileges = false;
    std::optional<int> oom_score_adj;
    std::string apparmor_profile;
    std::string selinux_label;
    std::optional<IoPriority> io_priority;
    std::optional<Scheduler> scheduler;
    std::optional<ExecCpuAffinity> exec_cpu_affinity;
};

struct Root {
    std::string path;  // as written in config.json; made absolute against the bundle by load_bundle
    bool readonly = false;
};

struct Mount {
    std::string destination;
    std::string type;
    std::string source;
    std::vector<std::string> options;
    std::vector<IdMapping> uid_mappings, gid_mappings;
};

struct Hook {
    std::string path;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::optional<int> timeout;
};

struct Hooks {
    std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart, poststop;
    bool empty() const {
        return prestart.empty() && create_runtime.empty() && create_container.empty() &&
               start_container.empty() && poststart.empty() && poststop.empty();
    }
};

enum class NamespaceKind { pid, network, mount, ipc, uts, user, cgroup, time };
const char* namespace_name(NamespaceKind kind);

struct Namespace {
    NamespaceKind kind;
    std::string path;  // empty: create a new one; otherwise join this one
};

struct Device {
    std::string path;
    char type = 'c';  // c, b, u, p
    int64_t major = 0;
    int64_t minor = 0;
    std::optional<uint32_t> file_mode;
    std::optional<uint32_t> uid;
    std::optional<uint32_t> gid;
};

struct DeviceRule {
    bool allow = false;
    char type = 'a';              // a, c, b
    std::optional<int64_t> major;  // absent: any (*)
    std::optional<int64_t> minor;
    std::string access = "rwm";
};

struct TimeOffset {
    int64_t secs = 0;
    uint32_t nanosecs = 0;
};

// Resource limits. An absent value is "not set"; so is a zero where docker sends zeros for
// "unset" (cpu shares, quota, period, blkio weight, memory values): see parse_resources.
struct Memory {
    std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
    std::optional<uint64_t> swappiness;
    bool disable_oom_killer = false;
    std::optional<bool> use_hierarchy;
    bool check_before_update = false;
};

struct Cpu {
    std::optional<uint64_t> shares;
    std::optional<int64_t> quota;
    std::optional<uint64_t> burst, period;
    std::optional<int64_t> realtime_runtime;
    std::optional<uint64_t> realtime_period;
    std::string cpus, mems;
    std::optional<int64_t> idle;
};

struct BlockIoDevice {
    int64_t major = 0, minor = 0;
    std::optional<uint16_t> weight, leaf_weight;  // weightDevice
    uint64_t rate = 0;                            // throttle*Device
};

struct BlockIo {
    std::optional<uint16_t> weight, leaf_weight;
    std::vector<BlockIoDevice> weight_device, throttle_read_bps, throttle_write_bps, throttle_read_iops, throttle_write_iops;
};

struct HugepageLimit {
    std::string page_size;  // "2MB", "1GB"
    uint64_t limit = 0;
};

struct NetworkPriority {
    std::string name;
    uint32_t priority = 0;
};

struct RdmaLimit {
    std::optional<uint32_t> hca_handles, hca_objects;
};

struct Resources {
    std::vector<DeviceRule> devices;
    std::optional<Memory> memory;
    std::optional<Cpu> cpu;
    std::optional<int64_t> pids_limit;
    std::optional<BlockIo> block_io;
    std::vector<HugepageLimit> hugepage_limits;
    std::optional<uint32_t> net_class_id;
    std::vector<NetworkPriority> net_priorities;
    std::map<std::string, RdmaLimit> rdma;
    std::map<std::string, std::string> unified;
};

// Parses a LinuxResources object (also what `update --resources` reads); `path` prefixes errors.
Resources parse_resources(const nlohmann::json& resources, const std::string& path);

struct SeccompArg {
    unsigned index = 0;
    uint64_t value = 0;
    uint64_t value_two = 0;
    std::string op;  // SCMP_CMP_*
};

struct SeccompRule {
    std::vector<std::string> names;
    std::string action;  // SCMP_ACT_*
    std::optional<uint32_t> errno_ret;
    std::vector<SeccompArg> args;
};

struct Seccomp {
    std::string default_action;
    std::optional<uint32_t> default_errno_ret;
    std::vector<std::string> architectures;  // SCMP_ARCH_*
    std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
    std::string listener_path;
    std::string listener_metadata;
    std::vector<SeccompRule> syscalls;
};

// linux.memoryPolicy (runtime-spec 1.3): set_mempolicy(2) for the container's processes.
struct MemoryPolicy {
    int mode = 0;                 // MPOL_*
    unsigned flags = 0;           // MPOL_F_* (mode flags, or'ed into the mode for set_mempolicy)
    std::vector<unsigned> nodes;  // memory node numbers, sorted; may be empty
};

// One entry of linux.netDevices (runtime-spec 1.3): the host interface named by the key moves
// into the container's network namespace, renamed to `name` when that is set.
struct NetDevice {
    std::string name;  // in the container; empty: the host name
};

// linux.intelRdt: the container's resctrl group (a CLOS) and what its schemata must say.
struct IntelRdt {
    std::string clos_id;  // "": a group named after the container; "/": the default CLOS (the resctrl root)
    std::string l3_cache_schema;  // "": not set
    std::string mem_bw_schema;    // "": not set
    std::vector<std::string> schemata;  // spec 1.3: whole lines, written after the two above
    bool enable_monitoring = false;     // spec 1.3: a monitoring group mon_groups/<container id>
};

struct Linux {
    std::vector<Namespace> namespaces;
    std::vector<IdMapping> uid_mappings, gid_mappings;
    std::map<std::string, TimeOffset> time_offsets;  // "monotonic" / "boottime"
    std::vector<Device> devices;
    std::string cgroups_path;
    std::optional<Resources> resources;
    std::map<std::string, std::string> sysctl;
    std::string rootfs_propagation;
    std::vector<std::string> masked_paths;
    std::vector<std::string> readonly_paths;
    std::string mount_label;
    std::optional<Seccomp> seccomp;
    std::optional<unsigned long> personality;  // PER_LINUX or PER_LINUX32
    std::optional<MemoryPolicy> memory_policy;
    std::map<std::string, NetDevice> net_devices;  // by host interface name
    std::optional<IntelRdt> intel_rdt;

    const Namespace* find_namespace(NamespaceKind kind) const;
};

// A config entry the runtime goes on without, where the runtime-spec says it SHOULD NOT fail
// (an unknown capability) or runc ignores it (linux.personality.flags): `create` and `exec` log
// each as a warning, `check` reports each as one. `path` is the JSON path of the entry.
struct SpecWarning {
    std::string path;
    std::string message;
    std::string hint;  // for check: how to silence it
};

struct Spec {
    std::string oci_version;
    std::optional<Process> process;
    Root root;
    std::vector<Mount> mounts;
    std::string hostname;
    std::string domainname;
    Hooks hooks;
    std::map<std::string, std::string> annotations;
    Linux linux;
    std::vector<SpecWarning> warnings;  // in the order found
};

// Parses and validates; throws SpecError naming the JSON path on the first problem.
Spec parse_spec(const nlohmann::json& config);

// For `crun-lite check`: the same parse, but every independent part of the config (a section,
// a field, an item of a list) reports its first problem into `errors` and the parse goes on.
// The Spec returned holds what could be read; a part with an error keeps its defaults.
Spec parse_spec_collecting(const nlohmann::json& config, std::vector<SpecError>& errors);

// Reads <bundle>/config.json as JSON (bounded in size and depth); throws Error when it is
// missing or not JSON.
nlohmann::json read_config(const std::string& bundle_dir);

// Parses the bytes of a config.json (nested at most 64 levels) and validates them: what
// load_bundle does once the file is open. Throws Error("config.json: ...") on any problem.
Spec parse_config(std::istream& in);

// Reads <bundle>/config.json, parses it and resolves root.path against the bundle.
Spec load_bundle(const std::string& bundle_dir);

// root.path made absolute against the bundle and cleaned lexically ("." and ".." components,
// repeated and trailing slashes gone), as runc's filepath.Join does: "." is the bundle itself.
// Init finds the mount holding the root by this path, so "/b/." and "/b" must be one path.
std::string absolute_root_path(const std::string& bundle_dir, const std::string& path);

// The config.json that `crun-lite spec` writes.
nlohmann::json default_spec(bool rootless);

// Parses a process object alone (the --process file of `exec`); `path` prefixes errors.
// What it goes on without is added to `warnings` when given.
Process parse_process(const nlohmann::json& process, const std::string& path, std::vector<SpecWarning>* warnings = nullptr);

// Reads, bounds and parses the --process FILE of `exec` as config.json's .process is; errors
// say "--process FILE: .field: ...", and what it goes on without is added to `warnings`.
Process load_process_file(const std::string& path, std::vector<SpecWarning>& warnings);

}  // namespace crunlite::spec
