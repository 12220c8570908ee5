"""exec: a new process in a running container. What it joins (namespaces, cgroups), what it gets
(capabilities, user, env, cwd, a tty, only the fds it should), how its exit status and signals
come back, and the refusals (a stopped container, a missing command)."""

import json
import os
import signal
import time

import pytest

from helpers import (FdReceiver, cap_mask, cgroup_dirs_at, cgroup_v2_only, one_error_line, process_alive, read_until, run_cmd,
                     status_fields, wait_exit_status, wait_for_exec, wait_until)

LOOP = "while :; do sleep 0.1; done"
NAMESPACES = ["pid", "mnt", "net", "ipc", "uts", "cgroup"]


def start_container(rt, edit=None, args=("sh", "-c", LOOP)):
    """A running container (run -d); returns (id, bundle, init pid)."""
    bundle = rt.make_bundle(args=list(args), edit=edit)
    cid = rt.new_id()
    r = rt.run(cid, bundle, "-d")
    assert r.rc == 0, r
    pid = rt.state(cid)["pid"]
    wait_for_exec(pid, args[0])  # tests read init's /proc
    return cid, bundle, pid


def end_detached(pid):
    """Kills and reaps a process `exec -d` left to us. Reaping matters: the container's init, killed
    by delete, only finishes exiting once every other process of its pid namespace has been reaped,
    and those are re-parented to us, not to it."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return wait_exit_status(pid)


def exec_detached(rt, cid, *command):
    """exec -d --pid-file; returns the new process's pid (end it with end_detached)."""
    pid_file = os.path.join(rt.bundles[-1], f"exec-{time.monotonic_ns()}.pid")
    r = rt.cli("exec", "-d", "--pid-file", pid_file, cid, *command)
    assert r.rc == 0, r
    with open(pid_file) as f:
        return int(f.read())


def fd_numbers(stdout):
    return sorted(int(x) for x in stdout.split())


# ------------------------------------------------------------------------------------------------


def test_exec_output_and_exit_status(rt):
    cid, _, _ = start_container(rt)
    r = rt.cli("exec", cid, "sh", "-c", "echo x; echo to-stderr >&2; exit 7")
    assert r.rc == 7, r
    assert r.stdout == "x\n" and r.stderr == "to-stderr\n", r


def test_exec_joins_the_containers_namespaces(rt):
    cid, _, init_pid = start_container(rt, edit=lambda cfg: cfg.update(hostname="exec-box"))
    script = ("echo $$; tr '\\0' ' ' < /proc/1/cmdline; echo; hostname; "
              f"for n in {' '.join(NAMESPACES)}; do readlink /proc/self/ns/$n; done")
    r = rt.cli("exec", cid, "sh", "-c", script)
    assert r.rc == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] != "1" and int(lines[0]) < 100, lines  # a pid of the container's namespace, not init
    assert lines[1] == f"sh -c {LOOP} ", lines  # pid 1 there is the container's init
    assert lines[2] == "exec-box", lines
    assert lines[3:] == [os.readlink(f"/proc/{init_pid}/ns/{n}") for n in NAMESPACES], lines
    assert lines[3:] != [os.readlink(f"/proc/self/ns/{n}") for n in NAMESPACES]


def test_exec_joins_the_containers_cgroups(rt):
    cid, _, init_pid = start_container(rt)
    r = rt.cli("exec", cid, "sh", "-c", "cat /proc/self/cgroup; echo --; cat /proc/1/cgroup")
    assert r.rc == 0, r
    mine, _, init = r.stdout.partition("--\n")
    assert mine == init and mine.strip(), r.stdout
    pid = exec_detached(rt, cid, "sleep", "30")
    with open(f"/proc/{pid}/cgroup") as f, open(f"/proc/{init_pid}/cgroup") as g:
        assert f.read() == g.read()  # as the host sees them, too
    end_detached(pid)


