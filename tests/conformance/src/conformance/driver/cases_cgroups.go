package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"conformance/expect"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	rtcgroups "github.com/opencontainers/runtime-tools/cgroups"
)

// cgroupLine is the path of the process in a hierarchy, from /proc/PID/cgroup: a v1 controller
// name, or "" for the cgroup2 ("0::") line.
func cgroupLine(pid int, ctrl string) (string, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if ctrl == "" {
			if parts[0] == "0" && parts[1] == "" {
				return parts[2], true
			}
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == ctrl {
				return parts[2], true
			}
		}
	}
	return "", false
}

// cgroupDir is the host directory of the process's cgroup for a v1 controller, or for cgroup2
// when ctrl is "".
func cgroupDir(pid int, ctrl string) (string, error) {
	p, ok := cgroupLine(pid, ctrl)
	if !ok {
		return "", fmt.Errorf("/proc/%d/cgroup has no line for %q", pid, ctrl)
	}
	mount := host.V2
	if ctrl != "" {
		mount = host.V1[ctrl]
	}
	if mount == "" {
		return "", fmt.Errorf("no hierarchy mounted for %q", ctrl)
	}
	return filepath.Join(mount, p), nil
}

func readCgroupFile(dir, file string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, file))
	return strings.TrimSpace(string(data)), err
}

type cgCase struct {
	name   string
	ctrl   string // v1 controller whose placement is checked ("" when the host has no v1 hierarchy)
	skip   func() string
	config func(b *Bundle)
	check  func(t *T, pid int, cgPath string, b *Bundle)
}

func init() {
	for _, c := range cgroupCases() {
		for _, relative := range []bool{false, true} {
			c, relative := c, relative
			kind := "absolute"
			if relative {
				kind = "relative"
			}
			register("cgroups", fmt.Sprintf("%s, %s cgroupsPath", c.name, kind), func(t *T) { runCgroupCase(t, c, relative) })
		}
	}
	register("cgroups", "devices: access from inside", func(t *T) {
		b := NewBundle(t)
		major, minor := int64(10), int64(229)
		b.G.AddLinuxResourcesDevice(true, "c", &major, &minor, "r")
		b.Exp.DeviceProbes = []expect.DeviceProbe{
			{Path: "/dev/probe-fuse", Type: "c", Major: 10, Minor: 229, Write: false, Denied: false},
			{Path: "/dev/probe-fuse", Type: "c", Major: 10, Minor: 229, Write: true, Denied: true},
			{Path: "/dev/probe-loop", Type: "b", Major: 7, Minor: 0, Write: false, Denied: true},
			{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, Write: true, Denied: false},
		}
		b.RunChecker(t, "devices")
	})
}

