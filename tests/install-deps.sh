#!/usr/bin/env bash
# Installs what building and testing crun-lite needs on Debian 12 (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential cmake git pkg-config criu iptables \
  nlohmann-json3-dev libcli11-dev libcap-dev libseccomp-dev libdbus-1-dev libgtest-dev googletest \
  busybox-static python3 python3-pytest iproute2 util-linux procps gcc libc6-dev passwd \
  man-db groff-base file debootstrap zstd clang libclang-rt-14-dev linux-perf e2fsprogs >/dev/null
# criu: `checkpoint` and `restore` run it (tests/integration/test_checkpoint.py; the cgroup v2
# guest uses the host's installation). iptables: CRIU locks a container's network namespace with
# iptables-restore while it dumps; Debian's criu does not depend on it, and without it every dump in
# the guest fails ("Locking network failed"). It was there in CI only when an engine stage had
# installed it before the guest reached test_checkpoint.
# libdbus-1-dev: the systemd cgroup driver talks to systemd through libdbus-1 (its static archive
# for the default static build).
# man-db, groff-base, file, debootstrap and zstd: the packaging tests (tests/packaging/).
# linux-perf and e2fsprogs: the hot-code list check (tests/bench/check-hot-text.sh) traces page
# faults with perf on a loop-mounted ext4 image.
# clang and its runtime libraries (libFuzzer, ASan, UBSan) build the fuzz targets that the ctest
# test fuzz.bounded runs (tests/fuzz/run.sh); without clang that test is not registered at all.
# The cgroup v2 guest (tests/vm/) and the conformance suite (tests/conformance/) install their own
# extra packages (qemu and a kernel; Go and runtime-tools) the first time they run.
