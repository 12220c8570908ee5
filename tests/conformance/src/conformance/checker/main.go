// The in-container checker of the conformance suite: a static binary that the driver copies into
// every bundle's rootfs at /conformance/checker, next to the bundle's config.json and an
// expect.json (see package expect). Run as the container's process, it verifies from inside
// what the config asked for and prints one TAP line per assertion:
//
//	ok - [group] what was checked
//	not ok - [group] what was checked # what was found
//	ok - [group] what was checked # SKIP why
//
// and "# checker: done" at the end, so that the driver can tell a complete report from a crash.
// Other modes serve the lifecycle and hook cases: hook, log, signal, sleep.
package main

// Must stay the first import declaration: it snapshots the rlimits before package os raises
// RLIMIT_NOFILE (see package rlimits).
import _ "conformance/rlimits"

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"conformance/caps"
	"conformance/expect"
	"conformance/procfs"
	"conformance/rlimits"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
)

var (
	cfg     rspec.Spec
	exp     expect.Expect
	out     = bufio.NewWriter(os.Stdout)
	mounts  []mountInfo
	statusF map[string]string
)

func main() {
	mode := "check"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "hook":
		os.Exit(hookMode(os.Args[2:]))
	case "log":
		os.Exit(logMode(os.Args[2:]))
	case "signal":
		os.Exit(signalMode())
	case "sleep":
		secs := 30
		if len(os.Args) > 2 {
			secs, _ = strconv.Atoi(os.Args[2])
		}
		time.Sleep(time.Duration(secs) * time.Second)
		return
	}
	defer out.Flush()
	if err := load(); err != nil {
		fmt.Fprintf(out, "not ok - [setup] read %s/config.json and expect.json # %v\n", expect.Dir, err)
		fmt.Fprintln(out, "# checker: done")
		return
	}
	checks := []struct {
		group string
		fn    func()
	}{
		{"args", checkArgs}, {"cwd", checkCwd}, {"env", checkEnv}, {"user", checkUser},
		{"umask", checkUmask}, {"caps", checkCaps}, {"rlimits", checkRlimits},
		{"hostname", checkHostname}, {"ns", checkNamespaces}, {"idmap", checkIDMaps},
		{"mounts", checkMounts}, {"masked", checkMasked}, {"readonly", checkReadonly},
		{"root", checkRoot}, {"propagation", checkPropagation}, {"sysctl", checkSysctl},
		{"devices", checkDevices}, {"oom", checkOOM}, {"nnp", checkNNP}, {"seccomp", checkSeccomp},
		{"lsm", checkLSM},
	}
	for _, c := range checks {
		if !wanted(c.group) {
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					report(c.group, false, "checker did not crash", fmt.Sprint(r))
				}
			}()
			c.fn()
		}()
	}
	fmt.Fprintln(out, "# checker: done")
}

