package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
)

type hookRecord struct {
	Hook  string `json:"hook"`
	Stdin string `json:"stdin"`
	Pid   int    `json:"pid"`
	NSMnt uint64 `json:"ns_mnt"`
	state rspec.State
}

func readHookLog(b *Bundle) []hookRecord {
	data, _ := os.ReadFile(filepath.Join(b.Rootfs, "conformance", "hooks.log"))
	var recs []hookRecord
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var r hookRecord
		if json.Unmarshal([]byte(line), &r) == nil {
			json.Unmarshal([]byte(r.Stdin), &r.state)
			recs = append(recs, r)
		}
	}
	return recs
}

func hookNames(recs []hookRecord, withProcess bool) []string {
	var names []string
	for _, r := range recs {
		if r.Hook == "process" && !withProcess {
			continue
		}
		names = append(names, r.Hook)
	}
	return names
}

// Hook helpers: host-side hooks run the checker through its host path; startContainer hooks
// resolve in the container, so they use /conformance/checker.
func logHook(b *Bundle, name string, inContainer bool) rspec.Hook {
	if inContainer {
		return rspec.Hook{Path: "/conformance/checker", Args: []string{"checker", "hook", name, "/conformance/hooks.log"}}
	}
	return rspec.Hook{Path: filepath.Join(b.Rootfs, "conformance", "checker"),
		Args: []string{"checker", "hook", name, filepath.Join(b.Rootfs, "conformance", "hooks.log")},
		Env:  []string{"CONFORMANCE_HOOK=" + name}}
}

func failHook(b *Bundle, inContainer bool) rspec.Hook {
	if inContainer {
		return rspec.Hook{Path: "/bin/busybox", Args: []string{"false"}}
	}
	return rspec.Hook{Path: filepath.Join(b.Rootfs, "bin", "busybox"), Args: []string{"false"}}
}

func hooksOf(b *Bundle) *rspec.Hooks {
	if b.G.Config.Hooks == nil {
		b.G.Config.Hooks = &rspec.Hooks{}
	}
	return b.G.Config.Hooks
}

var hookKinds = []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}

func addHooks(b *Bundle, kind string, hooks ...rspec.Hook) {
	h := hooksOf(b)
	switch kind {
	case "prestart":
		h.Prestart = append(h.Prestart, hooks...)
	case "createRuntime":
		h.CreateRuntime = append(h.CreateRuntime, hooks...)
	case "createContainer":
		h.CreateContainer = append(h.CreateContainer, hooks...)
	case "startContainer":
		h.StartContainer = append(h.StartContainer, hooks...)
	case "poststart":
		h.Poststart = append(h.Poststart, hooks...)
	case "poststop":
		h.Poststop = append(h.Poststop, hooks...)
	}
}

func init() {
	register("hooks", "order, timing, state on stdin", hooksOrder)
	for _, kind := range []string{"prestart", "createRuntime", "createContainer"} {
		kind := kind
		register("hooks", kind+" failure", func(t *T) { hookFailsAtCreate(t, kind) })
	}
	register("hooks", "startContainer failure", hookStartContainerFails)
	register("hooks", "poststart failure", hookPoststartFails)
	register("hooks", "poststop failure", hookPoststopFails)
	register("hooks", "timeout", func(t *T) {
		b := NewBundle(t)
		one := 1
		addHooks(b, "prestart", rspec.Hook{Path: filepath.Join(b.Rootfs, "bin", "busybox"), Args: []string{"sleep", "10"}, Timeout: &one})
		b.Save()
		start := time.Now()
		res := rt.Create(b, b.ID, "")
		took := time.Since(start)
		t.Ok(!res.OK(), "create errors when a prestart hook exceeds its timeout", "%s", res)
		t.Ok(took < 8*time.Second, "the hook is stopped at its timeout (1s)", "create took %v", took)
		if res.OK() {
			rt.Delete(b.ID, true)
		}
		t.Ok(stateGone(b.ID), "and no container is left", "state still answers")
	})
}

