#include "cgroups/resource_writes.hpp"

#include <cmath>

#include "crunlite/error.hpp"

namespace crunlite::cgroups {
namespace {

std::string limit_value(int64_t v) { return v == -1 ? "max" : std::to_string(v); }
std::string v1_limit_value(int64_t v) { return std::to_string(v); }  // v1 takes -1 for "unlimited"

std::string device(const spec::BlockIoDevice& d) { return std::to_string(d.major) + ":" + std::to_string(d.minor); }

FileWrite unsupported(const std::string& path, const std::string& why) { return {"", "", path, why}; }

void memory_writes(const spec::Memory& m, const std::string& p, ControllerWrites& w) {
    if (m.limit) {
        w.v1.push_back({"memory.limit_in_bytes", v1_limit_value(*m.limit), p + ".limit"});
        w.v2.push_back({"memory.max", limit_value(*m.limit), p + ".limit"});
    }
    if (m.reservation) {
        w.v1.push_back({"memory.soft_limit_in_bytes", v1_limit_value(*m.reservation), p + ".reservation"});
        w.v2.push_back({"memory.low", limit_value(*m.reservation), p + ".reservation"});
    }
    if (m.swap) {
        w.v1.push_back({"memory.memsw.limit_in_bytes", v1_limit_value(*m.swap), p + ".swap"});
        // The spec's swap is memory+swap; v2's memory.swap.max is the swap part alone.
        if (*m.swap == -1) w.v2.push_back({"memory.swap.max", "max", p + ".swap"});
        else if (!m.limit || *m.limit == -1) w.v2.push_back(unsupported(p + ".swap", "needs .limit set on cgroup v2"));
        else if (*m.swap < *m.limit) w.v2.push_back(unsupported(p + ".swap", "must be at least .limit (it counts memory plus swap)"));
        else w.v2.push_back({"memory.swap.max", std::to_string(*m.swap - *m.limit), p + ".swap"});
    }
    if (m.kernel) {
        w.v1.push_back({"memory.kmem.limit_in_bytes", v1_limit_value(*m.kernel), p + ".kernel"});
        w.v2.push_back(unsupported(p + ".kernel", "kernel memory limits do not exist on cgroup v2"));
    }
    if (m.kernel_tcp) {
        w.v1.push_back({"memory.kmem.tcp.limit_in_bytes", v1_limit_value(*m.kernel_tcp), p + ".kernelTCP"});
        w.v2.push_back(unsupported(p + ".kernelTCP", "kernel TCP memory limits do not exist on cgroup v2"));
    }
    if (m.swappiness) {
        w.v1.push_back({"memory.swappiness", std::to_string(*m.swappiness), p + ".swappiness"});
        w.v2.push_back(unsupported(p + ".swappiness", "swappiness does not exist on cgroup v2"));
    }
    if (m.disable_oom_killer) {
        w.v1.push_back({"memory.oom_control", "1", p + ".disableOOMKiller"});
        w.v2.push_back(unsupported(p + ".disableOOMKiller", "the OOM killer cannot be disabled on cgroup v2"));
    }
    if (m.use_hierarchy) w.v1.push_back({"memory.use_hierarchy", *m.use_hierarchy ? "1" : "0", p + ".useHierarchy"});
}

void cpu_writes(const spec::Cpu& c, const std::string& p, ControllerWrites& cpu, ControllerWrites& cpuset) {
    if (c.shares) {
        cpu.v1.push_back({"cpu.shares", std::to_string(*c.shares), p + ".shares"});
        cpu.v2.push_back({"cpu.weight", std::to_string(cpu_shares_to_weight(*c.shares)), p + ".shares"});
    }
    if (c.period) cpu.v1.push_back({"cpu.cfs_period_us", std::to_string(*c.period), p + ".period"});
    if (c.quota) cpu.v1.push_back({"cpu.cfs_quota_us", std::to_string(*c.quota), p + ".quota"});
    if (c.quota || c.period) {
        std::string quota = c.quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
        cpu.v2.push_back({"cpu.max", quota + " " + std::to_string(c.period.value_or(100000)), c.quota ? p + ".quota" : p + ".period"});
    }
    if (c.burst) {
        cpu.v1.push_back({"cpu.cfs_burst_us", std::to_string(*c.burst), p + ".burst"});
        cpu.v2.push_back({"cpu.max.burst", std::to_string(*c.burst), p + ".burst"});
    }
    if (c.realtime_period) {
        cpu.v1.push_back({"cpu.rt_period_us", std::to_string(*c.realtime_period), p + ".realtimePeriod"});
        cpu.v2.push_back(unsupported(p + ".realtimePeriod", "real-time scheduling limits do not exist on cgroup v2"));
    }
    if (c.realtime_runtime) {
        cpu.v1.push_back({"cpu.rt_runtime_us", std::to_string(*c.realtime_runtime), p + ".realtimeRuntime"});
        cpu.v2.push_back(unsupported(p + ".realtimeRuntime", "real-time scheduling limits do not exist on cgroup v2"));
    }
    if (c.idle) {
        cpu.v1.push_back({"cpu.idle", std::to_string(*c.idle), p + ".idle"});
        cpu.v2.push_back({"cpu.idle", std::to_string(*c.idle), p + ".idle"});
    }
    if (!c.cpus.empty()) {
        cpuset.v1.push_back({"cpuset.cpus", c.cpus, p + ".cpus"});
        cpuset.v2.push_back({"cpuset.cpus", c.cpus, p + ".cpus"});
    }
    if (!c.mems.empty()) {
        cpuset.v1.push_back({"cpuset.mems", c.mems, p + ".mems"});
        cpuset.v2.push_back({"cpuset.mems", c.mems, p + ".mems"});
    }
}

void block_io_writes(const spec::BlockIo& b, const std::string& p, ControllerWrites& w) {
    if (b.weight) {
        w.v1.push_back({"blkio.weight", std::to_string(*b.weight), p + ".weight"});
        w.v2.push_back({"io.weight", "default " + std::to_string(blkio_weight_to_io_weight(*b.weight)), p + ".weight"});
    }
    if (b.leaf_weight) {
        w.v1.push_back({"blkio.leaf_weight", std::to_string(*b.leaf_weight), p + ".leafWeight"});
        w.v2.push_back(unsupported(p + ".leafWeight", "leaf weights do not exist on cgroup v2"));
    }
    for (size_t i = 0; i < b.weight_device.size(); ++i) {
        const auto& d = b.weight_device[i];
        std::string path = p + ".weightDevice[" + std::to_string(i) + "]";
        if (d.weight) {
            w.v1.push_back({"blkio.weight_device", device(d) + " " + std::to_string(*d.weight), path + ".weight"});
            w.v2.push_back({"io.weight", device(d) + " " + std::to_string(blkio_weight_to_io_weight(*d.weight)), path + ".weight"});
        }
        if (d.leaf_weight) {
            w.v1.push_back({"blkio.leaf_weight_device", device(d) + " " + std::to_string(*d.leaf_weight), path + ".leafWeight"});
            w.v2.push_back(unsupported(path + ".leafWeight", "leaf weights do not exist on cgroup v2"));
        }
    }
    struct Throttle {
        const std::vector<spec::BlockIoDevice>* list;
        const char* field;
        const char* v1_file;
        const char* v2_key;
    } throttles[] = {
        {&b.throttle_read_bps, "throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps"},
        {&b.throttle_write_bps, "throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps"},
        {&b.throttle_read_iops, "throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops"},
        {&b.throttle_write_iops, "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops"},
    };
    for (auto& t : throttles) {
        for (size_t i = 0; i < t.list->size(); ++i) {
            const auto& d = (*t.list)[i];
            std::string path = p + "." + t.field + "[" + std::to_string(i) + "]";
            w.v1.push_back({t.v1_file, device(d) + " " + std::to_string(d.rate), path});
            w.v2.push_back({"io.max", device(d) + " " + t.v2_key + "=" + (d.rate ? std::to_string(d.rate) : "max"), path});
        }
    }
}

}  // namespace

uint64_t cpu_shares_to_weight(uint64_t shares) {
    // A quadratic in l = log2(shares) through v1's and v2's minimum, default and maximum (the
    // curve runc >= 1.3.2 and crun >= 1.23 use): the exponent of 10 is 0, 2 and 4 at l = 1, 10
    // and 18. Computed in doubles and rounded up as they do; the one input whose exact result is
    // a whole number is 1024, whose doubles are exact (log2 gives 10, the exponent 2.0, 10^2 100),
    // and no other input comes within 1e-11 of a whole number, so an ulp here or there cannot
    // change a result.
    if (shares <= 2) return 1;
    if (shares >= 262144) return 10000;
    double l = std::log2(double(shares));
    double exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
    return uint64_t(std::ceil(std::pow(10.0, exponent)));
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
    if (weight < 10) weight = 10;
    if (weight > 1000) weight = 1000;
    return 1 + ((weight - 10) * 9999) / 990;
}

std::vector<ControllerWrites> resource_writes(const spec::Resources& r, const std::string& p) {
    std::vector<ControllerWrites> out;
    ControllerWrites memory{"memory"}, cpu{"cpu"}, cpuset{"cpuset"}, pids{"pids"}, io{"blkio"}, hugetlb{"hugetlb"},
        net_cls{"net_cls"}, net_prio{"net_prio"}, rdma{"rdma"};
    if (r.memory) memory_writes(*r.memory, p + ".memory", memory);
    if (r.cpu) cpu_writes(*r.cpu, p + ".cpu", cpu, cpuset);
    if (r.pids_limit) {  // 0 included: a real limit since runtime-spec 1.3 (runc >= 1.4 writes it too)
        std::string value = *r.pids_limit < 0 ? "max" : std::to_string(*r.pids_limit);
        pids.v1.push_back({"pids.max", value, p + ".pids.limit"});
        pids.v2.push_back({"pids.max", value, p + ".pids.limit"});
    }
    if (r.block_io) block_io_writes(*r.block_io, p + ".blockIO", io);
    for (size_t i = 0; i < r.hugepage_limits.size(); ++i) {
        const auto& h = r.hugepage_limits[i];
        std::string path = p + ".hugepageLimits[" + std::to_string(i) + "]";
        std::string prefix = "hugetlb." + h.page_size, limit = std::to_string(h.limit);
        // The reservation limit too, where the kernel has one: it binds at mmap/shmget time,
        // where the fault limit can only SIGBUS a process that touches a page it mapped.
        hugetlb.v1.push_back({prefix + ".limit_in_bytes", limit, path});
        hugetlb.v1.push_back({prefix + ".rsvd.limit_in_bytes", limit, path, "", true});
        hugetlb.v2.push_back({prefix + ".max", limit, path});
        hugetlb.v2.push_back({prefix + ".rsvd.max", limit, path, "", true});
    }
    if (r.net_class_id) {
        net_cls.v1.push_back({"net_cls.classid", std::to_string(*r.net_class_id), p + ".network.classID"});
        net_cls.v2.push_back(unsupported(p + ".network.classID", "net_cls does not exist on cgroup v2"));
    }
    for (size_t i = 0; i < r.net_priorities.size(); ++i) {
        std::string path = p + ".network.priorities[" + std::to_string(i) + "]";
        net_prio.v1.push_back({"net_prio.ifpriomap", r.net_priorities[i].name + " " + std::to_string(r.net_priorities[i].priority), path});
        net_prio.v2.push_back(unsupported(path, "net_prio does not exist on cgroup v2"));
    }
    for (auto& [dev, limit] : r.rdma) {
        std::string value = dev;
        if (limit.hca_handles) value += " hca_handle=" + std::to_string(*limit.hca_handles);
        if (limit.hca_objects) value += " hca_object=" + std::to_string(*limit.hca_objects);
        rdma.v1.push_back({"rdma.max", value, p + ".rdma." + dev});
        rdma.v2.push_back({"rdma.max", value, p + ".rdma." + dev});
    }
    io.controller = "blkio";
    for (auto* w : {&memory, &cpu, &cpuset, &pids, &io, &hugetlb, &net_cls, &net_prio, &rdma})
        if (!w->v1.empty() || !w->v2.empty()) out.push_back(*w);
    for (auto& [key, value] : r.unified) {
        ControllerWrites raw{key.substr(0, key.find('.'))};
        raw.v1.push_back(unsupported(p + ".unified." + key, "unified settings need cgroup v2"));
        raw.v2.push_back({key, value, p + ".unified." + key});
        out.push_back(raw);
    }
    return out;
}

}  // namespace crunlite::cgroups