func load() error {
	data, err := os.ReadFile(filepath.Join(expect.Dir, "config.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return err
	}
	data, err = os.ReadFile(filepath.Join(expect.Dir, "expect.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &exp); err != nil {
		return err
	}
	if cfg.Process == nil {
		return fmt.Errorf("config.json has no process")
	}
	mounts, err = readMountinfo()
	if err != nil {
		return err
	}
	statusF, err = procStatus()
	return err
}

func wanted(group string) bool {
	if len(exp.Groups) == 0 {
		return true
	}
	for _, g := range exp.Groups {
		if g == group {
			return true
		}
	}
	return false
}

func clean(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "#", "\\#")
	return s
}

// report prints one TAP line; a check listed in expect.Skip (by "group" or "group.key") is
// reported as skipped with the driver's reason, whatever its outcome.
func report(group string, ok bool, desc, detail string) {
	line := fmt.Sprintf("[%s] %s", group, clean(desc))
	if reason, skip := skipReason(group, desc); skip {
		fmt.Fprintf(out, "ok - %s # SKIP %s\n", line, clean(reason))
		return
	}
	if ok {
		fmt.Fprintf(out, "ok - %s\n", line)
	} else {
		fmt.Fprintf(out, "not ok - %s # %s\n", line, clean(detail))
	}
}

func skipReason(group, desc string) (string, bool) {
	if r, ok := exp.Skip[group]; ok {
		return r, true
	}
	for key, r := range exp.Skip {
		if strings.HasPrefix(key, group+".") && strings.Contains(desc, strings.TrimPrefix(key, group+".")) {
			return r, true
		}
	}
	return "", false
}

func equal(group, desc string, got, want interface{}) {
	g, w := fmt.Sprint(got), fmt.Sprint(want)
	report(group, g == w, fmt.Sprintf("%s = %s", desc, w), fmt.Sprintf("got %s", g))
}

// ---------------------------------------------------------------------------------------------
// process

func checkArgs() {
	equal("args", "argv", fmt.Sprintf("%q", os.Args), fmt.Sprintf("%q", cfg.Process.Args))
}

func checkCwd() {
	wd, err := os.Getwd()
	if err != nil {
		report("cwd", false, "getcwd", err.Error())
		return
	}
	equal("cwd", "cwd", wd, filepath.Clean(cfg.Process.Cwd))
}

func checkEnv() {
	have := map[string]bool{}
	for _, e := range os.Environ() {
		have[e] = true
	}
	for _, e := range cfg.Process.Env {
		report("env", have[e], fmt.Sprintf("environment has %q", e), fmt.Sprintf("environ: %q", os.Environ()))
	}
}

func checkUser() {
	u := cfg.Process.User
	equal("user", "uid", os.Getuid(), u.UID)
	equal("user", "euid", os.Geteuid(), u.UID)
	equal("user", "gid", os.Getgid(), u.GID)
	equal("user", "egid", os.Getegid(), u.GID)
	groups, err := syscall.Getgroups()
	if err != nil {
		report("user", false, "getgroups", err.Error())
		return
	}
	got := make([]int, 0, len(groups))
	for _, g := range groups {
		got = append(got, g)
	}
	want := []int{}
	seen := map[int]bool{}
	for _, g := range u.AdditionalGids {
		if !seen[int(g)] {
			want = append(want, int(g))
			seen[int(g)] = true
		}
	}
	sort.Ints(got)
	sort.Ints(want)
	equal("user", "supplementary groups (additionalGids)", got, want)
}

func checkUmask() {
	if cfg.Process.User.Umask == nil {
		return
	}
	v, ok := statusF["Umask"]
	if !ok {
		report("umask", false, "umask", "no Umask line in /proc/self/status")
		return
	}
	n, _ := strconv.ParseUint(v, 8, 32)
	equal("umask", "umask", fmt.Sprintf("%04o", n), fmt.Sprintf("%04o", *cfg.Process.User.Umask))
}

func capNames(mask uint64) string {
	var names []string
	for name, n := range caps.Numbers {
		if mask&(1<<uint(n)) != 0 {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ",")
}

// checkCaps compares the five sets with what execve(2) makes of the config's sets
// (capabilities(7)): the runtime sets bounding, inheritable, permitted, effective and ambient,
// then executes a file without file capabilities. For uid 0 the kernel treats the file as
// fully privileged: permitted' = inheritable | bounding (| ambient), effective' = permitted'.
// For any other uid: permitted' = effective' = ambient'. Ambient capabilities exist only when
// also permitted and inheritable.
func checkCaps() {
	var c rspec.LinuxCapabilities
	if cfg.Process.Capabilities != nil {
		c = *cfg.Process.Capabilities
	}
	var unknown []string
	mask := func(names []string) uint64 {
		var m uint64
		for _, name := range names {
			n, ok := caps.Numbers[name]
			if !ok && leftOut(name) {
				continue
			}
			if !ok {
				unknown = append(unknown, name)
				continue
			}
			if n <= exp.LastCap {
				m |= 1 << uint(n)
			}
		}
		return m
	}
	bnd, inh, prm, eff, amb := mask(c.Bounding), mask(c.Inheritable), mask(c.Permitted), mask(c.Effective), mask(c.Ambient)
	_ = eff
	amb &= prm & inh
	var prmX, effX uint64
	if cfg.Process.User.UID == 0 {
		prmX = inh | bnd | amb
		effX = prmX
	} else {
		prmX, effX = amb, amb
	}
	sets := []struct {
		field, name string
		want        uint64
	}{
		{"CapBnd", "bounding", bnd}, {"CapEff", "effective", effX}, {"CapPrm", "permitted", prmX},
		{"CapInh", "inheritable", inh}, {"CapAmb", "ambient", amb},
	}
	for _, s := range sets {
		got, err := strconv.ParseUint(statusF[s.field], 16, 64)
		if err != nil {
			report("caps", false, s.name+" set", "cannot parse "+s.field+": "+statusF[s.field])
			continue
		}
		detail := fmt.Sprintf("got %s (extra: %s; missing: %s)", capNames(got), capNames(got&^s.want), capNames(s.want&^got))
		if len(unknown) > 0 {
			detail += fmt.Sprintf("; names the checker does not know: %v", unknown)
		}
		report("caps", got == s.want && len(unknown) == 0, fmt.Sprintf("%s set (%s) = %s", s.name, s.field, capNames(s.want)), detail)
	}
}

// leftOut: a capability name the runtime is to leave out of every set (expect.LeftOutCaps).
func leftOut(name string) bool {
	for _, n := range exp.LeftOutCaps {
		if n == name {
			return true
		}
	}
	return false
}

func checkRlimits() {
	for _, r := range cfg.Process.Rlimits {
		n, ok := rlimits.Names[r.Type]
		if !ok {
			report("rlimits", false, r.Type, "unknown rlimit type")
			continue
		}
		if rlimits.Errors[n] != nil {
			report("rlimits", false, r.Type, rlimits.Errors[n].Error())
			continue
		}
		got := rlimits.AtStart[n]
		report("rlimits", got.Cur == r.Soft && got.Max == r.Hard,
			fmt.Sprintf("%s soft=%d hard=%d", r.Type, r.Soft, r.Hard),
			fmt.Sprintf("got soft=%d hard=%d", got.Cur, got.Max))
	}
}

func checkOOM() {
	if cfg.Process.OOMScoreAdj == nil {
		return
	}
	data, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		report("oom", false, "oom_score_adj", err.Error())
		return
	}
	equal("oom", "oom_score_adj", strings.TrimSpace(string(data)), *cfg.Process.OOMScoreAdj)
}

func checkNNP() {
	want := "0"
	if cfg.Process.NoNewPrivileges {
		want = "1"
	}
	equal("nnp", "NoNewPrivs (noNewPrivileges)", statusF["NoNewPrivs"], want)
}

func checkSeccomp() {
	want := "0"
	if cfg.Linux != nil && cfg.Linux.Seccomp != nil {
		want = "2"
	}
	equal("seccomp", "Seccomp mode in /proc/self/status", statusF["Seccomp"], want)
	for _, p := range exp.Probes {
		_, _, e := syscall.RawSyscall6(p.Nr, p.Args[0], p.Args[1], p.Args[2], 0, 0, 0)
		report("seccomp", int(e) == p.Errno, fmt.Sprintf("%s returns errno %d", p.Name, p.Errno),
			fmt.Sprintf("got errno %d (%v)", int(e), e))
	}
}

func checkLSM() {
	if cfg.Process.ApparmorProfile != "" {
		data, err := os.ReadFile("/proc/self/attr/apparmor/current")
		if err != nil {
			data, err = os.ReadFile("/proc/self/attr/current")
		}
		got := strings.TrimSpace(string(data))
		report("lsm", err == nil && strings.HasPrefix(got, cfg.Process.ApparmorProfile),
			"AppArmor profile "+cfg.Process.ApparmorProfile, fmt.Sprintf("got %q (%v)", got, err))
	}
	if cfg.Process.SelinuxLabel != "" {
		data, err := os.ReadFile("/proc/self/attr/current")
		got := strings.TrimRight(string(data), "\x00\n")
		report("lsm", err == nil && got == cfg.Process.SelinuxLabel, "SELinux label "+cfg.Process.SelinuxLabel,
			fmt.Sprintf("got %q (%v)", got, err))
	}
}

// ---------------------------------------------------------------------------------------------
// linux

func checkHostname() {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		report("hostname", false, "uname", err.Error())
		return
	}
	str := func(a [65]int8) string {
		b := make([]byte, 0, 65)
		for _, c := range a {
			if c == 0 {
				break
			}
			b = append(b, byte(c))
		}
		return string(b)
	}
	if cfg.Hostname != "" {
		equal("hostname", "hostname", str(u.Nodename), cfg.Hostname)
	}
	if cfg.Domainname != "" {
		equal("hostname", "domainname", str(u.Domainname), cfg.Domainname)
	}
}

