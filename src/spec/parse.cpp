// config.json -> typed Spec, validating every field against the runtime-spec as it is read.
#include <sys/capability.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "crunlite/log.hpp"
#include "crunlite/spec.hpp"
#include "crunlite/spec_version.hpp"
#include "spec/hints.hpp"
#include "spec/intel_rdt_field.hpp"
#include "spec/json_field.hpp"
#include "spec/memory_policy_names.hpp"
#include "spec/namespace_kinds.hpp"
#include "spec/validate.hpp"
#include "util/text.hpp"

namespace crunlite::spec {
namespace {

constexpr std::pair<const char*, int> kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},   {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

bool is_absolute(const std::string& path) { return !path.empty() && path[0] == '/'; }

// A list of CPUs or memory nodes as the kernel writes them ("0-3,7"): numbers and low-high
// ranges separated by commas, each number below `limit`. Returns the numbers, sorted, once
// each; "" is the empty list.
std::vector<unsigned> parse_number_list(const JsonField& field, unsigned limit, const char* what) {
    std::string text = field.string();
    std::vector<unsigned> numbers;
    std::string problem = text::parse_number_list(text, limit, numbers);
    if (!problem.empty())
        field.fail(json_quoted(text) + " is not a list of " + what + " such as \"0-3,7\": " + problem,
                   "write numbers and low-high ranges separated by commas, without spaces");
    return numbers;
}

// What the kernel takes as an interface name (dev_valid_name): 1 to 15 bytes, not "." or "..",
// no '/', ':' or white space. '%' would make it a pattern the kernel fills in ("eth%d"), and the
// runtime must know the name it gets.
void check_interface_name(const JsonField& field, const std::string& name, const std::string& what) {
    std::string problem;
    if (name.empty()) problem = "is empty";
    else if (name.size() > 15) problem = "is longer than 15 bytes (IFNAMSIZ)";
    else if (name == "." || name == "..") problem = "is \".\" or \"..\"";
    else if (name.find_first_of("/:% \t\n\v\f\r") != std::string::npos) problem = "has '/', ':', '%' or white space";
    if (!problem.empty())
        field.fail(what + " " + json_quoted(name) + " " + problem + ", which no network interface name may be",
                   "name the interface as `ip link` shows it: at most 15 bytes, without '/', ':', '%' or spaces");
}


// MAJOR.MINOR[.PATCH] in decimal, then nothing or a pre-release/build suffix ("1.0.2-dev",
// "1.1.0-rc.1", "1.2.0+build"); false for anything else.
bool parse_version(const std::string& version, unsigned& major, unsigned& minor) {
    size_t at = 0;
    auto number = [&](unsigned& out) {
        size_t start = at;
        out = 0;
        while (at < version.size() && at - start < 9 && version[at] >= '0' && version[at] <= '9') out = out * 10 + unsigned(version[at++] - '0');
        return at > start && (at == version.size() || version[at] < '0' || version[at] > '9');
    };
    unsigned patch = 0;
    if (!number(major) || at >= version.size() || version[at++] != '.' || !number(minor)) return false;
    if (at < version.size() && version[at] == '.' && (++at, !number(patch))) return false;
    if (at == version.size()) return true;
    return (version[at] == '-' || version[at] == '+') && at + 1 < version.size();
}

// Any 1.x, as runc (which checks none): a minor release only adds optional fields, so a newer
// declaration alone is no reason to refuse a config (its new fields are unknown keys, left alone
// as any is, with a debug line). 0.x (pre-1.0 drafts), 2.x and what is not a version stay errors.
void check_version(const JsonField& field) {
    std::string version = field.string();
    unsigned major = 0, minor = 0;
    if (!parse_version(version, major, minor) || major != version_number(kSpecVersion, 0))
        field.fail("unsupported version \"" + version + "\" (this runtime supports " + accepted_spec_versions() + ")",
                   "set ociVersion to a version " + accepted_spec_versions() + ", e.g. \"" + kSpecVersion + "\"");
    if (minor > version_number(kSpecVersion, 1))
        log::debug(field.path() + ": \"" + version + "\" is newer than the runtime-spec " + kSpecVersion +
                   " crun-lite implements; its newer fields are not acted on");
}

std::vector<IdMapping> parse_mappings(const JsonField& field) {
    std::vector<IdMapping> out;
    field.each([&](const JsonField& item) {
        IdMapping m;
        m.container_id = item.required("containerID").uint32();
        m.host_id = item.required("hostID").uint32();
        m.size = item.required("size").uint32();
        if (m.size == 0) item.required("size").fail("must be greater than 0");
        out.push_back(m);
    });
    return out;
}

// CAP_ and then upper-case letters, digits and underscores: the form every capability name has.
bool well_formed_capability(const std::string& name) {
    return name.size() > 4 && name.rfind("CAP_", 0) == 0 &&
           std::all_of(name.begin() + 4, name.end(), [](char ch) { return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'; });
}

// The runtime-spec: a capability the runtime does not know or the kernel lacks SHOULD NOT fail
// the container; it is logged and left out, as runc does. A name of the wrong form is still an
// error: it is a typo, never a capability of a newer kernel.
std::vector<int> parse_capability_list(const JsonField& field, const Collector& c) {
    std::vector<int> out;
    c.each(field, [&](const JsonField& item) {
        std::string name = item.string();
        if (!well_formed_capability(name))
            item.fail("malformed capability name \"" + name + "\" (expected CAP_ and upper-case letters, digits or _)", hints::kCapabilityNames);
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        cap_value_t value;
        if (cap_from_name(lower.c_str(), &value) != 0) {
            c.warn(item.path(), "unknown capability \"" + name + "\", ignored", hints::kCapabilityNames);
            return;
        }
        if (value > cap_max_bits() - 1) {
            c.warn(item.path(), "capability \"" + name + "\" is not supported by this kernel, ignored", hints::kCapabilityNames);
            return;
        }
        out.push_back(value);
    });
    return out;
}

User parse_user(const JsonField& field) {
    User user;
    // (uid_t)-1 would tell setresuid "leave unchanged": the process would stay root.
    auto id_field = [](const JsonField& f) {
        uint32_t v = f.uint32();
        if (v > 0x7fffffffu) f.fail("must be at most 2147483647");
        return v;
    };
    user.uid = id_field(field.required("uid"));
    user.gid = id_field(field.required("gid"));
    if (auto f = field.member("umask")) {
        user.umask = f->uint32();
        if (*user.umask > 0777) f->fail("must be at most 0777");
    }
    if (auto f = field.member("additionalGids")) f->each([&](const JsonField& g) { user.additional_gids.push_back(id_field(g)); });
    if (auto f = field.member("username"); f && !f->string().empty()) f->fail("is for Windows and not supported on Linux");
    return user;
}

Mount parse_mount(const JsonField& field, const Collector& c) {
    Mount m;
    auto destination = field.required("destination");
    m.destination = destination.string();
    if (m.destination.empty()) destination.fail("must be an absolute path", hints::kAbsolutePath);
    // The runtime-spec allows a relative destination (deprecated) and runc takes it as relative
    // to the container's /; so is it here, with a warning.
    if (!is_absolute(m.destination)) {
        c.warn(destination.path(), "relative path \"" + m.destination + "\" is deprecated; resolved against / as \"/" + m.destination + "\"",
               hints::kAbsolutePath);
        m.destination = "/" + m.destination;
    }
    if (auto f = field.member("type")) m.type = f->string();
    if (auto f = field.member("source")) m.source = f->string();
    if (auto f = field.member("options")) m.options = f->strings();
    if (auto f = field.member("uidMappings")) m.uid_mappings = parse_mappings(*f);
    if (auto f = field.member("gidMappings")) m.gid_mappings = parse_mappings(*f);
    return m;
}

Hook parse_hook(const JsonField& field) {
    Hook hook;
    hook.path = field.required("path").string();
    if (!is_absolute(hook.path)) field.required("path").fail("must be an absolute path", hints::kAbsolutePath);
    if (auto f = field.member("args")) hook.args = f->strings();
    if (auto f = field.member("env")) hook.env = f->strings();
    if (auto f = field.member("timeout")) {
        hook.timeout = f->int32();
        if (*hook.timeout <= 0) f->fail("must be greater than 0");
    }
    return hook;
}

Hooks parse_hooks(const JsonField& field, const Collector& c) {
    Hooks hooks;
    field.expect_object();
    auto list = [&](const char* key, std::vector<Hook>& out) {
        c.guard([&] {
            if (auto f = field.member(key)) c.each(*f, [&](const JsonField& h) { out.push_back(parse_hook(h)); });
        });
    };
    list("prestart", hooks.prestart);
    list("createRuntime", hooks.create_runtime);
    list("createContainer", hooks.create_container);
    list("startContainer", hooks.start_container);
    list("poststart", hooks.poststart);
    list("poststop", hooks.poststop);
    return hooks;
}

// "pid, network, mount, ipc, uts, user, cgroup and time"
std::string namespace_type_list() {
    std::string list;
    for (size_t i = 0; i < kNamespaceKindCount; ++i)
        list += std::string(i == 0 ? "" : i + 1 == kNamespaceKindCount ? " and " : ", ") + kNamespaceKinds[i].spec_name;
    return list;
}

NamespaceKind parse_namespace_kind(const JsonField& field) {
    std::string name = field.string();
    if (auto kind = namespace_kind_named(name)) return *kind;
    field.fail("unknown namespace \"" + name + "\"", "namespace types are " + namespace_type_list());
}

Device parse_device(const JsonField& field) {
    Device d;
    d.path = field.required("path").string();
    if (!is_absolute(d.path)) field.required("path").fail("must be an absolute path", hints::kAbsolutePath);
    std::string type = field.required("type").string();
    if (type.size() != 1 || std::string("cbup").find(type[0]) == std::string::npos)
        field.required("type").fail("must be one of \"c\", \"b\", \"u\", \"p\"");
    d.type = type[0];
    if (d.type != 'p') {
        d.major = field.required("major").int64();
        d.minor = field.required("minor").int64();
        if (d.major < 0) field.required("major").fail("must not be negative");
        if (d.minor < 0) field.required("minor").fail("must not be negative");
    }
    if (auto f = field.member("fileMode")) d.file_mode = f->uint32();
    if (auto f = field.member("uid")) d.uid = f->uint32();
    if (auto f = field.member("gid")) d.gid = f->uint32();
    return d;
}

DeviceRule parse_device_rule(const JsonField& field) {
    DeviceRule rule;
    rule.allow = field.required("allow").boolean();
    if (auto f = field.member("type")) {
        std::string t = f->string();
        if (t.size() != 1 || std::string("acb").find(t[0]) == std::string::npos)
            f->fail("must be one of \"a\", \"c\", \"b\"");
        rule.type = t[0];
    }
    if (auto f = field.member("major")) rule.major = f->int64();
    if (auto f = field.member("minor")) rule.minor = f->int64();
    if (auto f = field.member("access")) {
        rule.access = f->string();
        if (rule.access.empty() || rule.access.find_first_not_of("rwm") != std::string::npos)
            f->fail("must be a combination of \"r\", \"w\" and \"m\"");
    }
    return rule;
}

// Docker sends 0 for every unset number: a zero reads as "not set" for the values where zero
// can never be a meaningful limit.
template <typename T>
std::optional<T> nonzero(std::optional<T> v) {
    return v && *v != 0 ? v : std::nullopt;
}

std::vector<BlockIoDevice> parse_throttle(const JsonField& list) {
    std::vector<BlockIoDevice> out;
    list.each([&](const JsonField& d) {
        BlockIoDevice dev;
        dev.major = d.required("major").int64();
        dev.minor = d.required("minor").int64();
        dev.rate = d.required("rate").uint64();
        out.push_back(dev);
    });
    return out;
}

uint16_t parse_weight(const JsonField& f) {
    uint32_t w = f.uint32();
    if (w > 65535) f.fail("is out of range");
    return uint16_t(w);
}

Resources parse_resources_field(const JsonField& field, const Collector& c) {
    Resources res;
    field.expect_object();
    auto opt_i64 = [](const JsonField& obj, const char* key) {
        auto f = obj.member(key);
        return f ? std::optional<int64_t>(f->int64()) : std::nullopt;
    };
    auto opt_u64 = [](const JsonField& obj, const char* key) {
        auto f = obj.member(key);
        return f ? std::optional<uint64_t>(f->uint64()) : std::nullopt;
    };
    c.member(field, "devices", [&](const JsonField& f) {
        c.each(f, [&](const JsonField& r) { res.devices.push_back(parse_device_rule(r)); });
    });
    c.member(field, "memory", [&](const JsonField& f) {
        Memory m;
        m.limit = nonzero(opt_i64(f, "limit"));
        m.reservation = nonzero(opt_i64(f, "reservation"));
        m.swap = nonzero(opt_i64(f, "swap"));
        m.kernel = nonzero(opt_i64(f, "kernel"));
        m.kernel_tcp = nonzero(opt_i64(f, "kernelTCP"));
        m.swappiness = opt_u64(f, "swappiness");
        if (m.swappiness && *m.swappiness > 100) f.required("swappiness").fail("must be between 0 and 100");
        if (auto d = f.member("disableOOMKiller")) m.disable_oom_killer = d->boolean();
        if (auto u = f.member("useHierarchy")) m.use_hierarchy = u->boolean();
        if (auto check = f.member("checkBeforeUpdate")) m.check_before_update = check->boolean();
        for (auto* v : {&m.limit, &m.reservation, &m.swap})
            if (*v && **v < -1) f.fail("memory values must be -1 (unlimited) or positive");
        res.memory = m;
    });
    c.member(field, "cpu", [&](const JsonField& f) {
        Cpu cpu;
        cpu.shares = nonzero(opt_u64(f, "shares"));
        cpu.quota = nonzero(opt_i64(f, "quota"));
        cpu.burst = opt_u64(f, "burst");
        cpu.period = nonzero(opt_u64(f, "period"));
        cpu.realtime_runtime = nonzero(opt_i64(f, "realtimeRuntime"));
        cpu.realtime_period = nonzero(opt_u64(f, "realtimePeriod"));
        if (auto s = f.member("cpus")) cpu.cpus = s->string();
        if (auto s = f.member("mems")) cpu.mems = s->string();
        cpu.idle = opt_i64(f, "idle");
        if (cpu.idle && *cpu.idle != 0 && *cpu.idle != 1) f.required("idle").fail("must be 0 or 1");
        res.cpu = cpu;
    });
    c.member(field, "pids", [&](const JsonField& f) {
        // runtime-spec 1.3: `limit` is optional, and 0 is a limit like any other (no task may
        // fork in), not "unset" as Docker's zeros are elsewhere; negative means no limit.
        if (auto l = f.member("limit")) res.pids_limit = l->int64();
    });
    c.member(field, "blockIO", [&](const JsonField& f) {
        BlockIo b;
        if (auto w = f.member("weight")) b.weight = nonzero(std::optional<uint16_t>(parse_weight(*w)));
        if (auto w = f.member("leafWeight")) b.leaf_weight = nonzero(std::optional<uint16_t>(parse_weight(*w)));
        if (auto list = f.member("weightDevice")) {
            list->each([&](const JsonField& d) {
                BlockIoDevice dev;
                dev.major = d.required("major").int64();
                dev.minor = d.required("minor").int64();
                if (auto w = d.member("weight")) dev.weight = parse_weight(*w);
                if (auto w = d.member("leafWeight")) dev.leaf_weight = parse_weight(*w);
                b.weight_device.push_back(dev);
            });
        }
        if (auto l = f.member("throttleReadBpsDevice")) b.throttle_read_bps = parse_throttle(*l);
        if (auto l = f.member("throttleWriteBpsDevice")) b.throttle_write_bps = parse_throttle(*l);
        if (auto l = f.member("throttleReadIOPSDevice")) b.throttle_read_iops = parse_throttle(*l);
        if (auto l = f.member("throttleWriteIOPSDevice")) b.throttle_write_iops = parse_throttle(*l);
        res.block_io = b;
    });
    c.member(field, "hugepageLimits", [&](const JsonField& f) {
        c.each(f, [&](const JsonField& h) {
            HugepageLimit limit{h.required("pageSize").string(), h.required("limit").uint64()};
            if (limit.page_size.empty() || limit.page_size.find_first_of("/.") != std::string::npos)
                h.required("pageSize").fail("must be a page size such as \"2MB\"");
            res.hugepage_limits.push_back(limit);
        });
    });
    c.member(field, "network", [&](const JsonField& f) {
        if (auto id = f.member("classID")) res.net_class_id = nonzero(std::optional<uint32_t>(id->uint32()));
        if (auto p = f.member("priorities"))
            p->each([&](const JsonField& e) { res.net_priorities.push_back({e.required("name").string(), e.required("priority").uint32()}); });
    });
    c.member(field, "rdma", [&](const JsonField& f) {
        f.each_member([&](const std::string& device, const JsonField& v) {
            RdmaLimit limit;
            if (auto h = v.member("hcaHandles")) limit.hca_handles = h->uint32();
            if (auto o = v.member("hcaObjects")) limit.hca_objects = o->uint32();
            res.rdma[device] = limit;
        });
    });
    c.member(field, "unified", [&](const JsonField& f) {
        c.each_member(f, [&](const std::string& key, const JsonField& v) {
            // Keys name files in the container's own cgroup directory, nothing else.
            if (key.empty() || key.find('/') != std::string::npos || key == "." || key == ".." ||
                key.find('.') == std::string::npos || key.rfind("cgroup.", 0) == 0)
                v.fail("must name a controller file of the container's cgroup (like \"memory.high\")");
            res.unified[key] = v.string();
        });
    });
    return res;
}

// The names runtime-spec 1.3 defines; the seccomp module maps each onto libseccomp.
bool one_of(const std::string& value, std::initializer_list<const char*> names) {
    for (const char* n : names)
        if (value == n) return true;
    return false;
}

// runtime-spec: errnoRet and defaultErrnoRet are for the actions that return a value
// (SCMP_ACT_ERRNO, and SCMP_ACT_TRACE, whose value the tracer gets); with any other action "the
// runtime MUST print an error and fail", not drop the number.
void refuse_errno_without_use(const JsonField& errno_field, const std::string& action) {
    if (action.empty() || action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE") return;  // empty: refused already
    errno_field.fail("is only for SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not " + action,
                     "remove it, or make the action SCMP_ACT_ERRNO");
}

Seccomp parse_seccomp(const JsonField& field, const Collector& c) {
    Seccomp s;
    field.expect_object();
    auto action = [](const JsonField& f) {
        std::string a = f.string();
        if (!one_of(a, {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
                        "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"}))
            f.fail("unknown seccomp action \"" + a + "\"", hints::kSeccompNames);
        return a;
    };
    c.guard([&] {
        auto default_action = field.required("defaultAction");
        s.default_action = action(default_action);
        if (s.default_action == "SCMP_ACT_NOTIFY") default_action.fail("SCMP_ACT_NOTIFY cannot be the default action");
    });
    c.member(field, "defaultErrnoRet", [&](const JsonField& f) {
        s.default_errno_ret = f.uint32();
        refuse_errno_without_use(f, s.default_action);
    });
    c.member(field, "architectures", [&](const JsonField& f) {
        c.each(f, [&](const JsonField& a) {
            std::string arch = a.string();
            if (!one_of(arch, {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
                               "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
                               "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
                               "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
                               "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
                               "SCMP_ARCH_SH", "SCMP_ARCH_SHEB"}))
                a.fail("unknown seccomp architecture \"" + arch + "\"", hints::kSeccompNames);
            s.architectures.push_back(arch);
        });
    });
    c.member(field, "flags", [&](const JsonField& f) {
        c.each(f, [&](const JsonField& fl) {
            std::string flag = fl.string();
            if (!one_of(flag, {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                               "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}))
                fl.fail("unknown seccomp flag \"" + flag + "\"", hints::kSeccompNames);
            s.flags.push_back(flag);
        });
    });
    c.guard([&] {
        if (auto f = field.member("listenerPath")) s.listener_path = f->string();
        if (!s.listener_path.empty() && s.listener_path[0] != '/')
            field.required("listenerPath").fail("must be an absolute path", hints::kAbsolutePath);
    });
    c.member(field, "listenerMetadata", [&](const JsonField& f) { s.listener_metadata = f.string(); });
    c.member(field, "syscalls", [&](const JsonField& f) {
        c.each(f, [&](const JsonField& item) {
            SeccompRule rule;
            rule.names = item.required("names").strings();
            if (rule.names.empty()) item.required("names").fail("must name at least one syscall");
            rule.action = action(item.required("action"));
            if (auto e = item.member("errnoRet")) {
                rule.errno_ret = e->uint32();
                refuse_errno_without_use(*e, rule.action);
            }
            if (auto args = item.member("args")) {
                args->each([&](const JsonField& a) {
                    SeccompArg arg;
                    arg.index = a.required("index").uint32();
                    if (arg.index > 5) a.required("index").fail("must be between 0 and 5");
                    arg.value = a.required("value").uint64();
                    if (auto v2 = a.member("valueTwo")) arg.value_two = v2->uint64();
                    auto op = a.required("op");
                    arg.op = op.string();
                    if (!one_of(arg.op, {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
                                         "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"}))
                        op.fail("unknown seccomp operator \"" + arg.op + "\"", hints::kSeccompNames);
                    rule.args.push_back(arg);
                });
            }
            s.syscalls.push_back(rule);
        });
    });
    return s;
}

// The path becomes cgroupfs directory names, or a systemd slice and unit name ("slice:prefix:name"),
// and is echoed in errors: a control character could only break the write or the line.
std::string parse_cgroups_path(const JsonField& field) {
    std::string path = field.string();
    if (std::any_of(path.begin(), path.end(), [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; }))
        field.fail("must not contain control characters: " + json_quoted(path), "give a path such as \"/mygroup/ctr\" or \"system.slice:prefix:name\"");
    return path;
}

// The kernel's MAX_NUMNODES on x86-64 and arm64 (NODES_SHIFT 10): no node number reaches it.
constexpr unsigned kMaxMemoryNodes = 1024;

// linux.memoryPolicy, with the rules set_mempolicy(2) would otherwise answer EINVAL to.
MemoryPolicy parse_memory_policy(const JsonField& field) {
    MemoryPolicy policy;
    auto mode_field = field.required("mode");
    std::string mode = mode_field.string();
    auto known = std::find_if(std::begin(kMemoryPolicyModes), std::end(kMemoryPolicyModes), [&](auto& m) { return mode == m.first; });
    if (known == std::end(kMemoryPolicyModes))
        mode_field.fail("unknown memory policy mode " + json_quoted(mode),
                        "modes are MPOL_DEFAULT, MPOL_BIND, MPOL_INTERLEAVE, MPOL_WEIGHTED_INTERLEAVE, MPOL_PREFERRED, "
                        "MPOL_PREFERRED_MANY and MPOL_LOCAL");
    policy.mode = known->second;
    auto nodes = field.member("nodes");
    if (nodes) policy.nodes = parse_number_list(*nodes, kMaxMemoryNodes, "memory nodes");
    JsonField nodes_field = nodes ? *nodes : JsonField(field.json(), field.path() + ".nodes");
    bool no_nodes_allowed = mode == "MPOL_DEFAULT" || mode == "MPOL_LOCAL";
    bool nodes_needed = mode != "MPOL_PREFERRED" && !no_nodes_allowed;
    if (no_nodes_allowed && !policy.nodes.empty())
        nodes_field.fail("must be empty with " + mode + ", which takes no nodes", "remove .nodes, or choose a mode that binds to nodes");
    if (nodes_needed && policy.nodes.empty())
        nodes_field.fail(mode + " needs at least one memory node", "give the nodes, such as \"0\" (/sys/devices/system/node/online lists them)");
    if (auto flags = field.member("flags")) {
        flags->each([&](const JsonField& item) {
            std::string flag = item.string();
            auto k = std::find_if(std::begin(kMemoryPolicyFlags), std::end(kMemoryPolicyFlags), [&](auto& f) { return flag == f.first; });
            if (k == std::end(kMemoryPolicyFlags))
                item.fail("unknown memory policy flag " + json_quoted(flag),
                          "flags are MPOL_F_NUMA_BALANCING, MPOL_F_RELATIVE_NODES and MPOL_F_STATIC_NODES");
            if (flag == "MPOL_F_NUMA_BALANCING" && mode != "MPOL_BIND" && mode != "MPOL_PREFERRED_MANY")
                item.fail("MPOL_F_NUMA_BALANCING works only with MPOL_BIND and MPOL_PREFERRED_MANY");
            if (flag != "MPOL_F_NUMA_BALANCING" && (mode == "MPOL_LOCAL" || (mode == "MPOL_PREFERRED" && policy.nodes.empty())))
                item.fail(flag + " needs nodes to apply to; " + mode + (mode == "MPOL_LOCAL" ? "" : " without nodes") + " has none");
            policy.flags |= k->second;
        });
        unsigned both = kMemoryPolicyFlags[1].second | kMemoryPolicyFlags[2].second;
        if ((policy.flags & both) == both)
            flags->fail("MPOL_F_RELATIVE_NODES and MPOL_F_STATIC_NODES exclude each other", "keep one of them");
    }
    return policy;
}

Linux parse_linux(const JsonField& field, const Collector& c) {
    Linux linux;
    field.expect_object();
    c.member(field, "namespaces", [&](const JsonField& f) {
        std::set<NamespaceKind> seen;
        c.each(f, [&](const JsonField& item) {
            Namespace ns{parse_namespace_kind(item.required("type")), ""};
            if (!seen.insert(ns.kind).second)
                item.required("type").fail(std::string("duplicate namespace \"") + namespace_name(ns.kind) + "\"", hints::kOnlyOnce);
            if (auto p = item.member("path")) {
                ns.path = p->string();  // empty means a new namespace, as in runc
                if (!ns.path.empty() && !is_absolute(ns.path)) p->fail("must be an absolute path", hints::kAbsolutePath);
            }
            linux.namespaces.push_back(ns);
        });
    });
    c.member(field, "uidMappings", [&](const JsonField& f) { linux.uid_mappings = parse_mappings(f); });
    c.member(field, "gidMappings", [&](const JsonField& f) { linux.gid_mappings = parse_mappings(f); });
    c.member(field, "timeOffsets", [&](const JsonField& f) {
        c.each_member(f, [&](const std::string& clock, const JsonField& v) {
            if (clock != "monotonic" && clock != "boottime") v.fail("unknown clock (expected \"monotonic\" or \"boottime\")");
            TimeOffset off;
            if (auto s = v.member("secs")) off.secs = s->int64();
            if (auto n = v.member("nanosecs")) off.nanosecs = n->uint32();
            if (off.nanosecs >= 1000000000u) v.required("nanosecs").fail("must be below 1000000000");
            linux.time_offsets[clock] = off;
        });
    });
    c.member(field, "devices", [&](const JsonField& f) {
        c.each(f, [&](const JsonField& d) { linux.devices.push_back(parse_device(d)); });
    });
    c.member(field, "cgroupsPath", [&](const JsonField& f) { linux.cgroups_path = parse_cgroups_path(f); });
    c.member(field, "resources", [&](const JsonField& f) { linux.resources = parse_resources_field(f, c); });
    c.member(field, "sysctl", [&](const JsonField& f) {
        c.each_member(f, [&](const std::string& k, const JsonField& v) { linux.sysctl[k] = v.string(); });
    });
    c.member(field, "rootfsPropagation", [&](const JsonField& f) {
        linux.rootfs_propagation = f.string();
        static const std::set<std::string> allowed = {"", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"};
        if (!allowed.count(linux.rootfs_propagation)) f.fail("unknown propagation \"" + linux.rootfs_propagation + "\"");
    });
    auto absolute_list = [&](const JsonField& list, std::vector<std::string>& out) {
        c.each(list, [&](const JsonField& item) {
            std::string p = item.string();
            if (!is_absolute(p)) item.fail("must be an absolute path", hints::kAbsolutePath);
            out.push_back(p);
        });
    };
    c.member(field, "maskedPaths", [&](const JsonField& f) { absolute_list(f, linux.masked_paths); });
    c.member(field, "readonlyPaths", [&](const JsonField& f) { absolute_list(f, linux.readonly_paths); });
    c.member(field, "mountLabel", [&](const JsonField& f) { linux.mount_label = f.string(); });
    c.member(field, "seccomp", [&](const JsonField& f) { linux.seccomp = parse_seccomp(f, c); });
    c.member(field, "personality", [&](const JsonField& f) {
        auto domain = f.required("domain");
        std::string d = domain.string();
        if (d == "LINUX") linux.personality = 0x0000;         // PER_LINUX
        else if (d == "LINUX32") linux.personality = 0x0008;  // PER_LINUX32
        else domain.fail("unknown personality domain \"" + d + "\" (expected LINUX or LINUX32)");
        // runc ignores the flags with a warning (it implements none of them); so does crun-lite.
        if (auto flags = f.member("flags"); flags && !flags->json().empty()) {
            flags->strings();  // still a list of strings
            c.warn(flags->path(), "personality flags are not supported, ignored (the domain is set)", "remove the flags");
        }
    });
    c.member(field, "memoryPolicy", [&](const JsonField& f) { linux.memory_policy = parse_memory_policy(f); });
    c.member(field, "netDevices", [&](const JsonField& f) {
        c.each_member(f, [&](const std::string& host_name, const JsonField& entry) {
            check_interface_name(entry, host_name, "the host interface name");
            entry.expect_object();
            NetDevice device;
            if (auto name = entry.member("name")) {
                device.name = name->string();
                if (!device.name.empty()) check_interface_name(*name, device.name, "the name");
            }
            linux.net_devices[host_name] = device;
        });
    });
    c.member(field, "intelRdt", [&](const JsonField& f) { linux.intel_rdt = parse_intel_rdt(f); });
    return linux;
}

}  // namespace

const char* namespace_name(NamespaceKind kind) { return namespace_info(kind).spec_name; }

const Namespace* Linux::find_namespace(NamespaceKind kind) const {
    for (auto& ns : namespaces)
        if (ns.kind == kind) return &ns;
    return nullptr;
}

namespace {

Process parse_process_field(const JsonField& field, const Collector& c) {
    Process p;
    field.expect_object();
    c.member(field, "terminal", [&](const JsonField& f) { p.terminal = f.boolean(); });
    c.member(field, "consoleSize", [&](const JsonField& f) {
        p.console_size = ConsoleSize{f.required("height").uint32(), f.required("width").uint32()};
    });
    c.guard([&] { p.user = parse_user(field.required("user")); });
    c.guard([&] {
        auto args = field.member("args");
        if (!args || !args->json().is_array() || args->json().empty())
            JsonField(field.json(), field.path() + ".args").fail("must be a non-empty array of strings", hints::kType);
        p.args = args->strings();
    });
    c.member(field, "env", [&](const JsonField& f) {
        c.each(f, [&](const JsonField& e) {
            std::string entry = e.string();
            if (entry.find('=') == std::string::npos || entry[0] == '=') e.fail("must have the form KEY=VALUE", "write each entry as NAME=value (NAME= for an empty value)");
            p.env.push_back(entry);
        });
    });
    c.guard([&] {
        auto cwd = field.required("cwd");
        p.cwd = cwd.string();
        if (!is_absolute(p.cwd)) cwd.fail("must be an absolute path", hints::kAbsolutePath);
    });
    c.member(field, "capabilities", [&](const JsonField& f) {
        Capabilities caps;
        f.expect_object();
        auto set = [&](const char* key, std::vector<int>& out) {
            c.member(f, key, [&](const JsonField& s) { out = parse_capability_list(s, c); });
        };
        set("bounding", caps.bounding);
        set("effective", caps.effective);
        set("inheritable", caps.inheritable);
        set("permitted", caps.permitted);
        set("ambient", caps.ambient);
        p.capabilities = caps;
    });
    c.member(field, "rlimits", [&](const JsonField& f) {
        std::set<int> seen;
        c.each(f, [&](const JsonField& item) {
            Rlimit r;
            auto type = item.required("type");
            r.name = type.string();
            auto known = std::find_if(std::begin(kRlimits), std::end(kRlimits), [&](auto& k) { return r.name == k.first; });
            if (known == std::end(kRlimits)) type.fail("unknown rlimit \"" + r.name + "\"", "rlimit types are RLIMIT_* as in getrlimit(2), e.g. RLIMIT_NOFILE");
            r.resource = known->second;
            if (!seen.insert(r.resource).second) type.fail("duplicate rlimit \"" + r.name + "\"", hints::kOnlyOnce);
            r.hard = item.required("hard").uint64();
            r.soft = item.required("soft").uint64();
            if (r.soft > r.hard) item.required("soft").fail("must not exceed hard");
            p.rlimits.push_back(r);
        });
    });
    c.member(field, "noNewPrivileges", [&](const JsonField& f) { p.no_new_privileges = f.boolean(); });
    c.member(field, "oomScoreAdj", [&](const JsonField& f) {
        p.oom_score_adj = f.int32();
        if (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000) f.fail("must be between -1000 and 1000");
    });
    c.member(field, "apparmorProfile", [&](const JsonField& f) { p.apparmor_profile = f.string(); });
    c.member(field, "selinuxLabel", [&](const JsonField& f) { p.selinux_label = f.string(); });
    c.member(field, "ioPriority", [&](const JsonField& f) {
        auto cls = f.required("class");
        static const std::pair<const char*, int> classes[] = {{"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3}};
        IoPriority io;
        std::string name = cls.string();
        auto known = std::find_if(std::begin(classes), std::end(classes), [&](auto& c) { return name == c.first; });
        if (known == std::end(classes)) cls.fail("unknown I/O priority class \"" + name + "\"");
        io.io_class = known->second;
        if (auto pr = f.member("priority")) {
            io.priority = pr->int32();
            if (io.priority < 0 || io.priority > 7) pr->fail("must be between 0 and 7");
        }
        p.io_priority = io;
    });
    c.member(field, "scheduler", [&](const JsonField& f) {
        static const std::pair<const char*, int> policies[] = {{"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},
                                                              {"SCHED_BATCH", 3}, {"SCHED_ISO", 4}, {"SCHED_IDLE", 5},
                                                              {"SCHED_DEADLINE", 6}};
        static const std::pair<const char*, uint64_t> flags[] = {
            {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02}, {"SCHED_FLAG_DL_OVERRUN", 0x04},
            {"SCHED_FLAG_KEEP_POLICY", 0x08},   {"SCHED_FLAG_KEEP_PARAMS", 0x10}, {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
            {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40}};
        Scheduler s;
        auto policy = f.required("policy");
        std::string name = policy.string();
        auto known = std::find_if(std::begin(policies), std::end(policies), [&](auto& c) { return name == c.first; });
        if (known == std::end(policies)) policy.fail("unknown scheduling policy \"" + name + "\"");
        s.policy = known->second;
        if (auto n = f.member("nice")) {
            s.nice = n->int32();
            if (s.nice < -20 || s.nice > 19) n->fail("must be between -20 and 19");
        }
        if (auto pr = f.member("priority")) s.priority = pr->uint32();
        if (auto fl = f.member("flags")) {
            fl->each([&](const JsonField& item) {
                std::string flag = item.string();
                auto k = std::find_if(std::begin(flags), std::end(flags), [&](auto& c) { return flag == c.first; });
                if (k == std::end(flags)) item.fail("unknown scheduler flag \"" + flag + "\"");
                s.flags |= k->second;
            });
        }
        if (auto r = f.member("runtime")) s.runtime = r->uint64();
        if (auto d = f.member("deadline")) s.deadline = d->uint64();
        if (auto pe = f.member("period")) s.period = pe->uint64();
        p.scheduler = s;
    });
    c.member(field, "execCPUAffinity", [&](const JsonField& f) {
        f.expect_object();
        ExecCpuAffinity affinity;
        // CPU numbers below 8192, the mask size the runtime passes to sched_setaffinity.
        if (auto i = f.member("initial")) affinity.initial = parse_number_list(*i, 8192, "CPUs");
        if (auto fin = f.member("final")) affinity.final_cpus = parse_number_list(*fin, 8192, "CPUs");
        p.exec_cpu_affinity = affinity;
    });
    return p;
}

}  // namespace

Process parse_process(const nlohmann::json& json, const std::string& path, std::vector<SpecWarning>* warnings) {
    return parse_process_field(JsonField(json, path), Collector().with_warnings(warnings));
}

Resources parse_resources(const nlohmann::json& json, const std::string& path) {
    return parse_resources_field(JsonField(json, path), Collector());
}

namespace {

Spec parse_spec_with(const nlohmann::json& json, const Collector& collector) {
    JsonField top(json, "");
    top.expect_object();
    Spec spec;
    const Collector c = collector.with_warnings(&spec.warnings);
    c.guard([&] {
        auto version = top.required("ociVersion");
        check_version(version);
        spec.oci_version = version.string();
    });
    c.guard([&] {
        auto root = top.required("root");
        spec.root.path = root.required("path").string();
        if (spec.root.path.empty()) root.required("path").fail("must not be empty");
        if (auto f = root.member("readonly")) spec.root.readonly = f->boolean();
    });

    // Optional at create; `start` refuses a container without one (runtime-spec lifecycle).
    c.member(top, "process", [&](const JsonField& f) { spec.process = parse_process_field(f, c); });
    c.member(top, "mounts", [&](const JsonField& f) { c.each(f, [&](const JsonField& m) { spec.mounts.push_back(parse_mount(m, c)); }); });
    c.member(top, "hostname", [&](const JsonField& f) { spec.hostname = f.string(); });
    c.member(top, "domainname", [&](const JsonField& f) { spec.domainname = f.string(); });
    c.member(top, "hooks", [&](const JsonField& f) { spec.hooks = parse_hooks(f, c); });
    c.member(top, "annotations", [&](const JsonField& f) {
        c.each_member(f, [&](const std::string& k, const JsonField& v) { spec.annotations[k] = v.string(); });
    });
    // A Linux runtime needs the linux section (namespaces at least); the rules that span
    // fields only mean something once it is there.
    bool have_linux = c.guard([&] { spec.linux = parse_linux(top.required("linux"), c); });
    if (have_linux) check_cross_field_rules(spec, c);
    return spec;
}

}  // namespace

Spec parse_spec(const nlohmann::json& json) { return parse_spec_with(json, Collector()); }

Spec parse_spec_collecting(const nlohmann::json& json, std::vector<SpecError>& errors) {
    Spec spec;
    Collector(&errors).guard([&] { spec = parse_spec_with(json, Collector(&errors)); });  // not an object at all
    return spec;
}

namespace {

// A runtime-spec config is a few KiB: these bounds keep a hostile one from costing stack or memory.
constexpr std::streamoff kMaxConfigSize = 16 << 20;
constexpr int kMaxDepth = 64;

// `label` names the file in errors: "config.json", or exec's "--process FILE".
template <typename Input>
nlohmann::json parse_config_json(Input&& in, const std::string& label = "config.json") {
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(in, [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
            if (depth > kMaxDepth) throw Error(label + ": nested deeper than " + std::to_string(kMaxDepth) + " levels");
            return true;
        });
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
        std::string what = e.what();
        auto pos = what.find("] ");  // drop nlohmann's "[json.exception.parse_error.101]" prefix
        throw Error(label + ": invalid JSON: " + (pos == std::string::npos ? what : what.substr(pos + 2)), 0,
                    "fix the JSON syntax at that line and column (`python3 -m json.tool FILE` shows it too)");
    }
    return json;
}

// The bytes of a file of at most kMaxConfigSize.
std::string read_bounded(const std::string& path, const std::string& label) {
    std::string content;
    if (!text::read_file(path, content, size_t(kMaxConfigSize))) {
        if (errno == EFBIG) throw Error(label + ": larger than 16 MiB; a runtime-spec config is a few KiB");
        throw Error("open " + path, errno);
    }
    return content;
}

Spec parse_spec_or_throw(const nlohmann::json& json) {
    try {
        return parse_spec(json);
    } catch (const SpecError& e) {
        throw e.in_context("config.json");
    }
}

}  // namespace

nlohmann::json read_config(const std::string& bundle_dir) { return parse_config_json(read_bounded(bundle_dir + "/config.json", "config.json")); }

Process load_process_file(const std::string& path, std::vector<SpecWarning>& warnings) {
    // The same bounds, parser and field checks as config.json's .process: the process of an exec
    // is as hostile as any config.
    std::string label = "--process " + path;
    nlohmann::json json = parse_config_json(read_bounded(path, label), label);
    try {
        return parse_process(json, "", &warnings);
    } catch (const SpecError& e) {
        throw e.in_context(label);
    }
}

Spec parse_config(std::istream& in) { return parse_spec_or_throw(parse_config_json(in)); }

Spec load_bundle(const std::string& bundle_dir) {
    Spec spec = parse_spec_or_throw(read_config(bundle_dir));
    spec.root.path = absolute_root_path(bundle_dir, spec.root.path);
    return spec;
}

std::string absolute_root_path(const std::string& bundle_dir, const std::string& path) {
    std::string joined = path.empty() || path[0] != '/' ? bundle_dir + "/" + path : path;
    std::vector<std::string_view> kept;
    for (std::string_view part : text::split(joined, '/')) {
        if (part == ".") continue;
        if (part == "..") {
            if (!kept.empty()) kept.pop_back();  // "/.." is "/"
            continue;
        }
        kept.push_back(part);
    }
    std::string clean;
    for (std::string_view part : kept) clean.append("/").append(part);
    return clean.empty() ? "/" : clean;
}

}  // namespace crunlite::spec