func hooksOrder(t *T) {
	b := NewBundle(t)
	b.G.SetProcessArgs([]string{"/conformance/checker", "log", "/conformance/hooks.log"})
	b.G.AddAnnotation("org.example.conformance.hooks", "stdin")
	for _, kind := range hookKinds {
		addHooks(b, kind, logHook(b, kind+".1", kind == "startContainer"), logHook(b, kind+".2", kind == "startContainer"))
	}
	b.Save()
	res := rt.Create(b, b.ID, "")
	if !t.Ok(res.OK(), "create succeeds", "%s", res) {
		return
	}
	st, _, _ := rt.State(b.ID)
	afterCreate := hookNames(readHookLog(b), true)
	want := []string{"prestart.1", "prestart.2", "createRuntime.1", "createRuntime.2", "createContainer.1", "createContainer.2"}
	t.Ok(reflect.DeepEqual(afterCreate, want), "create runs prestart, createRuntime, createContainer hooks in order, before it returns",
		"log after create: %v", afterCreate)
	res = rt.Start(b.ID)
	t.Ok(res.OK(), "start succeeds", "%s", res)
	afterStart := hookNames(readHookLog(b), false)
	want = append(want, "startContainer.1", "startContainer.2", "poststart.1", "poststart.2")
	t.Ok(reflect.DeepEqual(afterStart, want), "start runs startContainer, then poststart hooks in order, before it returns",
		"hooks after start: %v", afterStart)
	status, _ := rt.WaitStatus(b.ID, 10*time.Second, "stopped")
	t.Ok(status == "stopped", "the process exits", "status %q", status)
	all := hookNames(readHookLog(b), true)
	pi := indexOf(all, "process")
	t.Ok(pi > indexOf(all, "startContainer.2") && indexOf(all, "startContainer.2") >= 0, "startContainer hooks run before the user process", "log: %v", all)
	t.Ok(!contains(all, "poststop.1"), "no poststop hook before delete", "log: %v", all)
	res = rt.Delete(b.ID, false)
	t.Ok(res.OK(), "delete succeeds", "%s", res)
	recs := readHookLog(b)
	all = hookNames(recs, false)
	want = append(want, "poststop.1", "poststop.2")
	t.Ok(reflect.DeepEqual(all, want), "delete runs poststop hooks in order, before it returns", "log: %v", all)

	// The state each hook got on stdin.
	wantStatus := map[string][]string{
		"prestart": {"creating", "created"}, "createRuntime": {"creating", "created"}, "createContainer": {"creating", "created"},
		"startContainer": {"created"}, "poststart": {"running"}, "poststop": {"stopped"},
	}
	for _, kind := range hookKinds {
		var r *hookRecord
		for i := range recs {
			if recs[i].Hook == kind+".1" {
				r = &recs[i]
			}
		}
		if !t.Ok(r != nil, kind+": hook ran", "log %v", all) {
			continue
		}
		s := r.state
		problems := []string{}
		if s.ID != b.ID {
			problems = append(problems, fmt.Sprintf("id %q", s.ID))
		}
		if s.Bundle != b.Dir {
			problems = append(problems, fmt.Sprintf("bundle %q", s.Bundle))
		}
		if s.Version == "" {
			problems = append(problems, "no ociVersion")
		}
		if !contains(wantStatus[kind], string(s.Status)) {
			problems = append(problems, fmt.Sprintf("status %q (want %v)", s.Status, wantStatus[kind]))
		}
		if s.Annotations["org.example.conformance.hooks"] != "stdin" {
			problems = append(problems, fmt.Sprintf("annotations %v", s.Annotations))
		}
		if (kind == "prestart" || kind == "createRuntime" || kind == "poststart") && s.Pid != st.Pid {
			problems = append(problems, fmt.Sprintf("pid %d, container pid %d", s.Pid, st.Pid))
		}
		t.Ok(len(problems) == 0, fmt.Sprintf("%s: state JSON on stdin (id, bundle, status %v, pid, annotations)", kind, wantStatus[kind]),
			"%s; stdin %q", strings.Join(problems, ", "), r.Stdin)
		inRuntimeNS := r.NSMnt == host.NS["mnt"]
		switch kind {
		case "createContainer", "startContainer":
			t.Ok(!inRuntimeNS, kind+": runs in the container's mount namespace", "ran in the runtime's")
		default:
			t.Ok(inRuntimeNS, kind+": runs in the runtime's mount namespace", "mnt ns %d, runtime's %d", r.NSMnt, host.NS["mnt"])
		}
	}
}