var nsFiles = map[rspec.LinuxNamespaceType]string{
	rspec.PIDNamespace: "pid", rspec.NetworkNamespace: "net", rspec.MountNamespace: "mnt",
	rspec.IPCNamespace: "ipc", rspec.UTSNamespace: "uts", rspec.UserNamespace: "user",
	rspec.CgroupNamespace: "cgroup", "time": "time",
}

func checkNamespaces() {
	inConfig := map[rspec.LinuxNamespaceType]rspec.LinuxNamespace{}
	if cfg.Linux != nil {
		for _, ns := range cfg.Linux.Namespaces {
			inConfig[ns.Type] = ns
		}
	}
	types := make([]string, 0, len(nsFiles))
	for t := range nsFiles {
		types = append(types, string(t))
	}
	sort.Strings(types)
	for _, ts := range types {
		t := rspec.LinuxNamespaceType(ts)
		file := nsFiles[t]
		host, known := exp.HostNS[file]
		if !known {
			continue // the host has no such namespace type
		}
		got, err := procfs.NsInode("/proc/self/ns/" + file)
		if err != nil {
			report("ns", false, ts+" namespace", err.Error())
			continue
		}
		ns, listed := inConfig[t]
		switch {
		case listed && ns.Path != "":
			want := exp.PathNS[file]
			report("ns", got == want, fmt.Sprintf("%s namespace is the one at %s", ts, ns.Path),
				fmt.Sprintf("got inode %d, the path's is %d", got, want))
		case listed:
			report("ns", got != host, ts+" namespace is new", fmt.Sprintf("inode %d is the runtime's", got))
		default:
			report("ns", got == host, ts+" namespace is the runtime's (not in config)",
				fmt.Sprintf("inode %d, the runtime's is %d", got, host))
		}
	}
}