def test_exec_capabilities_are_the_containers(rt):
    caps = ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_NET_RAW"]
    cid, _, _ = start_container(rt, edit=lambda cfg: cfg["process"].update(
        capabilities={"bounding": caps, "effective": caps, "permitted": caps}))
    r = rt.cli("exec", cid, "grep", "^Cap", "/proc/self/status")
    assert r.rc == 0, r
    f = status_fields(r.stdout)
    assert int(f["CapEff"], 16) == cap_mask(caps), f
    assert int(f["CapPrm"], 16) == cap_mask(caps), f
    assert int(f["CapBnd"], 16) == cap_mask(caps), f
    assert int(f["CapInh"], 16) == 0 and int(f["CapAmb"], 16) == 0, f


def test_exec_cap_flag_adds_but_never_inheritable(rt):
    # CVE-2022-29162: --cap must not reach the inheritable (or ambient) set.
    cid, _, _ = start_container(rt)
    r = rt.cli("exec", "--cap", "CAP_NET_ADMIN", cid, "grep", "^Cap", "/proc/self/status")
    assert r.rc == 0, r
    f = status_fields(r.stdout)
    default = cap_mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
    added = default | cap_mask(["CAP_NET_ADMIN"])
    assert int(f["CapEff"], 16) == added, f
    assert int(f["CapPrm"], 16) == added, f
    assert int(f["CapBnd"], 16) == added, f
    assert int(f["CapInh"], 16) == 0, f
    assert int(f["CapAmb"], 16) == 0, f
    # and it works: CAP_NET_ADMIN can bring an interface down in the container's network namespace
    r = rt.cli("exec", "--cap", "CAP_NET_ADMIN", cid, "ip", "link", "set", "lo", "down")
    assert r.rc == 0, r
    r = rt.cli("exec", cid, "ip", "link", "set", "lo", "up")
    assert r.rc != 0, r  # not without the flag


def test_exec_env_cwd_and_user(rt):
    cid, _, _ = start_container(rt)
    r = rt.cli("exec", "-e", "FOO=bar baz", "--env", "TERM=dumb", "--cwd", "/tmp", "-u", "1000:1000", cid,
               "sh", "-c", 'echo "$FOO"; echo $TERM; echo $PATH; pwd; id -u; id -g; grep ^CapEff /proc/self/status')
    assert r.rc == 0, r
    lines = r.stdout.splitlines()
    assert lines[:6] == ["bar baz", "dumb", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "/tmp",
                         "1000", "1000"], r
    assert int(status_fields(lines[6])["CapEff"], 16) == 0, lines  # a non-root user loses its effective caps


def test_exec_process_file(rt):
    cid, bundle, _ = start_container(rt)
    process = {
        "terminal": False,
        "user": {"uid": 1000, "gid": 1001, "additionalGids": [5]},
        "args": ["sh", "-c", 'echo "$FROM_FILE"; pwd; id -u; id -g; id -G; exit 9'],
        "env": ["PATH=/bin", "FROM_FILE=yes it is"],
        "cwd": "/proc",
        "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
    }
    path = os.path.join(bundle.path, "process.json")
    with open(path, "w") as f:
        json.dump(process, f)
    r = rt.cli("exec", "--process", path, cid)
    assert r.rc == 9, r
    assert r.stdout.splitlines() == ["yes it is", "/proc", "1000", "1001", "1001 5"], r


@pytest.mark.runc_too(since="1.1.0")
@pytest.mark.parametrize("command", ["exec", "ps"])
def test_an_unknown_option_before_the_id_is_refused(each_rt, command):
    # exec and ps take a command line of their own after the ID. An option the runtime does not
    # know, before the ID, must not slip into that command line (nor make the next word the ID):
    # here the container has a program named like the option, which must not run.
    cid, bundle, _ = start_container(each_rt)
    program = os.path.join(bundle.rootfs, "bin", "--no-such-option")
    with open(program, "w") as f:
        f.write("#!/bin/sh\ntouch /ran\n")
    os.chmod(program, 0o755)
    r = each_rt.cli(command, "--no-such-option", cid, "sh", "-c", "true")
    assert r.rc != 0, r
    assert "--no-such-option" in r.stderr or "-no-such-option" in r.stderr, r
    assert not os.path.exists(os.path.join(bundle.rootfs, "ran"))
    assert each_rt.delete(cid, force=True).rc == 0