func hookFailsAtCreate(t *T, kind string) {
	b := NewBundle(t)
	b.G.SetProcessArgs([]string{"/conformance/checker", "log", "/conformance/hooks.log"})
	inContainer := false
	addHooks(b, kind, failHook(b, inContainer), logHook(b, kind+".after-failure", inContainer))
	b.Save()
	res := rt.Create(b, b.ID, "")
	t.Ok(!res.OK(), "create errors when a "+kind+" hook fails", "%s", res)
	if res.OK() {
		rt.Start(b.ID)
		rt.WaitStatus(b.ID, 5*time.Second, "stopped")
		rt.Delete(b.ID, true)
	}
	t.Ok(stateGone(b.ID), "the container is stopped and destroyed", "state still answers")
	all := hookNames(readHookLog(b), true)
	t.Ok(!contains(all, "process"), "the user process never runs", "log %v", all)
}

func hookStartContainerFails(t *T) {
	b := NewBundle(t)
	b.G.SetProcessArgs([]string{"/conformance/checker", "log", "/conformance/hooks.log"})
	addHooks(b, "startContainer", failHook(b, true))
	b.Save()
	if !t.Ok(rt.Create(b, b.ID, "").OK(), "create succeeds", "%s", b.Errors()) {
		return
	}
	res := rt.Start(b.ID)
	t.Ok(!res.OK(), "start errors when a startContainer hook fails", "%s", res)
	status, ok := rt.WaitStatus(b.ID, 10*time.Second, "stopped", "")
	t.Ok(ok, "the container is stopped (or destroyed)", "status %q", status)
	all := hookNames(readHookLog(b), true)
	t.Ok(!contains(all, "process"), "the user process never runs", "log %v", all)
	rt.Delete(b.ID, true)
}

func hookPoststartFails(t *T) {
	// runtime.md lifecycle (runtime-spec 1.3), start step 9: "If any poststart hook fails, the
	// runtime MUST generate an error, stop the container, and continue the lifecycle at step
	// 12": the container is destroyed as delete would, and the poststop hooks run (step 13).
	b := NewBundle(t)
	b.G.SetProcessArgs([]string{"/conformance/checker", "log", "/conformance/hooks.log"})
	addHooks(b, "poststart", failHook(b, false), logHook(b, "poststart.after-failure", false))
	addHooks(b, "poststop", logHook(b, "poststop.1", false))
	b.Save()
	if !t.Ok(rt.Create(b, b.ID, "").OK(), "create succeeds", "%s", b.Errors()) {
		return
	}
	res := rt.Start(b.ID)
	t.Ok(!res.OK(), "start errors when a poststart hook fails", "%s", res)
	all := hookNames(readHookLog(b), true)
	t.Ok(!contains(all, "poststart.after-failure"), "the poststart hooks after the failing one do not run", "log %v", all)
	t.Ok(contains(all, "poststop.1"), "the lifecycle continues at destroy: poststop hooks run", "log %v", all)
	t.Ok(stateGone(b.ID), "the container is destroyed", "state still answers")
	rt.Delete(b.ID, true)
}

func hookPoststopFails(t *T) {
	b := NewBundle(t)
	b.G.SetProcessArgs([]string{"/conformance/checker", "log", "/conformance/hooks.log"})
	addHooks(b, "poststop", failHook(b, false), logHook(b, "poststop.after-failure", false))
	b.Save()
	if !t.Ok(rt.Create(b, b.ID, "").OK(), "create succeeds", "%s", b.Errors()) {
		return
	}
	t.Ok(rt.Start(b.ID).OK(), "start succeeds", "")
	rt.WaitStatus(b.ID, 10*time.Second, "stopped")
	res := rt.Delete(b.ID, false)
	t.Ok(res.OK(), "delete succeeds although a poststop hook fails (a warning only)", "%s", res)
	all := hookNames(readHookLog(b), true)
	t.Ok(contains(all, "poststop.after-failure"), "the remaining poststop hooks run", "log %v", all)
	t.Ok(stateGone(b.ID), "the container is gone", "state still answers")
	rt.Delete(b.ID, true)
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func contains(list []string, s string) bool { return indexOf(list, s) >= 0 }