func checkIDMaps() {
	if cfg.Linux == nil {
		return
	}
	cmp := func(file string, maps []rspec.LinuxIDMapping) {
		if len(maps) == 0 {
			return
		}
		data, err := os.ReadFile("/proc/self/" + file)
		if err != nil {
			report("idmap", false, file, err.Error())
			return
		}
		var got, want []string
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			got = append(got, strings.Join(strings.Fields(line), " "))
		}
		for _, m := range maps {
			want = append(want, fmt.Sprintf("%d %d %d", m.ContainerID, m.HostID, m.Size))
		}
		sort.Strings(got)
		sort.Strings(want)
		equal("idmap", file, strings.Join(got, "; "), strings.Join(want, "; "))
	}
	cmp("uid_map", cfg.Linux.UIDMappings)
	cmp("gid_map", cfg.Linux.GIDMappings)
}

func hasUserNS() bool {
	if cfg.Linux == nil {
		return false
	}
	for _, ns := range cfg.Linux.Namespaces {
		if ns.Type == rspec.UserNamespace {
			return true
		}
	}
	return false
}

func checkSysctl() {
	if cfg.Linux == nil {
		return
	}
	keys := make([]string, 0, len(cfg.Linux.Sysctl))
	for k := range cfg.Linux.Sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		want := strings.Join(strings.Fields(cfg.Linux.Sysctl[k]), " ")
		data, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(k, ".", "/"))
		if err != nil {
			report("sysctl", false, k, err.Error())
			continue
		}
		equal("sysctl", k, strings.Join(strings.Fields(string(data)), " "), want)
	}
}

