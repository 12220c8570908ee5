// Package expect is what the driver tells the in-container checker beyond config.json: facts
// about the host that the container cannot see (the runtime's namespace inodes, the inode a
// joined namespace must have), probes to run, and checks to report as skipped with the reason.
package expect

// Dir is where the driver puts the checker, config.json and expect.json inside the rootfs.
const Dir = "/conformance"

// Probe asks the checker to make one raw system call and compare its errno.
type Probe struct {
	Name  string     `json:"name"` // what the TAP line says
	Nr    uintptr    `json:"nr"`   // syscall number (x86_64)
	Args  [3]uintptr `json:"args"`
	Errno int        `json:"errno"` // 0: must succeed
}

// DeviceProbe asks the checker to mknod (when the node is missing) and open a device node.
type DeviceProbe struct {
	Path   string `json:"path"`
	Type   string `json:"type"` // "c" or "b"
	Major  uint32 `json:"major"`
	Minor  uint32 `json:"minor"`
	Write  bool   `json:"write"`  // open O_WRONLY instead of O_RDONLY
	Denied bool   `json:"denied"` // the device cgroup must refuse the open (EPERM)
}

// Expect is written to <rootfs>/conformance/expect.json.
type Expect struct {
	// Namespace inodes of the runtime (the driver), by /proc/self/ns name (pid, net, mnt, ...).
	HostNS map[string]uint64 `json:"hostNS"`
	// For namespaces joined by path: the inode the container's namespace must have.
	PathNS map[string]uint64 `json:"pathNS,omitempty"`
	// Groups of checks to run ("all" when empty) and checks to skip: key -> reason.
	Groups []string          `json:"groups,omitempty"`
	Skip   map[string]string `json:"skip,omitempty"`
	// Files the driver put at bind-mount sources: destination path in the container -> content.
	Markers map[string]string `json:"markers,omitempty"`
	// Raw system calls whose result the seccomp profile decides.
	Probes []Probe `json:"probes,omitempty"`
	// Device nodes to open under the device cgroup.
	DeviceProbes []DeviceProbe `json:"deviceProbes,omitempty"`
	// Check the default devices and filesystems the runtime-spec requires.
	Defaults bool `json:"defaults,omitempty"`
	// The host's last capability (cap_last_cap): caps above it cannot be in any set.
	LastCap int `json:"lastCap"`
	// Capability names in the config that the runtime leaves out: unknown to it and the kernel
	// (config.md: the runtime SHOULD NOT fail for them).
	LeftOutCaps []string `json:"leftOutCaps,omitempty"`
}