@pytest.mark.parametrize("content, needle", [
    ('{"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "noNewPrivileges": "yes"}', ".noNewPrivileges"),
    ('{"args": ["true"], "cwd": "/", "user": {"uid": -1, "gid": 0}}', ".user.uid"),
    ('{"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "capabilities": {"bounding": "CAP_KILL"}}',
     ".capabilities.bounding"),
    ('{"args": ["true"],\n "cwd": "/",,}', "line 2"),
    ('[' * 100 + ']' * 100, "nested deeper"),
], ids=["type", "range", "list", "syntax", "depth"])
def test_exec_process_file_is_checked_as_config_json_is(rt, content, needle):
    # The same parser, bounds and one-line errors as config.json's .process, naming the file.
    cid, bundle, _ = start_container(rt)
    path = os.path.join(bundle.path, "process.json")
    with open(path, "w") as f:
        f.write(content)
    line = one_error_line(rt.cli("exec", "--process", path, cid), needle, f"--process {path}", status=255)
    assert rt.delete(cid, force=True).rc == 0, line


def test_exec_detached_with_pid_file(rt):
    cid, bundle, init_pid = start_container(rt)
    pid_file = os.path.join(bundle.path, "exec.pid")
    started = time.monotonic()
    r = rt.cli("exec", "-d", "--pid-file", pid_file, cid, "sleep", "30")
    assert r.rc == 0, r
    assert time.monotonic() - started < 5, "exec -d must not wait for the process"
    with open(pid_file) as f:
        text = f.read()
    pid = int(text)
    assert process_alive(pid)
    assert os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(f"/proc/{init_pid}/ns/pid")
    with open(f"/proc/{pid}/cmdline") as f:
        assert f.read().split("\0")[:2] == ["sleep", "30"]
    # delete --force ends it with its container (reaping it meanwhile: see end_detached)
    p = rt.popen("delete", "--force", cid)
    assert wait_exit_status(pid) == -signal.SIGKILL
    assert p.wait(timeout=10) == 0, rt.popen_output(p)
    assert not os.path.exists(os.path.join(rt.root, cid))


def test_exec_in_a_stopped_container_fails(rt, make_bundle, new_id):
    bundle = make_bundle(args=["true"])
    cid = new_id()
    rt.create(cid, bundle)
    rt.start(cid)
    rt.wait_status(cid, "stopped")
    r = rt.cli("exec", cid, "echo", "should-not-run")
    assert r.rc == 255, r
    assert "cannot exec in a stopped container" in r.stderr, r
    assert "should-not-run" not in r.stdout
    assert rt.delete(cid).rc == 0


def test_exec_in_a_missing_container_fails(rt):
    r = rt.cli("exec", "no-such-container", "true")
    assert r.rc == 255, r
    assert "no-such-container" in r.stderr, r


def test_exec_command_not_found(rt):
    cid, _, _ = start_container(rt)
    r = rt.cli("exec", cid, "no-such-command")
    assert r.rc == 255, r
    assert "executable file not found" in r.stderr, r
    r = rt.cli("exec", cid, "/bin/no-such-command")
    assert r.rc == 255, r
    assert rt.status(cid) == "running"


def test_exec_tty_through_a_console_socket(rt):
    cid, bundle, _ = start_container(rt)
    receiver = FdReceiver(os.path.join(bundle.path, "console.sock"))
    rt.cleanups.append(receiver.close)
    pid_file = os.path.join(bundle.path, "exec.pid")
    r = rt.cli("exec", "-t", "-d", "--console-socket", receiver.path, "--pid-file", pid_file, cid, "sh")
    assert r.rc == 0, r
    [(payload, fds)] = receiver.wait(1)
    assert payload == b"/dev/ptmx" and len(fds) == 1, (payload, fds)
    master = fds[0]
    with open(pid_file) as f:
        pid = int(f.read())
    os.write(master, b"tty; test -t 0 && test -t 2 && echo is-a-tty; exit 4\n")
    out = read_until(master, b"is-a-tty\r\n")
    assert b"/dev/pts/0\r\n" in out, out
    assert wait_exit_status(pid) == 4


def test_exec_tty_without_console_socket_when_detached_fails(rt):
    cid, _, _ = start_container(rt)
    r = rt.cli("exec", "-t", "-d", cid, "sh")
    assert r.rc == 255, r
    assert "console" in r.stderr, r