func major(dev uint64) uint64 { return ((dev >> 8) & 0xfff) | ((dev >> 32) &^ 0xfff) }
func minor(dev uint64) uint64 { return (dev & 0xff) | ((dev >> 12) &^ 0xff) }

func checkDevice(path, typ string, maj, min int64, mode *os.FileMode, uid, gid *uint32) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		report("devices", false, fmt.Sprintf("%s is %s %d:%d", path, typ, maj, min), err.Error())
		return
	}
	gotType := "?"
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFCHR:
		gotType = "c"
	case syscall.S_IFBLK:
		gotType = "b"
	case syscall.S_IFIFO:
		gotType = "p"
	}
	wantType := typ
	if wantType == "u" {
		wantType = "c"
	}
	var problems []string
	if gotType != wantType {
		problems = append(problems, "type "+gotType)
	}
	if wantType != "p" && (int64(major(st.Rdev)) != maj || int64(minor(st.Rdev)) != min) {
		problems = append(problems, fmt.Sprintf("number %d:%d", major(st.Rdev), minor(st.Rdev)))
	}
	desc := fmt.Sprintf("%s is %s %d:%d", path, typ, maj, min)
	if mode != nil {
		desc += fmt.Sprintf(" mode %04o", mode.Perm())
		if os.FileMode(st.Mode&0777) != mode.Perm() {
			problems = append(problems, fmt.Sprintf("mode %04o", st.Mode&0777))
		}
	}
	if uid != nil {
		desc += fmt.Sprintf(" uid %d", *uid)
		if st.Uid != *uid {
			problems = append(problems, fmt.Sprintf("uid %d", st.Uid))
		}
	}
	if gid != nil {
		desc += fmt.Sprintf(" gid %d", *gid)
		if st.Gid != *gid {
			problems = append(problems, fmt.Sprintf("gid %d", st.Gid))
		}
	}
	report("devices", len(problems) == 0, desc, "got "+strings.Join(problems, ", "))
}

