#include "cgroups/device_filter.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "crunlite/error.hpp"
#include "crunlite/unique_fd.hpp"

namespace crunlite::cgroups {
namespace {

// Registers as the kernel's bpf_cgroup_dev_ctx lays them out: access_type (access << 16 | type) at 0,
// major at 4, minor at 8; r1 holds the context on entry.
enum Reg : uint8_t { R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5 };

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}
bpf_insn load_u32(uint8_t dst, int16_t off) { return insn(BPF_LDX | BPF_MEM | BPF_W, dst, R1, off, 0); }
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) { return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm); }
bpf_insn mov32_reg(uint8_t dst, uint8_t src) { return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn jne_imm(uint8_t dst, int32_t imm) { return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, imm); }
bpf_insn jne_reg(uint8_t dst, uint8_t src) { return insn(BPF_JMP | BPF_JNE | BPF_X, dst, src, 0, 0); }
bpf_insn mov64_imm(uint8_t dst, int32_t imm) { return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

int32_t access_bits(const std::string& access) {
    int32_t bits = 0;
    for (char c : access) bits |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : c == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
    return bits;
}

spec::DeviceRule allow(char type, int64_t major, int64_t minor) {
    spec::DeviceRule r;
    r.allow = true;
    r.type = type;
    if (major >= 0) r.major = major;
    if (minor >= 0) r.minor = minor;
    r.access = "rwm";
    return r;
}

}  // namespace

std::vector<spec::DeviceRule> effective_device_rules(const spec::Spec& spec) {
    std::vector<spec::DeviceRule> rules;
    if (spec.linux.resources) rules = spec.linux.resources->devices;
    auto mknod_any = [](char type) {
        spec::DeviceRule r = allow(type, -1, -1);
        r.access = "m";
        return r;
    };
    rules.push_back(mknod_any('c'));
    rules.push_back(mknod_any('b'));
    for (auto [major, minor] : {std::pair{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 2}, {136, -1}, {10, 200}})
        rules.push_back(allow('c', major, minor));
    for (auto& d : spec.linux.devices)
        if (d.type == 'c' || d.type == 'b' || d.type == 'u') rules.push_back(allow(d.type == 'b' ? 'b' : 'c', d.major, d.minor));
    return rules;
}

std::vector<bpf_insn> device_filter_program(const std::vector<spec::DeviceRule>& rules) {
    std::vector<bpf_insn> program = {
        load_u32(R2, 0), alu32_imm(BPF_AND, R2, 0xffff),  // r2 = device type
        load_u32(R3, 0), alu32_imm(BPF_RSH, R3, 16),      // r3 = requested access
        load_u32(R4, 4),                                  // r4 = major
        load_u32(R5, 8),                                  // r5 = minor
    };
    for (auto rule = rules.rbegin(); rule != rules.rend(); ++rule) {
        std::vector<bpf_insn> block;
        if (rule->type != 'a') block.push_back(jne_imm(R2, rule->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
        int32_t bits = access_bits(rule->access);
        if (bits != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
            // Matches only when every requested access is one the rule names.
            block.push_back(mov32_reg(R1, R3));
            block.push_back(alu32_imm(BPF_AND, R1, bits));
            block.push_back(jne_reg(R1, R3));
        }
        if (rule->type != 'a' && rule->major && *rule->major >= 0) block.push_back(jne_imm(R4, int32_t(*rule->major)));
        if (rule->type != 'a' && rule->minor && *rule->minor >= 0) block.push_back(jne_imm(R5, int32_t(*rule->minor)));
        block.push_back(mov64_imm(R0, rule->allow ? 1 : 0));
        block.push_back(exit_insn());
        // Every conditional jump skips to the end of this rule's block.
        for (size_t i = 0; i < block.size(); ++i)
            if (BPF_CLASS(block[i].code) == BPF_JMP && BPF_OP(block[i].code) == BPF_JNE)
                block[i].off = int16_t(block.size() - (i + 1));
        program.insert(program.end(), block.begin(), block.end());
        // A rule without conditions decides everything: what would follow is unreachable, and
        // the verifier refuses unreachable instructions.
        if (block.size() == 2) return program;
    }
    program.push_back(mov64_imm(R0, 0));
    program.push_back(exit_insn());
    return program;
}

void attach_device_filter(const std::string& cgroup_dir, const std::vector<bpf_insn>& program) {
    static char license[] = "Apache-2.0";
    bpf_attr load{};
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insns = reinterpret_cast<uint64_t>(program.data());
    load.insn_cnt = uint32_t(program.size());
    load.license = reinterpret_cast<uint64_t>(license);
    // Without a log first: a kernel before 6.4 fails the whole load (ENOSPC) when the
    // verifier's log outgrows its buffer, which a few dozen rules do. The log is asked for
    // only to say why a load failed.
    UniqueFd prog(int(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load)));
    if (!prog) {
        int err = errno;
        std::vector<char> log(1 << 20);
        load.log_buf = reinterpret_cast<uint64_t>(log.data());
        load.log_size = uint32_t(log.size());
        load.log_level = 1;
        UniqueFd again(int(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load)));
        std::string detail = again ? "" : std::string(log.data());
        // The verifier's verdict is its last line.
        while (!detail.empty() && detail.back() == '\n') detail.pop_back();
        if (auto nl = detail.rfind('\n'); nl != std::string::npos) detail = detail.substr(nl + 1);
        throw Error(".linux.resources.devices: load the device filter" + (detail.empty() ? "" : " (" + detail.substr(0, 200) + ")"), err);
    }
    UniqueFd cgroup(::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cgroup) throw Error("open cgroup " + cgroup_dir, errno);
    bpf_attr attach{};
    attach.target_fd = uint32_t(cgroup.get());
    attach.attach_bpf_fd = uint32_t(prog.get());
    attach.attach_type = BPF_CGROUP_DEVICE;
    attach.attach_flags = BPF_F_ALLOW_MULTI;
    if (::syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) != 0)
        throw Error(".linux.resources.devices: attach the device filter to " + cgroup_dir, errno);
}

}  // namespace crunlite::cgroups