def test_exec_in_a_user_namespace(rt):
    def userns(cfg):
        cfg["linux"]["namespaces"].append({"type": "user"})
        cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]

    cid, _, init_pid = start_container(rt, edit=userns)
    r = rt.cli("exec", cid, "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; readlink /proc/self/ns/user")
    assert r.rc == 0, r
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["0", "100000", "65536"], lines
    assert lines[1].split() == ["0", "200000", "65536"], lines
    assert lines[2] == "0", lines
    assert lines[3] == os.readlink(f"/proc/{init_pid}/ns/user"), lines
    pid = exec_detached(rt, cid, "sleep", "30")
    st = os.stat(f"/proc/{pid}")
    assert (st.st_uid, st.st_gid) == (100000, 200000)  # as the host sees it
    end_detached(pid)


@pytest.mark.parametrize("how", ["exec", "exec from a shell", "run from a shell"])
def test_no_leaked_fds(rt, make_bundle, new_id, how):
    cid = None
    if how.startswith("exec"):
        cid, _, _ = start_container(rt)
    listing = ["ls", "/proc/self/fd"] if how == "exec" else ["sh", "-c", "ls /proc/self/fd"]
    leak_r, leak_w = os.pipe()  # extra fds in the caller: they must not reach the container
    try:
        if cid is not None:
            r = run_cmd(rt.argv("exec", cid, *listing), pass_fds=(leak_r, leak_w))
        else:
            r = run_cmd(rt.argv("run", "--bundle", make_bundle(args=listing), new_id()), pass_fds=(leak_r, leak_w))
    finally:
        os.close(leak_r)
        os.close(leak_w)
    assert r.rc == 0, r
    assert fd_numbers(r.stdout) == [0, 1, 2, 3], r.stdout  # 3: the directory ls reads


def test_exec_preserve_fds(rt, make_bundle):
    cid, bundle, _ = start_container(rt)
    data = os.path.join(bundle.path, "passed.txt")
    with open(data, "w") as f:
        f.write("through-fd-3\n")
    wrapper = ["/bin/sh", "-c", 'exec 3<"$0" 4<"$0"; exec "$@"', data]
    r = run_cmd(wrapper + rt.argv("exec", "--preserve-fds", "1", cid, "ls", "/proc/self/fd"))
    assert r.rc == 0, r
    assert fd_numbers(r.stdout) == [0, 1, 2, 3, 4], r.stdout  # fd 4 of the caller is not passed
    r = run_cmd(wrapper + rt.argv("exec", "--preserve-fds", "1", cid, "sh", "-c", "cat <&3"))
    assert r.rc == 0 and r.stdout == "through-fd-3\n", r


def test_exec_killed_inside_gives_128_plus_signal(rt):
    cid, _, _ = start_container(rt)
    r = rt.cli("exec", cid, "sh", "-c", "kill -9 $$")
    assert r.rc == 137, r
    assert rt.status(cid) == "running"


def test_exec_forwards_signals(rt):
    cid, bundle, _ = start_container(rt)
    pid_file = os.path.join(bundle.path, "exec.pid")
    p = rt.popen("exec", "--pid-file", pid_file, cid, "sleep", "30")
    wait_until(lambda: os.path.exists(pid_file), what="the exec'd process to start")
    with open(pid_file) as f:
        pid = int(f.read())
    wait_until(lambda: process_alive(pid), what="the exec'd process")
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=10) == 128 + signal.SIGTERM, rt.popen_output(p)
    wait_until(lambda: not process_alive(pid), what="the exec'd process to be gone")
    assert rt.status(cid) == "running"


# ------------------------------------------------------------------------------------------------
# exec --cgroup (runc >= 1.1): the process goes to an existing sub-cgroup of the container's.


