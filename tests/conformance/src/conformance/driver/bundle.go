package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"conformance/expect"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
)

const busybox = "/bin/busybox"

var applets = []string{"sh", "sleep", "true", "false", "cat", "echo", "touch", "ls"}

// Bundle is one bundle directory: rootfs/ with busybox, the checker at /conformance/checker,
// and a config.json made with runtime-tools' generate package.
type Bundle struct {
	Dir, Rootfs string
	G           *generate.Generator
	Exp         expect.Expect
	ID          string
}

var bundleSeq int

// NewBundle makes a bundle whose process is the checker in check mode, from generate's Linux
// defaults (which include runtime-tools' default seccomp profile).
func NewBundle(t *T) *Bundle {
	bundleSeq++
	dir := filepath.Join(work, fmt.Sprintf("b%03d", bundleSeq))
	b := &Bundle{Dir: dir, Rootfs: filepath.Join(dir, "rootfs"), ID: fmt.Sprintf("conf-%s-%03d", runID, bundleSeq)}
	for _, d := range []string{"bin", "proc", "sys", "dev", "tmp", "etc", "mnt", "conformance"} {
		must(os.MkdirAll(filepath.Join(b.Rootfs, d), 0755))
	}
	os.Chmod(dir, 0755)
	os.Chmod(b.Rootfs, 0755)
	os.Chmod(filepath.Join(b.Rootfs, "tmp"), 01777)
	os.Chmod(filepath.Join(b.Rootfs, "conformance"), 0777) // hooks log, written by non-root users too
	must(copyFile(busybox, filepath.Join(b.Rootfs, "bin", "busybox"), 0755))
	for _, a := range applets {
		must(os.Symlink("busybox", filepath.Join(b.Rootfs, "bin", a)))
	}
	must(copyFile(checker, filepath.Join(b.Rootfs, "conformance", "checker"), 0755))
	g, err := generate.New("linux")
	must(err)
	g.SetRootPath("rootfs")
	g.SetProcessArgs([]string{"/conformance/checker", "check"})
	g.SetHostname("conformance")
	// generate's defaults carry runtime-tools' default seccomp profile; it is tested on its own
	// (baseline and seccomp cases) and left out elsewhere, so that one seccomp problem does not
	// hide every other result.
	g.Config.Linux.Seccomp = nil
	b.G = &g
	b.Exp = expect.Expect{HostNS: host.NS, LastCap: host.LastCap, Skip: map[string]string{}}
	return b
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	// A hard link when possible: cheap, and no container case writes to these files.
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, mode)
}

// Config is the generator's spec.
func (b *Bundle) Config() *rspec.Spec { return b.G.Config }

// Save writes config.json, and the copies the checker reads: rootfs/conformance/config.json
// and expect.json.
func (b *Bundle) Save() {
	must(b.G.SaveToFile(filepath.Join(b.Dir, "config.json"), generate.ExportOptions{}))
	data, err := os.ReadFile(filepath.Join(b.Dir, "config.json"))
	must(err)
	must(os.WriteFile(filepath.Join(b.Rootfs, "conformance", "config.json"), data, 0644))
	e, err := json.MarshalIndent(b.Exp, "", "  ")
	must(err)
	must(os.WriteFile(filepath.Join(b.Rootfs, "conformance", "expect.json"), e, 0644))
}

// SaveRaw writes config.json from an arbitrary JSON value (for configs generate cannot express).
func (b *Bundle) SaveRaw(v interface{}) {
	data, err := json.MarshalIndent(v, "", "  ")
	must(err)
	must(os.WriteFile(filepath.Join(b.Dir, "config.json"), data, 0644))
	must(os.WriteFile(filepath.Join(b.Rootfs, "conformance", "config.json"), data, 0644))
	e, _ := json.MarshalIndent(b.Exp, "", "  ")
	must(os.WriteFile(filepath.Join(b.Rootfs, "conformance", "expect.json"), e, 0644))
}

// RawConfig is the generator's config as a generic JSON map, for edits generate cannot make.
func (b *Bundle) RawConfig() map[string]interface{} {
	data, err := json.Marshal(b.G.Config)
	must(err)
	var m map[string]interface{}
	must(json.Unmarshal(data, &m))
	return m
}

