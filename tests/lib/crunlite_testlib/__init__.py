"""What the Python tests, benchmarks and tools of crun-lite share (crun's tests/tests_utils.py plays
this part there): making OCI bundles from Debian's busybox-static (bundles), running a runtime
binary bound to a state root (runtime), waiting for and reaping processes (processes), and the
capability numbers read from libcap (caps).

Import it with tests/lib on sys.path, found relative to the importing file, never by a machine
path (the tests run from ctest, from tests/vm/ and tests/systemd/ guests that see the host's /
read-only, and from the benchmark scripts):

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
    from crunlite_testlib import bundles, processes
"""