func checkDevices() {
	if cfg.Linux != nil {
		for _, d := range cfg.Linux.Devices {
			checkDevice(d.Path, d.Type, d.Major, d.Minor, d.FileMode, d.UID, d.GID)
		}
	}
	if exp.Defaults {
		for _, d := range []struct {
			path     string
			maj, min int64
		}{{"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7}, {"/dev/random", 1, 8},
			{"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}} {
			checkDevice(d.path, "c", d.maj, d.min, nil, nil, nil)
		}
		// /dev/ptmx: a bind mount or symlink of the container's /dev/pts/ptmx.
		var ptmx, pts syscall.Stat_t
		err1 := syscall.Stat("/dev/ptmx", &ptmx)
		err2 := syscall.Stat("/dev/pts/ptmx", &pts)
		ok := err1 == nil && err2 == nil && ptmx.Ino == pts.Ino && ptmx.Dev == pts.Dev
		report("devices", ok, "/dev/ptmx is the container's /dev/pts/ptmx",
			fmt.Sprintf("ptmx %d/%d (%v), pts/ptmx %d/%d (%v)", ptmx.Dev, ptmx.Ino, err1, pts.Dev, pts.Ino, err2))
	}
	for _, p := range exp.DeviceProbes {
		if _, err := os.Stat(p.Path); os.IsNotExist(err) {
			mode := uint32(syscall.S_IFCHR)
			if p.Type == "b" {
				mode = syscall.S_IFBLK
			}
			dev := int((p.Minor & 0xff) | ((p.Major & 0xfff) << 8) | ((p.Minor &^ 0xff) << 12))
			if err := syscall.Mknod(p.Path, mode|0666, dev); err != nil {
				report("devices", false, "mknod "+p.Path, err.Error())
				continue
			}
		}
		flags, what := syscall.O_RDONLY, "read"
		if p.Write {
			flags, what = syscall.O_WRONLY, "write"
		}
		fd, err := syscall.Open(p.Path, flags|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err == nil {
			syscall.Close(fd)
		}
		if p.Denied {
			report("devices", err == syscall.EPERM, fmt.Sprintf("device cgroup denies %s of %s %d:%d", what, p.Type, p.Major, p.Minor),
				fmt.Sprintf("open: %v", err))
		} else {
			report("devices", err != syscall.EPERM, fmt.Sprintf("device cgroup allows %s of %s %d:%d", what, p.Type, p.Major, p.Minor),
				fmt.Sprintf("open: %v", err))
		}
	}
}

// ---------------------------------------------------------------------------------------------
// mounts

type mountInfo struct {
	root, point string
	opts        map[string]bool
	optional    []string
	fstype      string
	source      string
	super       map[string]string
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func readMountinfo() ([]mountInfo, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var res []mountInfo
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		left, right, found := strings.Cut(line, " - ")
		if !found {
			continue
		}
		f := strings.Fields(left)
		r := strings.Fields(right)
		if len(f) < 6 || len(r) < 2 {
			continue
		}
		m := mountInfo{root: unescape(f[3]), point: unescape(f[4]), opts: map[string]bool{},
			optional: f[6:], fstype: r[0], source: r[1], super: map[string]string{}}
		for _, o := range strings.Split(f[5], ",") {
			m.opts[o] = true
		}
		if len(r) > 2 {
			for _, o := range strings.Split(r[2], ",") {
				k, v, _ := strings.Cut(o, "=")
				m.super[k] = v
			}
		}
		res = append(res, m)
	}
	return res, nil
}

// mountAt is the top mount at exactly this mount point.
func mountAt(point string) *mountInfo {
	point = filepath.Clean(point)
	for i := len(mounts) - 1; i >= 0; i-- {
		if mounts[i].point == point {
			return &mounts[i]
		}
	}
	return nil
}

// mountCovering is the mount that path lives on (the longest mount point that is a prefix).
func mountCovering(path string) *mountInfo {
	path = filepath.Clean(path)
	var best *mountInfo
	for i := range mounts {
		p := mounts[i].point
		if p == path || p == "/" || strings.HasPrefix(path, p+"/") {
			if best == nil || len(p) >= len(best.point) {
				best = &mounts[i]
			}
		}
	}
	return best
}

func hasOptional(m *mountInfo, prefix string) bool {
	for _, o := range m.optional {
		if strings.HasPrefix(o, prefix) {
			return true
		}
	}
	return false
}

func parseSize(s string) (uint64, bool) {
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "m"), strings.HasSuffix(s, "M"):
		mult, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "g"), strings.HasSuffix(s, "G"):
		mult, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n * mult, err == nil
}

func octal(s string) string {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return s
	}
	return strconv.FormatUint(n, 8)
}

