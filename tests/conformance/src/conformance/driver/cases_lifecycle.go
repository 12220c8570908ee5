package main

import (
	"encoding/json"
	"fmt"
	"github.com/blang/semver"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func waitOutput(b *Bundle, substr string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(b.Output(), substr) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func stateGone(id string) bool {
	_, res, err := rt.State(id)
	return err != nil && !res.OK()
}

func init() {
	register("lifecycle", "create without ID", func(t *T) {
		b := NewBundle(t)
		b.Save()
		before := rt.ListLeft()
		res := rt.Create(b, "", "")
		t.Ok(!res.OK(), "create without a container ID errors", "%s", res)
		after := rt.ListLeft()
		t.Ok(len(after) == len(before), "no container was created", "state root: %v", after)
	})

	register("lifecycle", "unknown ID", func(t *T) {
		id := "conf-" + runID + "-does-not-exist"
		for _, c := range []struct {
			name string
			res  Result
		}{
			{"state", rt.StateR(id)}, {"start", rt.Start(id)}, {"kill", rt.Kill(id, "KILL")},
			{"delete", rt.Delete(id, false)},
		} {
			t.Ok(!c.res.OK(), c.name+" of an unknown container ID errors", "%s", c.res)
		}
		res := rt.run("", nil, nil, "state")
		t.Ok(!res.OK(), "state without a container ID errors", "%s", res)
		res = rt.run("", nil, nil, "start")
		t.Ok(!res.OK(), "start without a container ID errors", "%s", res)
		res = rt.run("", nil, nil, "delete")
		t.Ok(!res.OK(), "delete without a container ID errors", "%s", res)
		res = rt.run("", nil, nil, "kill")
		t.Ok(!res.OK(), "kill without a container ID errors", "%s", res)
	})

	register("lifecycle", "create with a missing bundle", func(t *T) {
		b := &Bundle{Dir: filepath.Join(work, "no-such-bundle"), ID: fmt.Sprintf("conf-%s-nobundle", runID)}
		os.MkdirAll(b.Dir, 0755)
		res := rt.Create(b, b.ID, "")
		t.Ok(!res.OK(), "create of a bundle without config.json errors", "%s", res)
		t.Ok(stateGone(b.ID), "and no container exists", "state works")
	})

	register("lifecycle", "full lifecycle", lifecycleFull)

	register("lifecycle", "kill a created container", func(t *T) {
		b := NewBundle(t)
		b.G.SetProcessArgs([]string{"/conformance/checker", "sleep", "30"})
		b.Save()
		if !t.Ok(rt.Create(b, b.ID, "").OK(), "create succeeds", "%s", b.Errors()) {
			return
		}
		st, _, _ := rt.State(b.ID)
		res := rt.Kill(b.ID, "KILL")
		t.Ok(res.OK(), "kill KILL of a created container succeeds", "%s", res)
		status, ok := rt.WaitStatus(b.ID, 10*time.Second, "stopped")
		t.Ok(ok, "the container is stopped after kill", "status %q", status)
		res = rt.Delete(b.ID, false)
		t.Ok(res.OK(), "delete of the stopped container succeeds", "%s", res)
		t.Ok(st.Pid > 0 && !processAlive(st.Pid), "its process is gone", "pid %d", st.Pid)
	})

	register("lifecycle", "delete a created container", func(t *T) {
		b := NewBundle(t)
		b.G.SetProcessArgs([]string{"/conformance/checker", "sleep", "30"})
		b.Save()
		if !t.Ok(rt.Create(b, b.ID, "").OK(), "create succeeds", "%s", b.Errors()) {
			return
		}
		st, _, _ := rt.State(b.ID)
		res := rt.Delete(b.ID, false)
		// runtime-spec: deleting a container that is not stopped MUST error. runc and crun
		// destroy a never-started container instead (containerd's shim deletes such containers
		// without --force); crun-lite follows them on purpose: asserted as that deviation.
		t.Ok(res.OK(), "delete without --force of a created container destroys it (deliberate deviation from runtime-spec, as runc and crun)", "%s", res)
		t.Ok(stateGone(b.ID), "the container is gone", "state still answers")
		reapChildren()
		gone := false
		for i := 0; i < 100 && !gone; i++ {
			gone = !processAlive(st.Pid)
			time.Sleep(20 * time.Millisecond)
		}
		t.Ok(gone, "its process is gone", "pid %d alive", st.Pid)
	})

	register("lifecycle", "delete --force a running container", func(t *T) {
		b := NewBundle(t)
		b.G.SetProcessArgs([]string{"/conformance/checker", "sleep", "30"})
		b.Save()
		if !t.Ok(rt.Create(b, b.ID, "").OK(), "create succeeds", "%s", b.Errors()) {
			return
		}
		t.Ok(rt.Start(b.ID).OK(), "start succeeds", "")
		st, _, _ := rt.State(b.ID)
		res := rt.Delete(b.ID, true)
		t.Ok(res.OK(), "delete --force of a running container succeeds", "%s", res)
		t.Ok(stateGone(b.ID), "the container is gone", "state still answers")
		reapChildren()
		gone := false
		for i := 0; i < 100 && !gone; i++ {
			gone = !processAlive(st.Pid)
			time.Sleep(20 * time.Millisecond)
		}
		t.Ok(gone, "its process is gone", "pid %d alive", st.Pid)
	})

	register("lifecycle", "config without process", func(t *T) {
		// config.md: process is OPTIONAL in config.json and "REQUIRED when start is called";
		// runtime.md: start "MUST generate an error if process was not set". So create succeeds
		// and start errors.
		b := NewBundle(t)
		raw := b.RawConfig()
		delete(raw, "process")
		b.SaveRaw(raw)
		res := rt.Create(b, b.ID, "")
		if !t.Ok(res.OK(), "create of a config without process succeeds (config.md: process is OPTIONAL)", "%s", res) {
			return
		}
		res = rt.Start(b.ID)
		t.Ok(!res.OK(), "start of a container without process errors (runtime.md start)", "%s", res)
		rt.Delete(b.ID, true)
		t.Ok(stateGone(b.ID), "delete --force removes it", "state still answers")
	})

	register("lifecycle", "config changes after create", func(t *T) {
		b := NewBundle(t)
		b.G.SetProcessArgs([]string{"/conformance/checker", "check", "original"})
		b.G.SetHostname("before-create")
		b.Save()
		if !t.Ok(rt.Create(b, b.ID, "").OK(), "create succeeds", "%s", b.Errors()) {
			return
		}
		g := *b.G.Config
		p := *g.Process
		p.Args = []string{"/bin/false"}
		g.Process = &p
		g.Hostname = "after-create"
		data, _ := json.Marshal(g)
		os.WriteFile(filepath.Join(b.Dir, "config.json"), data, 0644)
		t.Ok(rt.Start(b.ID).OK(), "start succeeds", "%s", b.Errors())
		status, _ := rt.WaitStatus(b.ID, 10*time.Second, "stopped")
		t.Ok(status == "stopped", "the container stops", "status %q", status)
		rt.Delete(b.ID, false)
		CollectChecker(t, b.Output(), b.Errors(), "args", "hostname")
	})
}

func lifecycleFull(t *T) {
	b := NewBundle(t)
	b.G.SetProcessArgs([]string{"/conformance/checker", "signal"})
	b.G.AddAnnotation("org.example.conformance", "lifecycle")
	b.Save()
	pidFile := filepath.Join(b.Dir, "container.pid")
	res := rt.Create(b, b.ID, pidFile)
	if !t.Ok(res.OK(), "create --pid-file F --bundle DIR ID succeeds", "%s", res) {
		return
	}
	st, sres, err := rt.State(b.ID)
	if !t.Ok(err == nil, "state of the created container", "%v", err) {
		return
	}
	t.Ok(st.Status == "created", "status is created after create", "status %q", st.Status)
	errs, serr := schemaErrors("state-schema.json", []byte(sres.Stdout))
	t.Ok(serr == nil && len(errs) == 0, "state JSON passes the runtime-spec state schema (local state-schema.json)", "%v %v: %s", serr, errs, sres.Stdout)
	t.Ok(st.ID == b.ID, "state.id is the ID", "id %q", st.ID)
	t.Ok(st.Bundle == b.Dir, "state.bundle is the bundle's absolute path", "bundle %q want %q", st.Bundle, b.Dir)
	_, verr := semver.Parse(st.Version)
	t.Ok(verr == nil, "state.ociVersion is a SemVer spec version", "ociVersion %q: %v", st.Version, verr)
	t.Ok(st.Pid > 0 && processAlive(st.Pid), "state.pid is a live process", "pid %d", st.Pid)
	t.Ok(st.Annotations["org.example.conformance"] == "lifecycle", "state.annotations carries the config's annotations", "annotations %v", st.Annotations)
	data, err := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	t.Ok(err == nil && pid == st.Pid, "--pid-file holds the container's pid", "pid file %q (%v), state pid %d", data, err, st.Pid)
	time.Sleep(100 * time.Millisecond)
	t.Ok(b.Output() == "", "process.args are not run before start", "output %q", b.Output())

	dup := rt.Create(b, b.ID, "")
	t.Ok(!dup.OK(), "create with an ID already in use errors", "%s", dup)
	st2, _, err := rt.State(b.ID)
	t.Ok(err == nil && st2.Status == "created" && st2.Pid == st.Pid, "and the existing container is unaffected", "state %+v %v", st2, err)

	res = rt.Start(b.ID)
	if !t.Ok(res.OK(), "start succeeds", "%s", res) {
		return
	}
	status, _ := rt.WaitStatus(b.ID, 5*time.Second, "running")
	t.Ok(status == "running", "status is running after start", "status %q", status)
	t.Ok(waitOutput(b, "ready", 10*time.Second), "the process runs (its output reaches the container's stdout)", "output %q", b.Output())

	res = rt.Start(b.ID)
	t.Ok(!res.OK(), "start of a running container errors", "%s", res)
	st3, _, err := rt.State(b.ID)
	t.Ok(err == nil && st3.Status == "running" && st3.Pid == st.Pid, "and has no effect on it", "state %+v %v", st3, err)

	res = rt.Delete(b.ID, false)
	t.Ok(!res.OK(), "delete of a running container errors", "%s", res)
	st4, _, err := rt.State(b.ID)
	t.Ok(err == nil && st4.Status == "running" && processAlive(st.Pid), "and has no effect on it", "state %+v %v", st4, err)

	res = rt.Kill(b.ID, "USR1")
	t.Ok(res.OK(), "kill ID USR1 succeeds", "%s", res)
	t.Ok(waitOutput(b, "got signal 10", 10*time.Second), "the process receives SIGUSR1", "output %q", b.Output())
	status, ok := rt.WaitStatus(b.ID, 10*time.Second, "stopped")
	t.Ok(ok, "status is stopped after the process exits", "status %q", status)
	stS, sres, err := rt.State(b.ID)
	errs, serr = schemaErrors("state-schema.json", []byte(sres.Stdout))
	t.Ok(err == nil && serr == nil && len(errs) == 0, "state JSON of the stopped container passes the state schema", "%v %v %v", err, serr, errs)
	_ = stS

	res = rt.Kill(b.ID, "KILL")
	t.Ok(!res.OK(), "kill of a stopped container errors", "%s", res)
	res = rt.Start(b.ID)
	t.Ok(!res.OK(), "start of a stopped container errors", "%s", res)
	st5, _, err := rt.State(b.ID)
	t.Ok(err == nil && st5.Status == "stopped", "and neither has an effect", "state %+v %v", st5, err)

	res = rt.Delete(b.ID, false)
	t.Ok(res.OK(), "delete of the stopped container succeeds", "%s", res)
	t.Ok(stateGone(b.ID), "state errors after delete", "state still answers")
	_, err = os.Stat(filepath.Join(rt.Root, b.ID))
	t.Ok(os.IsNotExist(err), "its state in the root is removed", "%v", err)

	os.Remove(filepath.Join(b.Dir, "out.log"))
	res = rt.Create(b, b.ID, "")
	t.Ok(res.OK(), "the ID can be used again after delete", "%s", res)
	rt.Delete(b.ID, true)
}