def container_with_sub_cgroup(rt, name):
    """A running container whose cgroupsPath is /crun-lite-<id> for either runtime (crun-lite's
    default, not runc's: one level, which runc removes too), so that the teardown finds its
    cgroups, with a sub-cgroup `name` (None: none) in each of its directories; returns (id, its
    directories)."""
    cid = rt.new_id()
    bundle = rt.make_bundle(args=["sh", "-c", LOOP], edit=lambda cfg: cfg["linux"].update(cgroupsPath=f"/crun-lite-{cid}"))
    assert rt.run(cid, bundle, "-d").rc == 0, cid
    dirs = cgroup_dirs_at(f"/crun-lite-{cid}")
    assert dirs, cid
    for d in dirs if name else []:
        os.mkdir(os.path.join(d, name))
        for f in ("cpuset.cpus", "cpuset.mems"):  # a v1 cpuset cgroup takes no task until both are set
            # (on v2 the sub-cgroup has no cpuset files unless its parent enables the controller)
            if os.path.exists(os.path.join(d, f)) and os.path.exists(os.path.join(d, name, f)):
                with open(os.path.join(d, f)) as src, open(os.path.join(d, name, f), "w") as dst:
                    dst.write(src.read())
    return cid, dirs


def exec_cgroup_lines(rt, cid, *flags):
    """exec -d FLAGS ... sleep; returns the host's /proc/<pid>/cgroup lines of that process (ended after)."""
    pid_file = os.path.join(rt.bundle_base, f"exec-{time.monotonic_ns()}.pid")
    r = rt.cli("exec", "-d", "--pid-file", pid_file, *flags, cid, "sleep", "100")
    assert r.rc == 0, r
    with open(pid_file) as f:
        pid = int(f.read())
    os.unlink(pid_file)
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            return f.read().splitlines()
    finally:
        end_detached(pid)


@pytest.mark.cgroupfs_only("the test names the container's cgroup path")
@pytest.mark.runc_too(since="1.1.0")
def test_exec_cgroup_path_goes_to_the_sub_cgroup_of_every_hierarchy(each_rt):
    rt = each_rt
    cid, _ = container_with_sub_cgroup(rt, "sub")
    lines = exec_cgroup_lines(rt, cid, "--cgroup", "sub")
    assert lines and all(l.endswith(f"/crun-lite-{cid}/sub") for l in lines), lines
    if cgroup_v2_only():
        assert lines == [f"0::/crun-lite-{cid}/sub"], lines
    # Without --cgroup: the container's own cgroup.
    assert all(l.endswith(f"/crun-lite-{cid}") for l in exec_cgroup_lines(rt, cid))


@pytest.mark.cgroupfs_only("the test names the container's cgroup path")
@pytest.mark.runc_too(since="1.1.0")
def test_exec_cgroup_controller_form(each_rt):
    rt = each_rt
    cid, _ = container_with_sub_cgroup(rt, "sub")
    flags = ("--cgroup", "cpu:sub", "--cgroup", "memory,pids:sub")
    if cgroup_v2_only():
        # One hierarchy without controller names: CONTROLLER:PATH is refused, nothing runs.
        r = rt.cli("exec", *flags, cid, "true")
        assert r.rc == 255, r
        if rt.name == "crun-lite":
            one_error_line(r, "--cgroup cpu:sub", status=255)
        return
    by_hierarchy = {l.split(":", 2)[1]: l.split(":", 2)[2] for l in exec_cgroup_lines(rt, cid, *flags)}
    for name, path in by_hierarchy.items():
        moved = any(c in name.split(",") for c in ("cpu", "memory", "pids"))
        assert path == f"/crun-lite-{cid}" + ("/sub" if moved else ""), by_hierarchy


@pytest.mark.cgroupfs_only("the test names the container's cgroup path")
@pytest.mark.runc_too(since="1.1.0")
@pytest.mark.parametrize("arg", ["missing", "../escape"])
def test_exec_cgroup_refused_runs_nothing(each_rt, arg):
    rt = each_rt
    cid, _ = container_with_sub_cgroup(rt, None)
    r = rt.cli("exec", "--cgroup", arg, cid, "touch", "/ran")
    assert r.rc == 255, r
    if rt.name == "crun-lite":
        one_error_line(r, f"--cgroup {arg}", status=255)
    assert rt.cli("exec", cid, "test", "-e", "/ran").rc == 1  # the refused command never ran
    assert "touch" not in rt.cli("ps", cid).stdout