func checkMounts() {
	userns := hasUserNS()
	for _, m := range cfg.Mounts {
		desc := fmt.Sprintf("mount %s (%s %s)", m.Destination, m.Type, strings.Join(m.Options, ","))
		mi := mountAt(m.Destination)
		if mi == nil {
			report("mounts", false, desc, "nothing mounted there")
			continue
		}
		var problems []string
		isBind := m.Type == "bind"
		for _, o := range m.Options {
			if o == "bind" || o == "rbind" {
				isBind = true
			}
		}
		switch {
		case isBind:
		case m.Type == "cgroup":
			if mi.fstype != "tmpfs" && mi.fstype != "cgroup" && mi.fstype != "cgroup2" {
				problems = append(problems, "fstype "+mi.fstype)
			}
		case mi.fstype != m.Type:
			problems = append(problems, "fstype "+mi.fstype)
		}
		atime := ""
		for _, o := range m.Options {
			switch o {
			case "ro", "nosuid", "nodev", "noexec", "noatime", "nodiratime", "relatime":
				if !mi.opts[o] {
					problems = append(problems, "no "+o)
				}
				if o == "noatime" || o == "relatime" {
					atime = o
				}
			case "rw":
				if !mi.opts["rw"] {
					problems = append(problems, "not rw")
				}
			case "suid", "dev", "exec":
				if mi.opts["no"+o] {
					problems = append(problems, "has no"+o)
				}
			case "strictatime":
				atime = o
				if mi.opts["relatime"] || mi.opts["noatime"] {
					problems = append(problems, "not strictatime")
				}
			case "shared", "rshared":
				if !hasOptional(mi, "shared:") {
					problems = append(problems, "not shared")
				}
			case "private", "rprivate":
				if hasOptional(mi, "shared:") || hasOptional(mi, "master:") {
					problems = append(problems, fmt.Sprintf("propagation %v", mi.optional))
				}
			case "slave", "rslave":
				if hasOptional(mi, "shared:") {
					problems = append(problems, fmt.Sprintf("propagation %v", mi.optional))
				}
			case "unbindable", "runbindable":
				if !hasOptional(mi, "unbindable") {
					problems = append(problems, "not unbindable")
				}
			default:
				k, v, kv := strings.Cut(o, "=")
				if !kv {
					continue // flags the kernel does not show (newinstance, bind, ...)
				}
				if isBind {
					continue // data: mount(2) ignores it on a bind, which shows the source's filesystem
				}
				switch k {
				case "mode", "ptmxmode":
					got, ok := mi.super[k]
					if !ok && k == "mode" && mi.fstype == "tmpfs" {
						got, ok = "1777", true // tmpfs does not show its default mode
					}
					if !ok || octal(got) != octal(v) {
						problems = append(problems, fmt.Sprintf("%s=%s", k, got))
					}
				case "size":
					want, ok1 := parseSize(v)
					got, ok2 := parseSize(mi.super[k])
					if !ok1 || !ok2 || want != got {
						problems = append(problems, fmt.Sprintf("size=%s", mi.super[k]))
					}
				case "uid", "gid":
					if userns {
						continue // shown as the host's id for some filesystems
					}
					if mi.super[k] != v {
						problems = append(problems, fmt.Sprintf("%s=%s", k, mi.super[k]))
					}
				}
			}
		}
		_ = atime
		if content, ok := exp.Markers[m.Destination]; ok {
			path := filepath.Join(m.Destination, "marker")
			if st, err := os.Stat(m.Destination); err == nil && !st.IsDir() {
				path = m.Destination
			}
			data, err := os.ReadFile(path)
			if err != nil || string(data) != content {
				problems = append(problems, fmt.Sprintf("marker %s: %q %v", path, data, err))
			}
		}
		report("mounts", len(problems) == 0, desc, "got "+strings.Join(problems, ", ")+
			fmt.Sprintf(" [%s %s %v]", mi.fstype, keys(mi.opts), mi.super))
	}
}

func keys(m map[string]bool) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

func checkMasked() {
	if cfg.Linux == nil {
		return
	}
	for _, p := range cfg.Linux.MaskedPaths {
		st, err := os.Lstat(p)
		if os.IsNotExist(err) {
			report("masked", true, p+" is masked (absent)", "")
			continue
		}
		if err != nil {
			report("masked", false, p+" is masked", err.Error())
			continue
		}
		if st.IsDir() {
			entries, err := os.ReadDir(p)
			report("masked", err == nil && len(entries) == 0, p+" is masked (empty directory)",
				fmt.Sprintf("%d entries (%v)", len(entries), err))
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			// An unreadable mask also hides the content.
			report("masked", err != nil, p+" is masked (cannot be read)", "")
			continue
		}
		buf := make([]byte, 16)
		n, _ := f.Read(buf)
		f.Close()
		report("masked", n == 0, p+" is masked (reads empty)", fmt.Sprintf("read %q", buf[:n]))
	}
}

