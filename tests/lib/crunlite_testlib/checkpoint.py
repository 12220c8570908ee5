"""What the checkpoint tests share (tests/integration/test_checkpoint.py on cgroupfs,
tests/systemd/test_systemd_checkpoint.py in a systemd unit): a counter that shows whether a
restored process resumed, stdio pipes as a shim gives them, and the end of CRIU's log."""

import fcntl
import os
import subprocess

# Counts from where /data/count says (0 at the first start), one number each 0.1 s, to the file
# and to stdout. A restored counter goes on from its memory, not from the file.
COUNTER = ("i=0; echo $$ > /data/pid; while :; do i=$((i+1)); echo $i > /data/count.new; "
           "mv /data/count.new /data/count; echo $i; sleep 0.1; done")


def count(data):
    try:
        with open(os.path.join(data, "count")) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


class StdioPipes:
    """Three pipes for a crun-lite command's stdio; the test keeps the other ends."""

    def __init__(self, cleanups=None):
        self.stdin_r, self.stdin_w = os.pipe()
        self.stdout_r, self.stdout_w = os.pipe()
        self.stderr_r, self.stderr_w = os.pipe()
        for fd in (self.stdout_r, self.stderr_r):
            fcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK)
        self.buffer = b""
        if cleanups is not None:
            cleanups.append(self.close)

    def run(self, rt, *args, timeout=60):
        """Runs crun-lite with these pipes as stdio; returns (rc, what the stderr pipe holds)."""
        p = subprocess.run(rt.argv(*args), stdin=self.stdin_r, stdout=self.stdout_w, stderr=self.stderr_w, timeout=timeout)
        return p.returncode, self.read_available(self.stderr_r).decode(errors="replace")

    @staticmethod
    def read_available(fd):
        out = b""
        try:
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                out += chunk
        except BlockingIOError:
            pass
        return out

    def numbers(self):
        """The numbers the container printed so far."""
        self.buffer += self.read_available(self.stdout_r)
        return [int(x) for x in self.buffer.split(b"\n")[:-1] if x.strip().isdigit()]

    def close(self):
        for fd in (self.stdin_r, self.stdin_w, self.stdout_r, self.stdout_w, self.stderr_r, self.stderr_w):
            try:
                os.close(fd)
            except OSError:
                pass


def criu_log(image, name="dump.log"):
    """The end of CRIU's log, for a failure's message (the guest's /tmp is gone afterwards)."""
    try:
        with open(os.path.join(image, name)) as f:
            lines = f.read().splitlines()
        errors = [l for l in lines if "Error" in l or "Warn" in l]
        return "\n".join(errors[-25:])
    except OSError as e:
        return str(e)