func cgroupCases() []cgCase {
	return []cgCase{
		{name: "memory", ctrl: "memory", config: func(b *Bundle) {
			b.G.SetLinuxResourcesMemoryLimit(64 << 20)
			b.G.SetLinuxResourcesMemoryReservation(32 << 20)
			b.G.SetLinuxResourcesMemorySwap(128 << 20)
			b.G.SetLinuxResourcesMemorySwappiness(30)
			b.G.SetLinuxResourcesMemoryDisableOOMKiller(true)
		}, check: func(t *T, pid int, cgPath string, b *Bundle) {
			cg, err := rtcgroups.FindCgroup()
			if !t.Ok(err == nil, "runtime-tools cgroups finds the hierarchy", "%v", err) {
				return
			}
			m, err := cg.GetMemoryData(pid, cgPath)
			if !t.Ok(err == nil, "runtime-tools GetMemoryData reads the container's memory cgroup", "%v", err) {
				return
			}
			want := b.Config().Linux.Resources.Memory
			t.Ok(m.Limit != nil && *m.Limit == *want.Limit, "memory.limit", "got %v", deref(m.Limit))
			t.Ok(m.Reservation != nil && *m.Reservation == *want.Reservation, "memory.reservation", "got %v", deref(m.Reservation))
			t.Ok(m.Swap != nil && *m.Swap == *want.Swap, "memory.swap (memory+swap)", "got %v", deref(m.Swap))
			t.Ok(m.Swappiness != nil && *m.Swappiness == *want.Swappiness, "memory.swappiness", "got %v", deref(m.Swappiness))
			t.Ok(m.DisableOOMKiller != nil && *m.DisableOOMKiller, "memory.disableOOMKiller", "got %v", deref(m.DisableOOMKiller))
		}},
		{name: "cpu", ctrl: "cpu", config: func(b *Bundle) {
			b.G.SetLinuxResourcesCPUShares(512)
			b.G.SetLinuxResourcesCPUQuota(50000)
			b.G.SetLinuxResourcesCPUPeriod(200000)
			b.G.SetLinuxResourcesCPUCpus("0")
			b.G.SetLinuxResourcesCPUMems("0")
		}, check: func(t *T, pid int, cgPath string, b *Bundle) {
			cg, err := rtcgroups.FindCgroup()
			if !t.Ok(err == nil, "runtime-tools cgroups finds the hierarchy", "%v", err) {
				return
			}
			c, err := cg.GetCPUData(pid, cgPath)
			if !t.Ok(err == nil, "runtime-tools GetCPUData reads the container's cpu and cpuset cgroups", "%v", err) {
				return
			}
			want := b.Config().Linux.Resources.CPU
			t.Ok(c.Shares != nil && *c.Shares == *want.Shares, "cpu.shares", "got %v", deref(c.Shares))
			t.Ok(c.Quota != nil && *c.Quota == *want.Quota, "cpu.quota", "got %v", deref(c.Quota))
			t.Ok(c.Period != nil && *c.Period == *want.Period, "cpu.period", "got %v", deref(c.Period))
			t.Ok(c.Cpus == want.Cpus, "cpu.cpus", "got %q", c.Cpus)
			t.Ok(c.Mems == want.Mems, "cpu.mems", "got %q", c.Mems)
		}},
		{name: "pids", ctrl: "pids", config: func(b *Bundle) {
			b.G.SetLinuxResourcesPidsLimit(100)
		}, check: func(t *T, pid int, cgPath string, b *Bundle) {
			cg, err := rtcgroups.FindCgroup()
			if !t.Ok(err == nil, "runtime-tools cgroups finds the hierarchy", "%v", err) {
				return
			}
			p, err := cg.GetPidsData(pid, cgPath)
			t.Ok(err == nil && p.Limit == 100, "pids.limit (runtime-tools GetPidsData)", "got %+v %v", p, err)
		}},
		{name: "blkio", ctrl: "blkio", skip: func() string {
			if !hasV1("blkio") {
				return "host limitation: no blkio cgroup v1 hierarchy"
			}
			if host.BlockDev == "" {
				return "host limitation: no block device for throttle rules"
			}
			return ""
		}, config: func(b *Bundle) {
			maj, min := blockDev()
			b.G.AddLinuxResourcesBlockIOThrottleReadBpsDevice(maj, min, 10485760)
			b.G.AddLinuxResourcesBlockIOThrottleWriteBpsDevice(maj, min, 5242880)
			b.G.AddLinuxResourcesBlockIOThrottleReadIOPSDevice(maj, min, 1000)
			b.G.AddLinuxResourcesBlockIOThrottleWriteIOPSDevice(maj, min, 500)
			if noBlkioWeight() == "" {
				b.G.SetLinuxResourcesBlockIOWeight(500)
				b.G.AddLinuxResourcesBlockIOWeightDevice(maj, min, 300)
			}
			if noBlkioLeafWeight() == "" {
				b.G.SetLinuxResourcesBlockIOLeafWeight(300)
			}
		}, check: func(t *T, pid int, cgPath string, b *Bundle) {
			dir, err := cgroupDir(pid, "blkio")
			if !t.Ok(err == nil, "the container's blkio cgroup", "%v", err) {
				return
			}
			dev := host.BlockDev
			for _, f := range []struct{ file, want string }{
				{"blkio.throttle.read_bps_device", dev + " 10485760"}, {"blkio.throttle.write_bps_device", dev + " 5242880"},
				{"blkio.throttle.read_iops_device", dev + " 1000"}, {"blkio.throttle.write_iops_device", dev + " 500"},
			} {
				got, err := readCgroupFile(dir, f.file)
				t.Ok(err == nil && got == f.want, "blockIO "+f.file, "got %q %v", got, err)
			}
			if r := noBlkioWeight(); r != "" {
				t.Skip("blockIO.weight and weightDevice", r)
			} else {
				name := "blkio.weight"
				if !host.BlkioFiles[name] {
					name = "blkio.bfq.weight"
				}
				got, err := readCgroupFile(dir, name)
				t.Ok(err == nil && strings.HasSuffix(got, "500"), "blockIO.weight", "got %q %v", got, err)
			}
			if r := noBlkioLeafWeight(); r != "" {
				t.Skip("blockIO.leafWeight", r)
			} else {
				got, err := readCgroupFile(dir, "blkio.leaf_weight")
				t.Ok(err == nil && got == "300", "blockIO.leafWeight", "got %q %v", got, err)
			}
		}},
		{name: "hugetlb", ctrl: "hugetlb", skip: func() string {
			if len(host.HugePages) == 0 {
				return "host limitation: the kernel offers no huge page sizes"
			}
			if noHugetlbV1() != "" && !host.V2Ctrls["hugetlb"] {
				return "host limitation: no hugetlb controller in any hierarchy"
			}
			return ""
		}, config: func(b *Bundle) {
			b.G.AddLinuxResourcesHugepageLimit(host.HugePages[0], 10*pageBytes(host.HugePages[0]))
		}, check: func(t *T, pid int, cgPath string, b *Bundle) {
			size := host.HugePages[0]
			want := 10 * pageBytes(size)
			if r := noHugetlbV1(); r != "" {
				t.Skip("hugepageLimits read back from a cgroup v1 hugetlb hierarchy", r)
				dir, err := cgroupDir(pid, "")
				if !t.Ok(err == nil, "the container's cgroup2 directory", "%v", err) {
					return
				}
				got, err := readCgroupFile(dir, "hugetlb."+size+".max")
				t.Ok(err == nil && got == strconv.FormatUint(want, 10), fmt.Sprintf("hugepageLimits %s in the cgroup2 hierarchy (hugetlb.%s.max)", size, size),
					"got %q %v (in %s)", got, err, dir)
				return
			}
			cg, err := rtcgroups.FindCgroup()
			if err == nil {
				var l []rspec.LinuxHugepageLimit
				l, err = cg.GetHugepageLimitData(pid, cgPath)
				found := false
				for _, x := range l {
					if x.Pagesize == size && x.Limit == want {
						found = true
					}
				}
				t.Ok(err == nil && found, "hugepageLimits (runtime-tools GetHugepageLimitData)", "got %+v %v", l, err)
			}
		}},
		{name: "devices", ctrl: "devices", config: func(b *Bundle) {
			m1, n1 := int64(10), int64(229)
			m2, n2 := int64(7), int64(0)
			b.G.AddLinuxResourcesDevice(true, "c", &m1, &n1, "rwm")
			b.G.AddLinuxResourcesDevice(true, "b", &m2, &n2, "r")
		}, check: func(t *T, pid int, cgPath string, b *Bundle) {
			cg, err := rtcgroups.FindCgroup()
			if !t.Ok(err == nil, "runtime-tools cgroups finds the hierarchy", "%v", err) {
				return
			}
			list, err := cg.GetDevicesData(pid, cgPath)
			if !t.Ok(err == nil, "runtime-tools GetDevicesData reads devices.list", "%v", err) {
				return
			}
			has := func(typ string, maj, min int64, access string) bool {
				for _, d := range list {
					if d.Type == typ && d.Major != nil && *d.Major == maj && d.Minor != nil && *d.Minor == min {
						for _, a := range access {
							if !strings.ContainsRune(d.Access, a) {
								return false
							}
						}
						return true
					}
				}
				return false
			}
			t.Ok(has("c", 10, 229, "rwm"), "devices: allow c 10:229 rwm", "devices.list %s", devList(list))
			t.Ok(has("b", 7, 0, "r"), "devices: allow b 7:0 r", "devices.list %s", devList(list))
			allAll := false
			for _, d := range list {
				if d.Type == "a" {
					allAll = true
				}
			}
			t.Ok(!allAll, "devices: the leading deny-all rule holds (no 'a *:* rwm' entry)", "devices.list %s", devList(list))
		}},
		{name: "network", ctrl: "net_cls", skip: noNetCgroups, config: func(b *Bundle) {
			b.G.SetLinuxResourcesNetworkClassID(0x100001)
			b.G.AddLinuxResourcesNetworkPriorities("lo", 5)
		}, check: func(t *T, pid int, cgPath string, b *Bundle) {
			cg, err := rtcgroups.FindCgroup()
			if err == nil {
				var n *rspec.LinuxNetwork
				n, err = cg.GetNetworkData(pid, cgPath)
				ok := err == nil && n.ClassID != nil && *n.ClassID == 0x100001
				t.Ok(ok, "network.classID (runtime-tools GetNetworkData)", "got %+v %v", n, err)
			}
		}},
	}
}