func (b *Bundle) Output() string {
	data, _ := os.ReadFile(filepath.Join(b.Dir, "out.log"))
	return string(data)
}

func (b *Bundle) Errors() string {
	data, _ := os.ReadFile(filepath.Join(b.Dir, "err.log"))
	return string(data)
}

// RunResult is what running a bundle to completion produced.
type RunResult struct {
	Create, Start, Delete Result
	Status                string // the last status seen before delete
	Output                string
}

// Run drives create, start, state (polled until stopped), delete, and returns the outcome.
// Failures of the lifecycle steps are reported; the container's output is returned.
func (b *Bundle) Run(t *T) (RunResult, bool) {
	var rr RunResult
	rr.Create = rt.Create(b, b.ID, "")
	if !t.Ok(rr.Create.OK(), "create succeeds", "%s | container stderr: %s", rr.Create, b.Errors()) {
		return rr, false
	}
	rr.Start = rt.Start(b.ID)
	if !t.Ok(rr.Start.OK(), "start succeeds", "%s | container stderr: %s", rr.Start, b.Errors()) {
		rt.Delete(b.ID, true)
		return rr, false
	}
	var ok bool
	rr.Status, ok = rt.WaitStatus(b.ID, 15*time.Second, "stopped")
	if !t.Ok(ok, "container process runs to completion (state: stopped)", "last status %q", rr.Status) {
		rt.Delete(b.ID, true)
		return rr, false
	}
	rr.Delete = rt.Delete(b.ID, false)
	t.Ok(rr.Delete.OK(), "delete of the stopped container succeeds", "%s", rr.Delete)
	rr.Output = b.Output()
	return rr, true
}

// RunChecker runs the bundle (whose process is the checker) and turns the checker's report into
// TAP results: lines of the focus groups one by one, every other group as one aggregate line
// (the checker verifies the whole config in every case).
func (b *Bundle) RunChecker(t *T, focus ...string) {
	b.Save()
	rr, ok := b.Run(t)
	if !ok {
		return
	}
	CollectChecker(t, rr.Output, b.Errors(), focus...)
}

// CollectChecker parses the checker's TAP lines.
func CollectChecker(t *T, output, stderr string, focus ...string) {
	isFocus := func(line string) bool {
		for _, f := range focus {
			if strings.Contains(line, "["+f+"]") {
				return true
			}
		}
		return false
	}
	done := false
	otherPass, otherSkip := 0, 0
	var otherFail []string
	for _, line := range strings.Split(output, "\n") {
		switch {
		case line == "# checker: done":
			done = true
		case strings.HasPrefix(line, "ok - ") || strings.HasPrefix(line, "not ok - "):
			pass := strings.HasPrefix(line, "ok - ")
			body := strings.TrimPrefix(strings.TrimPrefix(line, "ok - "), "not ok - ")
			desc, detail, _ := strings.Cut(body, " # ")
			skip := pass && strings.HasPrefix(detail, "SKIP ")
			if isFocus(body) {
				switch {
				case skip:
					t.Skip("inside: "+desc, strings.TrimPrefix(detail, "SKIP "))
				default:
					t.Ok(pass, "inside: "+desc, "%s", detail)
				}
				continue
			}
			switch {
			case skip:
				otherSkip++
			case pass:
				otherPass++
			default:
				otherFail = append(otherFail, body)
			}
		}
	}
	t.Ok(done, "inside: the checker ran to the end", "output: %q stderr: %q", tail(output, 800), tail(stderr, 800))
	if otherPass+len(otherFail) > 0 {
		t.Ok(len(otherFail) == 0, fmt.Sprintf("inside: the rest of the config is honoured (%d checks)", otherPass+len(otherFail)),
			"%s", strings.Join(otherFail, " | "))
	}
	_ = otherSkip
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// withUserNS adds a user namespace mapping container ids 0..65535 to host ids 100000.. .
func withUserNS(b *Bundle) {
	must(b.G.AddOrReplaceLinuxNamespace("user", ""))
	b.G.AddLinuxUIDMapping(100000, 0, 65536)
	b.G.AddLinuxGIDMapping(100000, 0, 65536)
}