func checkReadonly() {
	if cfg.Linux == nil {
		return
	}
	for _, p := range cfg.Linux.ReadonlyPaths {
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			report("readonly", true, p+" is read-only (absent)", "")
			continue
		}
		m := mountCovering(p)
		if m == nil {
			report("readonly", false, p+" is read-only", "no mount covers it")
			continue
		}
		report("readonly", m.opts["ro"], p+" is read-only", fmt.Sprintf("mount %s is %s", m.point, keys(m.opts)))
	}
}

func checkRoot() {
	m := mountAt("/")
	if m == nil {
		report("root", false, "root mount", "no mount at /")
		return
	}
	ro := cfg.Root != nil && cfg.Root.Readonly
	if ro {
		report("root", m.opts["ro"], "root filesystem is read-only (root.readonly)", "mount options "+keys(m.opts))
	} else {
		report("root", m.opts["rw"], "root filesystem is read-write (root.readonly false)", "mount options "+keys(m.opts))
	}
}

func checkPropagation() {
	if cfg.Linux == nil || cfg.Linux.RootfsPropagation == "" {
		return
	}
	m := mountAt("/")
	if m == nil {
		report("propagation", false, "root mount", "no mount at /")
		return
	}
	p := strings.TrimPrefix(cfg.Linux.RootfsPropagation, "r")
	shared, master, unbindable := hasOptional(m, "shared:"), hasOptional(m, "master:"), hasOptional(m, "unbindable")
	var ok bool
	switch p {
	case "shared":
		ok = shared
	case "slave":
		ok = !shared && !unbindable
	case "private":
		ok = !shared && !master && !unbindable
	case "unbindable":
		ok = unbindable
	}
	report("propagation", ok, "root mount propagation is "+cfg.Linux.RootfsPropagation,
		fmt.Sprintf("optional fields %v", m.optional))
}

// ---------------------------------------------------------------------------------------------
// /proc/self/status

func procStatus() (map[string]string, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	res := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			res[k] = strings.TrimSpace(v)
		}
	}
	return res, nil
}

// ---------------------------------------------------------------------------------------------
// other modes

// hookMode: checker hook NAME LOGFILE — appends one JSON line with the state read on stdin and
// the namespaces the hook ran in.
func hookMode(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: checker hook NAME LOGFILE")
		return 2
	}
	data, _ := readAll(os.Stdin)
	rec := map[string]interface{}{"hook": args[0], "stdin": string(data), "pid": os.Getpid()}
	for _, ns := range []string{"mnt", "pid", "net", "uts"} {
		if ino, err := procfs.NsInode("/proc/self/ns/" + ns); err == nil {
			rec["ns_"+ns] = ino
		}
	}
	return appendJSON(args[1], rec)
}

// logMode: checker log LOGFILE — the container process's own entry in the hooks log.
func logMode(args []string) int {
	if len(args) < 1 {
		return 2
	}
	return appendJSON(args[0], map[string]interface{}{"hook": "process", "pid": os.Getpid()})
}

func appendJSON(path string, rec map[string]interface{}) int {
	line, _ := json.Marshal(rec)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0666)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func readAll(f *os.File) ([]byte, error) {
	var buf []byte
	tmp := make([]byte, 4096)
	for {
		n, err := f.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if err != nil || n == 0 {
			return buf, nil
		}
	}
}

// signalMode prints "ready" once its handler is installed, then the first signal it gets.
func signalMode() int {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGHUP)
	fmt.Println("ready")
	select {
	case s := <-ch:
		fmt.Printf("got signal %d\n", s.(syscall.Signal))
		return 0
	case <-time.After(30 * time.Second):
		fmt.Println("no signal")
		return 1
	}
}