func runCgroupCase(t *T, c cgCase, relative bool) {
	if c.skip != nil {
		if r := c.skip(); r != "" {
			t.Skip("linux.resources."+c.name, r)
			return
		}
	}
	b := NewBundle(t)
	b.G.SetProcessArgs([]string{"/conformance/checker", "sleep", "30"})
	cgPath := fmt.Sprintf("/crun-conformance-%s/%s", runID, b.ID)
	if relative {
		cgPath = strings.TrimPrefix(cgPath, "/")
	}
	b.G.SetLinuxCgroupsPath(cgPath)
	c.config(b)
	b.Save()
	res := rt.Create(b, b.ID, "")
	if !res.OK() && c.name == "hugetlb" && noHugetlbV1() != "" {
		// Without a v1 hugetlb hierarchy a runtime may apply the limit in the cgroup2 hierarchy
		// (then it is read back there) or refuse it: the spec's "MUST generate an error" for a
		// property it cannot apply. A refusal is a skip (host limitation), not a pass.
		t.Skip("linux.resources.hugepageLimits", noHugetlbV1()+"; the runtime refused it: "+strings.TrimSpace(res.Stderr))
		t.Ok(stateGone(b.ID), "and no container is left", "state still answers")
		return
	}
	if !t.Ok(res.OK(), "create succeeds", "%s", res) {
		return
	}
	st, _, err := rt.State(b.ID)
	if !t.Ok(err == nil && st.Pid > 0, "state has the container's pid", "%v", err) {
		rt.Delete(b.ID, true)
		return
	}
	var dirs []string
	if c.ctrl != "" && hasV1(c.ctrl) {
		p, ok := cgroupLine(st.Pid, c.ctrl)
		if relative {
			t.Ok(ok && strings.HasSuffix(p, "/"+cgPath), "the process is in a "+c.ctrl+" cgroup ending in the relative cgroupsPath",
				"/proc/%d/cgroup %s: %q", st.Pid, c.ctrl, p)
		} else {
			t.Ok(ok && p == cgPath, "the process is in the "+c.ctrl+" cgroup at the absolute cgroupsPath (relative to the hierarchy's root)",
				"/proc/%d/cgroup %s: %q", st.Pid, c.ctrl, p)
		}
		if d, err := cgroupDir(st.Pid, c.ctrl); err == nil {
			dirs = append(dirs, d)
		}
	}
	c.check(t, st.Pid, cgPath, b)
	res = rt.Delete(b.ID, true)
	t.Ok(res.OK(), "delete succeeds", "%s", res)
	for _, d := range dirs {
		_, err := os.Stat(d)
		t.Ok(os.IsNotExist(err), "delete removes the container's cgroup "+strings.TrimPrefix(d, "/sys/fs/cgroup/"), "%s still exists", d)
	}
}

