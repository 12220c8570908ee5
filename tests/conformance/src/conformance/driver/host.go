package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"conformance/procfs"
)

// Host holds what the suite detects about the machine at run time. Every limitation found here
// turns the assertions that need the feature into skips that name the reason.
type Host struct {
	NS         map[string]uint64 // the runtime's namespace inodes (ours: the runtime runs as our child)
	LastCap    int
	Bounding   uint64
	NofileHard uint64
	V1         map[string]string // v1 controller -> mount point
	V2         string            // cgroup2 mount point ("" when none)
	V2Ctrls    map[string]bool   // controllers available in the cgroup2 root
	AppArmor   bool
	SELinux    bool
	HugePages  []string // runtime-spec page size names, e.g. "2MB"
	BlkioFiles map[string]bool
	BlockDev   string // "major:minor" of a real block device for throttle rules
}

var host Host

const capSysResource = 24

func detectHost() {
	host.NS = map[string]uint64{}
	for _, n := range []string{"pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time"} {
		if ino, err := procfs.NsInode(fmt.Sprintf("/proc/self/ns/%s", n)); err == nil {
			host.NS[n] = ino
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		host.LastCap, _ = strconv.Atoi(strings.TrimSpace(string(data)))
	}
	host.Bounding, _ = strconv.ParseUint(procStatusField("self", "CapBnd"), 16, 64)
	var rl syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	host.NofileHard = rl.Max

	host.V1 = map[string]string{}
	host.V2Ctrls = map[string]bool{}
	for _, m := range hostMounts() {
		switch m.fstype {
		case "cgroup":
			for _, o := range strings.Split(m.super, ",") {
				switch o {
				case "rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec":
				default:
					if _, seen := host.V1[o]; !seen {
						host.V1[o] = m.point
					}
				}
			}
		case "cgroup2":
			if host.V2 == "" {
				host.V2 = m.point
			}
		}
	}
	if host.V2 != "" {
		if data, err := os.ReadFile(filepath.Join(host.V2, "cgroup.controllers")); err == nil {
			for _, c := range strings.Fields(string(data)) {
				host.V2Ctrls[c] = true
			}
		}
	}
	_, err := os.Stat("/sys/kernel/security/apparmor")
	enabled, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	host.AppArmor = err == nil && strings.TrimSpace(string(enabled)) == "Y"
	_, err = os.Stat("/sys/fs/selinux/enforce")
	host.SELinux = err == nil
	if entries, err := os.ReadDir("/sys/kernel/mm/hugepages"); err == nil {
		for _, e := range entries {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(e.Name(), "hugepages-"), "kB"), 10, 64)
			if err != nil {
				continue
			}
			switch {
			case kb >= 1<<20:
				host.HugePages = append(host.HugePages, fmt.Sprintf("%dGB", kb>>20))
			case kb >= 1<<10:
				host.HugePages = append(host.HugePages, fmt.Sprintf("%dMB", kb>>10))
			default:
				host.HugePages = append(host.HugePages, fmt.Sprintf("%dKB", kb))
			}
		}
		sort.Strings(host.HugePages)
	}
	host.BlkioFiles = map[string]bool{}
	if p, ok := host.V1["blkio"]; ok {
		entries, _ := os.ReadDir(p)
		for _, e := range entries {
			host.BlkioFiles[e.Name()] = true
		}
	}
	if entries, err := os.ReadDir("/sys/block"); err == nil {
		for _, e := range entries {
			n := e.Name()
			if strings.HasPrefix(n, "loop") || strings.HasPrefix(n, "ram") || strings.HasPrefix(n, "zram") {
				continue
			}
			if data, err := os.ReadFile(filepath.Join("/sys/block", n, "dev")); err == nil {
				host.BlockDev = strings.TrimSpace(string(data))
				break
			}
		}
	}
	prctlSubreaper()
}

func prctlSubreaper() {
	const prSetChildSubreaper = 36
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
}

// Limitations: each returns "" when the host has the feature, else the reason for the skip.

func noCapSysResource() string {
	if host.Bounding&(1<<capSysResource) == 0 {
		return "host limitation: CAP_SYS_RESOURCE is not in the runtime's bounding set (CapBnd), so no container can hold it or raise limits beyond the runtime's own"
	}
	return ""
}

func noAppArmor() string {
	if !host.AppArmor {
		return "host limitation: AppArmor is not enabled on this kernel (/sys/kernel/security/apparmor absent)"
	}
	return ""
}

func noSELinux() string {
	if !host.SELinux {
		return "host limitation: SELinux is not enabled on this kernel (/sys/fs/selinux absent)"
	}
	return ""
}

func hasV1(ctrl string) bool { _, ok := host.V1[ctrl]; return ok }

func noNetCgroups() string {
	switch {
	case !hasV1("net_cls"):
		return "host limitation: no net_cls cgroup v1 hierarchy is mounted (and cgroup v2 has no net_cls/net_prio)"
	case !hasV1("net_prio"):
		return "host limitation: no net_prio cgroup v1 hierarchy is mounted"
	}
	return ""
}

func noHugetlbV1() string {
	if !hasV1("hugetlb") {
		return "host limitation: no hugetlb cgroup v1 hierarchy (hugetlb is in the cgroup2 hierarchy at " + host.V2 + ")"
	}
	return ""
}

func noBlkioWeight() string {
	if !hasV1("blkio") {
		return "host limitation: no blkio cgroup v1 hierarchy"
	}
	if !host.BlkioFiles["blkio.weight"] && !host.BlkioFiles["blkio.bfq.weight"] {
		return "host limitation: blkio.weight is missing (no CFQ/BFQ proportional-weight I/O scheduler on this kernel)"
	}
	return ""
}

func noBlkioLeafWeight() string {
	if !hasV1("blkio") || !host.BlkioFiles["blkio.leaf_weight"] {
		return "host limitation: blkio.leaf_weight is missing (CFQ's leaf weights were removed from the kernel)"
	}
	return ""
}

func hostNotes() []string {
	var notes []string
	var v1 []string
	for c := range host.V1 {
		v1 = append(v1, c)
	}
	sort.Strings(v1)
	var v2 []string
	for c := range host.V2Ctrls {
		v2 = append(v2, c)
	}
	sort.Strings(v2)
	notes = append(notes, fmt.Sprintf("host: cgroup v1 controllers %v; cgroup2 at %q with %v; cap_last_cap %d; NOFILE hard %d; hugepages %v; block device %s",
		v1, host.V2, v2, host.LastCap, host.NofileHard, host.HugePages, host.BlockDev))
	for _, r := range []string{noAppArmor(), noSELinux(), noCapSysResource(), noBlkioWeight(), noBlkioLeafWeight(), noHugetlbV1(), noNetCgroups()} {
		if r != "" {
			notes = append(notes, r)
		}
	}
	return notes
}

// ---------------------------------------------------------------------------------------------

func procStatusField(pid, field string) string {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

type hostMount struct {
	point, fstype, super string
	optional             []string
}

func hostMounts() []hostMount {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var res []hostMount
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		left, right, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, r := strings.Fields(left), strings.Fields(right)
		if len(f) < 6 || len(r) < 3 {
			continue
		}
		res = append(res, hostMount{point: f[4], fstype: r[0], super: r[2], optional: f[6:]})
	}
	return res
}
