package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
)

// Runtime runs the runtime under test with its own --root, the way runtime-tools' validation
// drives a runtime: create [--pid-file F] --bundle DIR ID, start ID, state ID, kill ID SIG,
// delete [--force] ID.
type Runtime struct {
	Bin, Root string
	Verbose   bool
	ids       map[string]bool
}

// Result of one runtime command.
type Result struct {
	Args           []string
	RC             int
	Stdout, Stderr string
	Err            error
}

func (r Result) String() string {
	s := fmt.Sprintf("`%s` rc=%d", strings.Join(r.Args, " "), r.RC)
	if e := strings.TrimSpace(r.Stderr); e != "" {
		s += " stderr: " + e
	}
	if r.Err != nil && r.RC == 0 {
		s += " error: " + r.Err.Error()
	}
	return s
}

// OK: the command ran and exited 0.
func (r Result) OK() bool { return r.Err == nil && r.RC == 0 }

const cmdTimeout = 30 * time.Second

// run runs the runtime with --root; stdout and stderr go to files (never pipes: a container
// that inherits them would keep a pipe open), stdin is /dev/null unless given.
func (r *Runtime) run(stdin string, stdout, stderr *os.File, args ...string) Result {
	full := append([]string{"--root", r.Root}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.Bin, full...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var err error
	ownOut, ownErr := stdout == nil, stderr == nil
	if ownOut {
		if stdout, err = os.CreateTemp("", "rt-out-"); err != nil {
			return Result{Args: args, RC: -1, Err: err}
		}
		defer os.Remove(stdout.Name())
		defer stdout.Close()
	}
	if ownErr {
		if stderr, err = os.CreateTemp("", "rt-err-"); err != nil {
			return Result{Args: args, RC: -1, Err: err}
		}
		defer os.Remove(stderr.Name())
		defer stderr.Close()
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	res := Result{Args: append([]string{filepath.Base(r.Bin)}, args...), Err: err}
	if cmd.ProcessState != nil {
		res.RC = cmd.ProcessState.ExitCode()
	} else {
		res.RC = -1
	}
	if ctx.Err() != nil {
		res.Err = fmt.Errorf("timed out after %v", cmdTimeout)
		res.RC = -1
	}
	if ownOut {
		data, _ := os.ReadFile(stdout.Name())
		res.Stdout = string(data)
	}
	if ownErr {
		data, _ := os.ReadFile(stderr.Name())
		res.Stderr = string(data)
	}
	if r.Verbose {
		tap.Note("%s", res.String())
	}
	return res
}

func (r *Runtime) remember(id string) {
	if r.ids == nil {
		r.ids = map[string]bool{}
	}
	if id != "" {
		r.ids[id] = true
	}
}

// Create runs `create [--pid-file F] --bundle DIR ID`; the container's stdio are the files
// out.log and err.log in the bundle (the runtime's own messages land in err.log as well).
func (r *Runtime) Create(b *Bundle, id, pidFile string) Result {
	r.remember(id)
	args := []string{"create"}
	if pidFile != "" {
		args = append(args, "--pid-file", pidFile)
	}
	args = append(args, "--bundle", b.Dir)
	if id != "" {
		args = append(args, id)
	}
	out, err1 := os.OpenFile(filepath.Join(b.Dir, "out.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0644)
	errf, err2 := os.OpenFile(filepath.Join(b.Dir, "err.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0644)
	if err1 != nil || err2 != nil {
		return Result{Args: args, RC: -1, Err: fmt.Errorf("%v %v", err1, err2)}
	}
	defer out.Close()
	defer errf.Close()
	before, _ := os.ReadFile(errf.Name())
	res := r.run("", out, errf, args...)
	after, _ := os.ReadFile(errf.Name())
	if len(after) > len(before) {
		res.Stderr = string(after[len(before):])
	}
	return res
}

func (r *Runtime) Start(id string) Result  { return r.run("", nil, nil, "start", id) }
func (r *Runtime) StateR(id string) Result { return r.run("", nil, nil, "state", id) }

// Kill runs `kill ID SIG` (SIG a name such as KILL, as runtime-tools passes it).
func (r *Runtime) Kill(id, sig string) Result { return r.run("", nil, nil, "kill", id, sig) }

func (r *Runtime) Delete(id string, force bool) Result {
	if force {
		return r.run("", nil, nil, "delete", "--force", id)
	}
	return r.run("", nil, nil, "delete", id)
}

// State parses `state ID`.
func (r *Runtime) State(id string) (rspec.State, Result, error) {
	res := r.StateR(id)
	var st rspec.State
	if !res.OK() {
		return st, res, fmt.Errorf("%s", res)
	}
	if err := json.Unmarshal([]byte(res.Stdout), &st); err != nil {
		return st, res, fmt.Errorf("state output is not JSON: %v: %q", err, res.Stdout)
	}
	return st, res, nil
}

// WaitStatus polls `state ID` until the status is one of want (or the container is gone when
// want contains ""). It returns the last status seen.
func (r *Runtime) WaitStatus(id string, timeout time.Duration, want ...string) (string, bool) {
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		st, _, err := r.State(id)
		if err != nil {
			last = ""
		} else {
			last = string(st.Status)
		}
		for _, w := range want {
			if w == last {
				return last, true
			}
		}
		if time.Now().After(deadline) {
			return last, false
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Version is the first line of `--version`.
func (r *Runtime) Version() string {
	out, err := exec.Command(r.Bin, "--version").CombinedOutput()
	if err != nil {
		return "version unknown"
	}
	return strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0]
}

// Cleanup force-deletes every container a case left behind.
func (r *Runtime) Cleanup() {
	for id := range r.ids {
		if _, _, err := r.State(id); err == nil {
			r.Delete(id, true)
			if _, _, err := r.State(id); err == nil {
				r.Kill(id, "KILL")
				r.WaitStatus(id, 5*time.Second, "stopped", "")
				r.Delete(id, true)
			}
		}
	}
	r.ids = nil
	reapChildren()
}

// ListLeft lists entries in the state root (runc and crun-lite keep one directory per container).
func (r *Runtime) ListLeft() []string {
	entries, _ := os.ReadDir(r.Root)
	var left []string
	for _, e := range entries {
		if _, _, err := r.State(e.Name()); err == nil {
			left = append(left, e.Name())
		}
	}
	return left
}

// reapChildren reaps container processes re-parented to us (we are a child subreaper).
func reapChildren() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndex(s, ")")
	if i < 0 || i+2 >= len(s) {
		return false
	}
	state := s[i+2]
	return state != 'Z' && state != 'X'
}

// runIn runs a command in dir (for `spec`, which writes config.json to the working directory).
func runIn(dir, bin string, args ...string) Result {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := Result{Args: append([]string{filepath.Base(bin)}, args...), Err: err, Stdout: out.String(), Stderr: errb.String()}
	if cmd.ProcessState != nil {
		res.RC = cmd.ProcessState.ExitCode()
	} else {
		res.RC = -1
	}
	return res
}