func blockDev() (int64, int64) {
	parts := strings.SplitN(host.BlockDev, ":", 2)
	maj, _ := strconv.ParseInt(parts[0], 10, 64)
	min, _ := strconv.ParseInt(parts[1], 10, 64)
	return maj, min
}

func pageBytes(size string) uint64 {
	n, _ := strconv.ParseUint(strings.TrimRight(size, "KMGB"), 10, 64)
	switch {
	case strings.HasSuffix(size, "GB"):
		return n << 30
	case strings.HasSuffix(size, "MB"):
		return n << 20
	case strings.HasSuffix(size, "KB"):
		return n << 10
	}
	return n
}

func deref(v interface{}) interface{} {
	switch p := v.(type) {
	case *int64:
		if p != nil {
			return *p
		}
	case *uint64:
		if p != nil {
			return *p
		}
	case *bool:
		if p != nil {
			return *p
		}
	}
	return "unset"
}

func devList(l []rspec.LinuxDeviceCgroup) string {
	var s []string
	for _, d := range l {
		s = append(s, fmt.Sprintf("%s %d:%d %s", d.Type, deref(d.Major), deref(d.Minor), d.Access))
	}
	return strings.Join(s, "; ")
}

// cleanupCgroups removes the (empty) parent directories the cgroupsPath cases made.
func cleanupCgroups() {
	name := "crun-conformance-" + runID
	var mounts []string
	for _, m := range host.V1 {
		mounts = append(mounts, m)
	}
	if host.V2 != "" {
		mounts = append(mounts, host.V2)
	}
	for _, m := range mounts {
		for _, pattern := range []string{"/*/*/*/", "/*/*/", "/*/", "/"} {
			found, _ := filepath.Glob(m + pattern + name)
			for _, d := range found {
				syscall.Rmdir(d)
			}
		}
	}
}
