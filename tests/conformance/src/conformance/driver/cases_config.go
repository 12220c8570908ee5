package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"conformance/caps"
	"conformance/expect"
	"conformance/procfs"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate/seccomp"
)

func u32(v uint32) *uint32 { return &v }
func i64(v int64) *int64   { return &v }

// mustFail: a config the runtime must refuse at create (and leave nothing behind).
func mustFail(t *T, b *Bundle, desc string) {
	res := rt.Create(b, b.ID, "")
	if !t.Ok(!res.OK(), desc, "create succeeded: %s", res) {
		rt.Delete(b.ID, true)
		return
	}
	t.Ok(stateGone(b.ID), "and no container is left", "state still answers")
}

func init() {
	register("baseline", "generate defaults", func(t *T) {
		// runtime-tools' generate defaults as they are (with its default seccomp profile).
		b := NewBundle(t)
		b.G.Config.Linux.Seccomp = seccomp.DefaultProfile(b.G.Config)
		b.Exp.Defaults = true
		b.RunChecker(t, "args", "cwd", "env", "user", "caps", "rlimits", "hostname", "ns", "mounts",
			"masked", "readonly", "root", "devices", "nnp", "seccomp")
	})

	// ---- hostname
	register("hostname", "hostname and domainname", func(t *T) {
		b := NewBundle(t)
		b.G.SetHostname("conformance-host")
		b.G.Config.Domainname = "conformance.example"
		b.RunChecker(t, "hostname")
	})
	register("hostname", "hostname without a new UTS namespace", func(t *T) {
		// config.md: "If hostname is set ... the runtime MUST generate an error" without a UTS ns
		// of its own ... (runtime-tools validate: hostname requires a new UTS namespace).
		b := NewBundle(t)
		must(b.G.RemoveLinuxNamespace("uts"))
		b.G.SetHostname("conformance-host")
		b.Save()
		mustFail(t, b, "create errors when hostname is set without a new UTS namespace")
	})

	// ---- mounts
	register("mounts", "mounts and their options", func(t *T) {
		b := NewBundle(t)
		src := filepath.Join(b.Dir, "bind-src")
		must(os.MkdirAll(src, 0755))
		must(os.WriteFile(filepath.Join(src, "marker"), []byte("bind marker"), 0644))
		fileSrc := filepath.Join(b.Dir, "bind-file")
		must(os.WriteFile(fileSrc, []byte("file marker"), 0644))
		must(os.MkdirAll(filepath.Join(b.Rootfs, "mnt", "file"), 0755))
		os.Remove(filepath.Join(b.Rootfs, "mnt", "file"))
		must(os.WriteFile(filepath.Join(b.Rootfs, "mnt", "file"), nil, 0644))
		b.G.AddMount(rspec.Mount{Destination: "/mnt/tmpfs", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "nodev", "noexec", "noatime", "mode=700", "size=1m"}})
		b.G.AddMount(rspec.Mount{Destination: "/mnt/tmpfs-strict", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"strictatime", "mode=1777"}})
		b.G.AddMount(rspec.Mount{Destination: "/mnt/bind-ro", Type: "bind", Source: src,
			Options: []string{"rbind", "ro", "nosuid"}})
		b.G.AddMount(rspec.Mount{Destination: "/mnt/bind-rw", Type: "none", Source: src,
			Options: []string{"bind", "rw", "rprivate"}})
		b.G.AddMount(rspec.Mount{Destination: "/mnt/file", Type: "bind", Source: fileSrc,
			Options: []string{"bind", "ro"}})
		b.G.AddMount(rspec.Mount{Destination: "/mnt/new/dir", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"relatime", "nodev"}})
		b.G.AddMount(rspec.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup",
			Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}})
		b.Exp.Markers = map[string]string{"/mnt/bind-ro": "bind marker", "/mnt/bind-rw": "bind marker", "/mnt/file": "file marker"}
		b.RunChecker(t, "mounts")
	})

	register("mounts", "bind mount with filesystem data options", func(t *T) {
		// config.md: options the runtime does not know are passed to mount(2) as data, which
		// the kernel ignores for MS_BIND: the bind is made with its per-mount options.
		b := NewBundle(t)
		src := filepath.Join(b.Dir, "bind-src")
		must(os.MkdirAll(src, 0755))
		must(os.WriteFile(filepath.Join(src, "marker"), []byte("bind marker"), 0644))
		b.G.AddMount(rspec.Mount{Destination: "/mnt/bind-data", Type: "bind", Source: src,
			Options: []string{"rbind", "ro", "nosuid", "mode=700", "size=1k"}})
		b.Exp.Markers = map[string]string{"/mnt/bind-data": "bind marker"}
		b.RunChecker(t, "mounts")
	})

	// ---- ociVersion: any 1.x (a minor release only adds optional fields; runc checks none)
	for _, v := range []string{"1.4.0", "1.9.1"} {
		v := v
		register("version", "ociVersion "+v, func(t *T) {
			b := NewBundle(t)
			b.G.Config.Version = v
			b.RunChecker(t, "args")
		})
	}

	// ---- masked and read-only paths
	register("paths", "maskedPaths and readonlyPaths", func(t *T) {
		b := NewBundle(t)
		for _, d := range []string{"etc/masked-dir", "etc/ro-dir"} {
			must(os.MkdirAll(filepath.Join(b.Rootfs, d), 0755))
			must(os.WriteFile(filepath.Join(b.Rootfs, d, "content"), []byte("secret"), 0644))
		}
		must(os.WriteFile(filepath.Join(b.Rootfs, "etc/masked-file"), []byte("secret"), 0644))
		must(os.WriteFile(filepath.Join(b.Rootfs, "etc/ro-file"), []byte("data"), 0644))
		b.G.AddLinuxMaskedPaths("/etc/masked-dir")
		b.G.AddLinuxMaskedPaths("/etc/masked-file")
		b.G.AddLinuxMaskedPaths("/etc/masked-does-not-exist")
		b.G.AddLinuxMaskedPaths("/proc/kcore")
		b.G.AddLinuxReadonlyPaths("/etc/ro-dir")
		b.G.AddLinuxReadonlyPaths("/etc/ro-file")
		b.G.AddLinuxReadonlyPaths("/etc/ro-does-not-exist")
		b.G.AddLinuxReadonlyPaths("/proc/sys")
		b.RunChecker(t, "masked", "readonly")
	})

	// ---- root
	for _, ro := range []bool{true, false} {
		ro := ro
		register("root", fmt.Sprintf("root.readonly %v", ro), func(t *T) {
			b := NewBundle(t)
			b.G.SetRootReadonly(ro)
			b.RunChecker(t, "root")
		})
	}
	for _, p := range []string{"shared", "slave", "private", "unbindable"} {
		p := p
		register("root", "rootfsPropagation "+p, func(t *T) {
			b := NewBundle(t)
			must(b.G.SetLinuxRootPropagation(p))
			b.RunChecker(t, "propagation")
		})
	}

	register("root", "root.path \".\" with rootfsPropagation shared", func(t *T) {
		// The bundle directory itself is the root filesystem; the mount holding "<bundle>/."
		// is the bundle's, made private for pivot_root.
		b := NewBundle(t)
		entries, err := os.ReadDir(b.Rootfs)
		must(err)
		for _, e := range entries {
			must(os.Rename(filepath.Join(b.Rootfs, e.Name()), filepath.Join(b.Dir, e.Name())))
		}
		must(os.Remove(b.Rootfs))
		b.Rootfs = b.Dir
		b.G.SetRootPath(".")
		must(b.G.SetLinuxRootPropagation("shared"))
		b.RunChecker(t, "root", "propagation")
	})

	// ---- namespaces
	register("namespaces", "all kinds new", func(t *T) {
		b := NewBundle(t)
		for _, ns := range []string{"pid", "network", "mount", "ipc", "uts", "cgroup"} {
			must(b.G.AddOrReplaceLinuxNamespace(ns, ""))
		}
		withUserNS(b)
		b.RunChecker(t, "ns", "idmap")
	})
	register("namespaces", "none but mount", func(t *T) {
		// Every namespace not listed is the runtime's own.
		b := NewBundle(t)
		b.G.ClearLinuxNamespaces()
		must(b.G.AddOrReplaceLinuxNamespace("mount", ""))
		b.G.RemoveHostname()
		// /sys cannot be mounted without a network namespace of the container's own: bind it.
		b.G.RemoveMount("/sys")
		b.G.AddMount(rspec.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}})
		b.RunChecker(t, "ns")
	})
	register("namespaces", "no mount namespace", func(t *T) {
		// Not listed: the runtime's own mount namespace (config-linux.md), where the root
		// filesystem is set up and entered with chroot.
		b := NewBundle(t)
		must(b.G.RemoveLinuxNamespace("mount"))
		// runc refuses masked and read-only paths without a mount namespace of the container's own.
		b.G.Config.Linux.MaskedPaths = nil
		b.G.Config.Linux.ReadonlyPaths = nil
		b.RunChecker(t, "ns", "root")
		// runc leaves its mounts (a bind of the rootfs with /proc, /dev... on it) in the host's
		// namespace after delete; crun-lite detaches its own. Never left for the next case.
		syscall.Unmount(b.Rootfs, syscall.MNT_DETACH)
	})
	register("namespaces", "join a mount namespace by path", nsJoinMount)
	register("namespaces", "join by path", nsJoinByPath)
	register("namespaces", "join a user namespace by path", nsJoinUser)
	register("namespaces", "path of the wrong type", func(t *T) {
		holder := startHolder(t, nil)
		if holder == nil {
			return
		}
		b := NewBundle(t)
		must(b.G.AddOrReplaceLinuxNamespace("network", fmt.Sprintf("/proc/%d/ns/uts", holder.pid)))
		b.Save()
		mustFail(t, b, "create errors when a network namespace path is a UTS namespace")
	})
	register("namespaces", "path that does not exist", func(t *T) {
		b := NewBundle(t)
		must(b.G.AddOrReplaceLinuxNamespace("ipc", "/proc/self/ns/does-not-exist"))
		b.Save()
		mustFail(t, b, "create errors when a namespace path does not exist")
	})
	register("namespaces", "duplicate type", func(t *T) {
		b := NewBundle(t)
		b.G.Config.Linux.Namespaces = append(b.G.Config.Linux.Namespaces, rspec.LinuxNamespace{Type: "ipc"})
		b.Save()
		mustFail(t, b, "create errors when a namespace type is listed twice (config-linux.md)")
	})
	register("namespaces", "unknown type", func(t *T) {
		b := NewBundle(t)
		b.G.Config.Linux.Namespaces = append(b.G.Config.Linux.Namespaces, rspec.LinuxNamespace{Type: "conformance-bogus"})
		b.Save()
		mustFail(t, b, "create errors for an unknown namespace type (config-linux.md)")
	})

	// ---- user namespace mappings
	register("idmappings", "uid/gid mappings, root inside", func(t *T) {
		b := NewBundle(t)
		withUserNS(b)
		b.RunChecker(t, "idmap", "user", "ns")
	})
	register("idmappings", "several ranges, non-root process", func(t *T) {
		b := NewBundle(t)
		must(b.G.AddOrReplaceLinuxNamespace("user", ""))
		b.G.AddLinuxUIDMapping(200000, 0, 1000)
		b.G.AddLinuxUIDMapping(201000, 1000, 1000)
		b.G.AddLinuxGIDMapping(200000, 0, 1000)
		b.G.AddLinuxGIDMapping(201000, 1000, 2000)
		b.G.SetProcessUID(1000)
		b.G.SetProcessGID(1000)
		b.RunChecker(t, "idmap", "user")
	})

	// ---- devices
	register("devices", "linux.devices and the default devices", func(t *T) {
		b := NewBundle(t)
		mode := os.FileMode(0640)
		b.G.AddDevice(rspec.LinuxDevice{Path: "/dev/conf-fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode, UID: u32(0), GID: u32(0)})
		mode2 := os.FileMode(0600)
		b.G.AddDevice(rspec.LinuxDevice{Path: "/dev/conf-loop", Type: "b", Major: 7, Minor: 0, FileMode: &mode2, UID: u32(1000), GID: u32(1000)})
		b.G.AddDevice(rspec.LinuxDevice{Path: "/dev/conf-fifo", Type: "p"})
		b.G.AddDevice(rspec.LinuxDevice{Path: "/dev/conf-dir/null2", Type: "c", Major: 1, Minor: 3})
		b.Exp.Defaults = true
		b.RunChecker(t, "devices")
	})

	// ---- sysctl
	register("sysctl", "namespaced sysctls", func(t *T) {
		b := NewBundle(t)
		b.G.AddLinuxSysctl("net.ipv4.ip_forward", "1")
		b.G.AddLinuxSysctl("net.ipv4.ip_local_port_range", "20000 30000")
		b.G.AddLinuxSysctl("kernel.msgmax", "4096")
		b.G.AddLinuxSysctl("kernel.shmmni", "1000")
		b.G.AddLinuxSysctl("fs.mqueue.msg_max", "20")
		b.RunChecker(t, "sysctl")
	})

	// ---- process
	register("process", "args, env, cwd", func(t *T) {
		b := NewBundle(t)
		b.G.SetProcessArgs([]string{"/conformance/checker", "check", "with space", "quote\"d", "", "ünïcode", "-x"})
		b.G.AddProcessEnv("CONFORMANCE_PLAIN", "value")
		b.G.AddProcessEnv("CONFORMANCE_EQUALS", "a=b=c")
		b.G.AddProcessEnv("CONFORMANCE_EMPTY", "")
		b.G.AddProcessEnv("CONFORMANCE_SPACE", "two words")
		must(os.MkdirAll(filepath.Join(b.Rootfs, "work dir"), 0755))
		b.G.SetProcessCwd("/work dir")
		b.RunChecker(t, "args", "env", "cwd")
	})
	register("process", "cwd that does not exist yet", func(t *T) {
		b := NewBundle(t)
		b.G.SetProcessCwd("/conformance-new/cwd")
		b.RunChecker(t, "cwd")
	})
	register("process", "user, additionalGids, umask", func(t *T) {
		b := NewBundle(t)
		b.G.SetProcessUID(1000)
		b.G.SetProcessGID(1001)
		b.G.AddProcessAdditionalGid(2000)
		b.G.AddProcessAdditionalGid(3000)
		b.G.SetProcessUmask(0027)
		b.RunChecker(t, "user", "umask", "caps")
	})
	register("process", "root with no additionalGids, umask 0", func(t *T) {
		b := NewBundle(t)
		b.G.SetProcessUmask(0)
		b.RunChecker(t, "user", "umask")
	})
	register("process", "capabilities: every capability", func(t *T) {
		b := NewBundle(t)
		b.G.ClearProcessCapabilities()
		for name, n := range caps.Numbers {
			if n > host.LastCap {
				continue
			}
			if n == capSysResource && noCapSysResource() != "" {
				continue
			}
			must(b.G.AddProcessCapability(name)) // all five sets
		}
		if r := noCapSysResource(); r != "" {
			t.Skip("CAP_SYS_RESOURCE in every set", r)
		}
		b.RunChecker(t, "caps")
	})
	register("process", "capabilities: none", func(t *T) {
		b := NewBundle(t)
		b.G.ClearProcessCapabilities()
		b.RunChecker(t, "caps")
	})
	register("process", "capabilities: distinct sets, non-root", func(t *T) {
		b := NewBundle(t)
		b.G.ClearProcessCapabilities()
		c := &rspec.LinuxCapabilities{
			Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"},
			Permitted:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT"},
			Effective:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
			Inheritable: []string{"CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_SETUID"},
			Ambient:     []string{"CAP_NET_BIND_SERVICE", "CAP_CHOWN"},
		}
		b.G.Config.Process.Capabilities = c
		b.G.SetProcessUID(1000)
		b.G.SetProcessGID(1000)
		b.RunChecker(t, "caps")
	})
	register("process", "capabilities: unknown name", func(t *T) {
		// config.md: "If the runtime cannot ... an unknown capability ... it SHOULD NOT fail":
		// runc logs a warning and leaves it out; so must the runtime here, with the other
		// capabilities set as configured.
		b := NewBundle(t)
		b.G.Config.Process.Capabilities.Bounding = append(b.G.Config.Process.Capabilities.Bounding, "CAP_CONFORMANCE_BOGUS")
		b.G.Config.Process.Capabilities.Permitted = append(b.G.Config.Process.Capabilities.Permitted, "CAP_CONFORMANCE_BOGUS")
		b.Exp.LeftOutCaps = []string{"CAP_CONFORMANCE_BOGUS"}
		b.RunChecker(t, "caps")
	})
	register("process", "rlimits", func(t *T) {
		b := NewBundle(t)
		b.G.ClearProcessRlimits()
		hard := host.NofileHard
		if hard > 20000 {
			hard = 20000
		}
		b.G.AddProcessRlimits("RLIMIT_NOFILE", hard, 1000)
		b.G.AddProcessRlimits("RLIMIT_CORE", 4096, 1024)
		b.G.AddProcessRlimits("RLIMIT_NPROC", 5000, 4000)
		b.G.AddProcessRlimits("RLIMIT_STACK", 16<<20, 8<<20)
		b.G.AddProcessRlimits("RLIMIT_MSGQUEUE", 819200, 409600)
		b.G.AddProcessRlimits("RLIMIT_CPU", ^uint64(0), ^uint64(0))
		if r := noCapSysResource(); r != "" {
			t.Skip(fmt.Sprintf("RLIMIT_NOFILE hard limit above the runtime's own (%d)", host.NofileHard), r)
		}
		b.RunChecker(t, "rlimits")
	})
	register("process", "rlimits: unknown type", func(t *T) {
		b := NewBundle(t)
		b.G.AddProcessRlimits("RLIMIT_CONFORMANCE_BOGUS", 10, 10)
		b.Save()
		mustFail(t, b, "create errors for an rlimit type the kernel does not have (config.md)")
	})
	register("process", "oomScoreAdj", func(t *T) {
		b := NewBundle(t)
		b.G.SetProcessOOMScoreAdj(500)
		if r := noCapSysResource(); r != "" {
			t.Skip("a negative oomScoreAdj below the runtime's own", r)
		}
		b.RunChecker(t, "oom")
	})
	for _, nnp := range []bool{true, false} {
		nnp := nnp
		register("process", fmt.Sprintf("noNewPrivileges %v", nnp), func(t *T) {
			b := NewBundle(t)
			b.G.SetProcessNoNewPrivileges(nnp)
			b.RunChecker(t, "nnp")
		})
	}
	register("process", "apparmorProfile", func(t *T) {
		if r := noAppArmor(); r != "" {
			t.Skip("process.apparmorProfile is applied", r)
			return
		}
		b := NewBundle(t)
		b.G.SetProcessApparmorProfile("unconfined")
		b.RunChecker(t, "lsm")
	})
	register("process", "selinuxLabel", func(t *T) {
		if r := noSELinux(); r != "" {
			t.Skip("process.selinuxLabel is applied", r)
			return
		}
		b := NewBundle(t)
		b.G.SetProcessSelinuxLabel("system_u:system_r:container_t:s0")
		b.RunChecker(t, "lsm")
	})

	// ---- seccomp
	register("seccomp", "runtime-tools default profile", func(t *T) {
		// generate's defaults carry seccomp.DefaultProfile; its default action is ERRNO (EPERM)
		// and it allows unshare only with CAP_SYS_ADMIN, which the container lacks: unshare(0),
		// a no-op that succeeds without seccomp, gets EPERM.
		b := NewBundle(t)
		b.G.Config.Linux.Seccomp = seccomp.DefaultProfile(b.G.Config)
		b.Exp.Probes = []expect.Probe{
			{Name: "getpid (allowed)", Nr: syscall.SYS_GETPID, Errno: 0},
			{Name: "unshare(0) (not allowed without CAP_SYS_ADMIN)", Nr: syscall.SYS_UNSHARE, Errno: int(syscall.EPERM)},
		}
		b.RunChecker(t, "seccomp")
	})
	register("seccomp", "rules, errnoRet and argument conditions", func(t *T) {
		b := NewBundle(t)
		b.G.Config.Linux.Seccomp = &rspec.LinuxSeccomp{
			DefaultAction: rspec.ActAllow,
			Architectures: []rspec.Arch{rspec.ArchX86_64, rspec.ArchX86, rspec.ArchX32},
			Syscalls: []rspec.LinuxSyscall{
				{Names: []string{"getpriority"}, Action: rspec.ActErrno, ErrnoRet: uintp(42),
					Args: []rspec.LinuxSeccompArg{{Index: 0, Value: 1, Op: rspec.OpEqualTo}}},
				{Names: []string{"setpriority"}, Action: rspec.ActErrno},
				{Names: []string{"acct", "swapon"}, Action: rspec.ActErrno, ErrnoRet: uintp(uint(syscall.EXDEV))},
			},
		}
		b.Exp.Probes = []expect.Probe{
			{Name: "getpriority(PRIO_PROCESS, 0) (no rule matches)", Nr: syscall.SYS_GETPRIORITY, Args: [3]uintptr{0, 0, 0}, Errno: 0},
			{Name: "getpriority(PRIO_PGRP, 0) (arg0 == 1: errnoRet 42)", Nr: syscall.SYS_GETPRIORITY, Args: [3]uintptr{1, 0, 0}, Errno: 42},
			{Name: "setpriority (SCMP_ACT_ERRNO without errnoRet: EPERM)", Nr: syscall.SYS_SETPRIORITY, Args: [3]uintptr{0, 0, 0}, Errno: int(syscall.EPERM)},
			{Name: "swapon (errnoRet EXDEV)", Nr: syscall.SYS_SWAPON, Errno: int(syscall.EXDEV)},
		}
		b.RunChecker(t, "seccomp")
	})
	register("seccomp", "no profile", func(t *T) {
		b := NewBundle(t)
		b.RunChecker(t, "seccomp")
	})
	register("seccomp", "unknown action", func(t *T) {
		b := NewBundle(t)
		raw := b.RawConfig()
		raw["linux"].(map[string]interface{})["seccomp"] = map[string]interface{}{
			"defaultAction": "SCMP_ACT_CONFORMANCE_BOGUS",
		}
		b.SaveRaw(raw)
		mustFail(t, b, "create errors for an unknown seccomp action")
	})

	// ---- annotations
	register("annotations", "unknown annotations", func(t *T) {
		b := NewBundle(t)
		b.G.AddAnnotation("org.example.conformance.unknown", "value")
		b.G.AddAnnotation("com.example.conformance/other", "{\"json\": true}")
		b.Save()
		res := rt.Create(b, b.ID, "")
		if !t.Ok(res.OK(), "create succeeds with annotations the runtime does not know", "%s", res) {
			return
		}
		st, _, err := rt.State(b.ID)
		t.Ok(err == nil && st.Annotations["org.example.conformance.unknown"] == "value" &&
			st.Annotations["com.example.conformance/other"] == "{\"json\": true}",
			"state.annotations are the config's annotations", "state %+v %v", st, err)
		res = rt.Delete(b.ID, true)
		t.Ok(res.OK(), "delete --force succeeds", "%s", res)
	})
}

func uintp(v uint) *uint { return &v }

// ---- namespace joining

type holderProc struct {
	b   *Bundle
	pid int
}

// startHolder runs a container (with its own pid, network, ipc, uts, cgroup namespaces, plus a
// user namespace when edit adds one) whose process sleeps: its /proc/PID/ns/* are joined by path.
func startHolder(t *T, edit func(b *Bundle)) *holderProc {
	b := NewBundle(t)
	b.G.SetProcessArgs([]string{"/conformance/checker", "sleep", "60"})
	must(b.G.AddOrReplaceLinuxNamespace("cgroup", ""))
	if edit != nil {
		edit(b)
	}
	b.Save()
	if !t.Ok(rt.Create(b, b.ID, "").OK(), "the namespace holder container is created", "%s", b.Errors()) {
		return nil
	}
	if !t.Ok(rt.Start(b.ID).OK(), "the namespace holder container starts", "%s", b.Errors()) {
		return nil
	}
	st, _, err := rt.State(b.ID)
	if !t.Ok(err == nil && st.Pid > 0, "the holder has a pid", "%v", err) {
		return nil
	}
	return &holderProc{b, st.Pid}
}

func nsJoinByPath(t *T) {
	holder := startHolder(t, nil)
	if holder == nil {
		return
	}
	b := NewBundle(t)
	b.Exp.PathNS = map[string]uint64{}
	for _, ns := range []struct{ spec, file string }{
		{"network", "net"}, {"ipc", "ipc"}, {"uts", "uts"}, {"pid", "pid"}, {"cgroup", "cgroup"},
	} {
		path := fmt.Sprintf("/proc/%d/ns/%s", holder.pid, ns.file)
		ino, err := procfs.NsInode(path)
		must(err)
		b.Exp.PathNS[ns.file] = ino
		must(b.G.AddOrReplaceLinuxNamespace(ns.spec, path))
	}
	b.G.RemoveHostname() // the UTS namespace is the holder's
	b.RunChecker(t, "ns")
	rt.Kill(holder.b.ID, "KILL")
	rt.WaitStatus(holder.b.ID, 5*time.Second, "stopped")
	rt.Delete(holder.b.ID, true)
}

func nsJoinUser(t *T) {
	holder := startHolder(t, withUserNS)
	if holder == nil {
		return
	}
	b := NewBundle(t)
	b.Exp.PathNS = map[string]uint64{}
	for _, ns := range []struct{ spec, file string }{{"user", "user"}, {"network", "net"}} {
		path := fmt.Sprintf("/proc/%d/ns/%s", holder.pid, ns.file)
		ino, err := procfs.NsInode(path)
		must(err)
		b.Exp.PathNS[ns.file] = ino
		must(b.G.AddOrReplaceLinuxNamespace(ns.spec, path))
	}
	b.RunChecker(t, "ns")
	rt.Kill(holder.b.ID, "KILL")
	rt.WaitStatus(holder.b.ID, 5*time.Second, "stopped")
	rt.Delete(holder.b.ID, true)
}

// nsJoinMount joins the mount namespace of a process that made it with a mount of its own
// below the rootfs: the root filesystem is resolved and set up in that namespace.
func nsJoinMount(t *T) {
	b := NewBundle(t)
	helper := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c",
		"mount -t tmpfs conformance-only-there "+filepath.Join(b.Rootfs, "mnt")+" && echo ready && exec sleep 60")
	stdout, err := helper.StdoutPipe()
	must(err)
	if !t.Ok(helper.Start() == nil, "a process holding a mount namespace starts", "") {
		return
	}
	defer func() {
		helper.Process.Kill()
		helper.Wait()
	}()
	line := make([]byte, 6)
	n, _ := io.ReadFull(stdout, line)
	if !t.Ok(string(line[:n]) == "ready\n", "the mount namespace holder is ready", "read %q", line[:n]) {
		return
	}
	path := fmt.Sprintf("/proc/%d/ns/mnt", helper.Process.Pid)
	ino, err := procfs.NsInode(path)
	must(err)
	b.Exp.PathNS = map[string]uint64{"mnt": ino}
	must(b.G.AddOrReplaceLinuxNamespace("mount", path))
	b.RunChecker(t, "ns")
}

var _ = strings.TrimSpace
