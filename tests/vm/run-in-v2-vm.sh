#!/usr/bin/env bash
# run-in-v2-vm.sh [OPTIONS] SCRIPT [ARGS...]
#
# Boots a throw-away Linux guest whose only cgroup hierarchy is cgroup v2 (qemu "microvm", Debian's
# kernel, no network), runs SCRIPT [ARGS...] in it as root, streams the script's stdout and stderr
# to this command's stdout and stderr, and exits with the script's exit status.
#
# The guest's root filesystem is the host's / (read-only over virtio-9p) with a tmpfs overlay on
# top, so host paths and binaries (a freshly built crun-lite, runc, busybox, python3...) work
# unchanged in the guest and writes stay in guest memory. Inside the guest:
#   /sys/fs/cgroup  cgroup2 (nsdelegate), every controller enabled in the root's subtree_control
#   /tmp /run /dev/shm  fresh tmpfs;  /dev/pts, /dev/mqueue mounted;  loopback up
#   environment: PATH, HOME=/root, LANG=C.UTF-8, CRUN_LITE_VM=1, plus -e VAR=VALUE
#   cwd: the caller's cwd (read-only like the rest of /, unless shared with -w), stdin: /dev/null
#   A SCRIPT under /tmp, /run or /dev (hidden by the guest's own mounts) runs from a copy; keep
#   files the script needs elsewhere (/var/tmp works) or pass them with -w.
#
# Options:
#   -w DIR      share host directory DIR read-write at the same path in the guest (created if
#               missing; repeatable): the way for a test to leave files for the host to read
#   -e VAR=VAL  set an environment variable for SCRIPT (repeatable)
#   -t SECS     hard timeout for the whole VM run, qemu is killed after it (default 300,
#               or $CRUN_LITE_VM_TIMEOUT)
#   -m MIB      guest memory (default 1024)
#   -c N        guest CPUs (default 2, or $CRUN_LITE_VM_CPUS)
#   -v          also stream the guest's kernel console to stderr (it is otherwise kept and
#               shown only when the guest fails)
#   -s          systemd mode: the guest boots the host's /lib/systemd/systemd as PID 1 (pure cgroup v2)
#               and runs SCRIPT as the service sdvm.service (Type=exec, root, in system.slice) once
#               basic.target is reached; the VM powers off when it ends (SuccessAction=/FailureAction=
#               poweroff-immediate). Same output, environment, cwd and exit status as without -s, but
#               systemd mounts /sys/fs/cgroup (it enables a controller in a subtree_control only when
#               a unit needs it), /dev/pts, /dev/shm, /dev/mqueue; the script's cgroup is
#               /system.slice/sdvm.service; /tmp is still a fresh tmpfs and /run a tmpfs. The system bus
#               answers (dbus.socket); multi-user.target is not reached, so the host's enabled
#               services are not started: start what SCRIPT needs with systemctl or systemd-run.
#               Masked: timers, systemd-timesyncd, systemd-pstore, systemd-journal-flush, modprobe@,
#               emergency/rescue, getty, network units (plus $SDVM_MASK). Under TCG the script
#               starts 10 s after boot on an idle 2-CPU host (busybox init: 1-2 s), 30-45 s on a busy one.
#
# Environment: CRUN_LITE_VM_CACHE (cache dir for the initramfs and vmlinux, default
# /var/cache/crun-lite-vm), CRUN_LITE_VM_KERNEL (a vmlinuz; default the newest Debian one in
# /boot), CRUN_LITE_VM_ACCEL (kvm or tcg; default kvm only when real kvm_intel/kvm_amd is loaded),
# CRUN_LITE_VM_APPEND (extra kernel command line words), CRUN_LITE_VM_TIMING=1 (print the run time),
# SDVM_MASK (with -s: more units to mask in the guest, separated by spaces).
#
# Exit status: the script's, or 124 when the hard timeout hit, or 125 when the harness or the
# guest failed (missing packages, boot failure, guest died before the script finished).
# Needs root (it installs qemu-system-x86 linux-image-amd64 kmod cpio busybox-static when missing).
set -euo pipefail

PROG=run-in-v2-vm
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
say() { echo "$PROG: $*" >&2; }
die() { say "ERROR: $*"; exit 125; }

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 125; }

TIMEOUT=${CRUN_LITE_VM_TIMEOUT:-300}
MEM=1024
CPUS=${CRUN_LITE_VM_CPUS:-2}
VERBOSE=0
SYSTEMD=0
RW_DIRS=()
EXTRA_ENV=()
while getopts ':w:e:t:m:c:vsh' opt; do
  case $opt in
    w) RW_DIRS+=("$OPTARG") ;;
    e) [[ $OPTARG == [A-Za-z_]*=* ]] || die "-e wants VAR=VALUE, got '$OPTARG'"; EXTRA_ENV+=("$OPTARG") ;;
    t) TIMEOUT=$OPTARG ;;
    m) MEM=$OPTARG ;;
    c) CPUS=$OPTARG ;;
    v) VERBOSE=1 ;;
    s) SYSTEMD=1 ;;
    h) usage ;;
    :) die "option -$OPTARG needs a value" ;;
    *) die "unknown option -$OPTARG (see $0 -h)" ;;
  esac
done
shift $((OPTIND - 1))
[[ $# -ge 1 ]] || usage
[[ $TIMEOUT =~ ^[0-9]+$ && $TIMEOUT -gt 0 ]] || die "bad timeout '$TIMEOUT'"
SCRIPT=$(realpath -e -- "$1") || die "no such script: $1"
shift
[[ -f $SCRIPT ]] || die "not a file: $SCRIPT"
[[ $(id -u) == 0 ]] || die "must run as root (qemu shares the host's / with root's view of it)"
((!SYSTEMD)) || [[ -x /lib/systemd/systemd ]] || die "-s needs systemd on the host (/lib/systemd/systemd)"

# ---------------------------------------------------------------------------------------------
# Packages
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
command -v modprobe >/dev/null || need_pkgs+=(kmod)
command -v cpio >/dev/null || need_pkgs+=(cpio)
command -v xz >/dev/null || need_pkgs+=(xz-utils)
# A static busybox is needed for the initramfs (the dynamic "busybox" package would not do).
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need_pkgs+=(busybox-static)
# Debian's generic kernel (not -cloud-amd64, which lacks modules this needs, nor -rt-amd64).
debian_kernel() {
  local k v best=''
  for k in /boot/vmlinuz-*-amd64; do
    v=${k#/boot/vmlinuz-}
    [[ -r $k && $v != *-cloud-amd64 && $v != *-rt-amd64 && -f /lib/modules/$v/modules.dep ]] || continue
    best+="$k"$'\n'
  done
  printf '%s' "$best" | sort -V | tail -n 1
}
if [[ -z ${CRUN_LITE_VM_KERNEL:-} && -z $(debian_kernel) ]]; then
  need_pkgs+=(linux-image-amd64)
fi
if ((${#need_pkgs[@]})); then
  say "installing ${need_pkgs[*]} (apt-get)"
  apt_log=$(mktemp /tmp/crun-lite-vm-apt.XXXXXX)
  # (one apt-get at a time with the engine stages' cl_apt, tests/clients/lib.sh)
  if ! flock "${CRUN_LITE_APT_LOCK:-/run/crun-lite-apt.lock}" sh -c 'apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"' sh "${need_pkgs[@]}" >"$apt_log" 2>&1; then
    cat "$apt_log" >&2; rm -f "$apt_log"
    die "apt-get install ${need_pkgs[*]} failed"
  fi
  rm -f "$apt_log"
fi

# ---------------------------------------------------------------------------------------------
# Kernel: Debian's newest (or $CRUN_LITE_VM_KERNEL), and its modules
if [[ -n ${CRUN_LITE_VM_KERNEL:-} ]]; then
  VMLINUZ=$CRUN_LITE_VM_KERNEL
else
  VMLINUZ=$(debian_kernel)
fi
[[ -r $VMLINUZ ]] || die "no kernel image ($VMLINUZ)"
KVER=${VMLINUZ##*/vmlinuz-}
[[ -f /lib/modules/$KVER/modules.dep ]] || die "no modules for kernel $KVER in /lib/modules/$KVER"

CACHE=${CRUN_LITE_VM_CACHE:-/var/cache/crun-lite-vm}
mkdir -p "$CACHE" 2>/dev/null && [[ -w $CACHE ]] || die "cache dir $CACHE is not writable"

WORK=$(mktemp -d /tmp/crun-lite-vm.XXXXXX)
QPID='' CAT_OUT='' CAT_ERR='' CAT_CON=''
cleanup() {
  local p
  for p in $QPID; do kill -KILL "$p" 2>/dev/null || true; done
  exec 7>&- 8>&- 9>&-
  for p in $CAT_OUT $CAT_ERR $CAT_CON; do kill "$p" 2>/dev/null || true; done
  for p in $QPID $CAT_OUT $CAT_ERR $CAT_CON; do wait "$p" 2>/dev/null || true; done
  rm -rf -- "$WORK"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM
trap 'exit 129' HUP

# An uncompressed vmlinux boots faster on microvm (PVH entry, no decompression under emulation).
# Cache it by the vmlinuz's hash; fall back to the bzImage when extraction fails.
vmlinuz_sum=$(sha256sum "$VMLINUZ" | cut -c1-16)
KERNEL=$CACHE/vmlinux-$KVER-$vmlinuz_sum
if [[ ! -s $KERNEL ]]; then
  tmpk=$(mktemp "$CACHE/.vmlinux.XXXXXX")
  extracted=0
  # magic            decompressor
  for fmt in '\xfd\x37\x7a\x58\x5a\x00:xz -dc --single-stream' '\x28\xb5\x2f\xfd:zstd -dcq' \
             '\x1f\x8b\x08:gzip -dcq'; do
    magic=${fmt%%:*} cmd=${fmt#*:}
    command -v "${cmd%% *}" >/dev/null || continue
    for off in $(LC_ALL=C grep -obUaP "$magic" "$VMLINUZ" 2>/dev/null | cut -d: -f1 | head -n 5); do
      tail -c +$((off + 1)) "$VMLINUZ" | $cmd >"$tmpk" 2>/dev/null || true
      if [[ $(head -c 4 "$tmpk" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then extracted=1; break 2; fi
    done
  done
  if ((extracted)); then mv -f "$tmpk" "$KERNEL"; else rm -f "$tmpk"; KERNEL=$VMLINUZ; fi
fi

# ---------------------------------------------------------------------------------------------
# Initramfs: static busybox + the modules for virtio-mmio, 9p, overlayfs and virtio-console, and a
# tiny /init that mounts the host's / (9p, read-only) under a tmpfs overlay and switch_roots into it
# (a runtime cannot pivot_root out of an initramfs root). Cached by a hash of all its inputs.
read -r -d '' STAGE1 <<'EOF' || true
#!/bin/busybox sh
# crun-lite-vm stage 1 (PID 1 in the initramfs). Static busybox from RAM is much cheaper to run under
# emulation than host binaries over 9p, so all the mounts are made here, under /newroot.
/bin/busybox --install -s /bin
export PATH=/bin
R=/newroot C=/newroot/run/crun-lite-vm
fail() {
  echo "crun-lite-vm(initramfs): FAILED: $*"
  [ -d $C ] && echo "$*" >$C/setup-error
  poweroff -f; sleep 5; exit 1
}
mount -t proc proc /proc && mount -t sysfs sysfs /sys && mount -t devtmpfs devtmpfs /dev || fail "proc/sys/dev"
# Load modules in dependency order, passing them their MODULE.param=value words from the kernel
# command line as modprobe would (qemu's microvm puts virtio_mmio.device=... there without ACPI).
read -r cmdline </proc/cmdline
while read -r ko; do
  m=${ko%.ko}; m=${m//-/_}; args=
  for w in $cmdline; do case $w in "$m".*=*) args="$args ${w#"$m".}" ;; esac; done
  insmod "/modules/$ko" $args 2>/tmp/insmod.err || grep -q 'File exists' /tmp/insmod.err ||
    echo "crun-lite-vm(initramfs): insmod $ko: $(cat /tmp/insmod.err)"
done </modules/order
mkdir -p /lower /ovl $R
o9p=trans=virtio,version=9p2000.L,msize=262144
i=0
until mount -t 9p -o "$o9p,ro,cache=loose" hostroot /lower 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 100 ] || fail "cannot mount the host root (9p tag hostroot)"; sleep 0.05
done
mount -t tmpfs -o mode=0755 tmpfs /ovl && mkdir -p /ovl/upper /ovl/work &&
  mount -t overlay -o lowerdir=/lower,upperdir=/ovl/upper,workdir=/ovl/work overlay $R ||
  fail "overlay mount"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs $R/run && mkdir -p $C &&
  mount -t 9p -o "$o9p" ctl $C || fail "cannot mount the control share"
echo booted >$C/booted
mount --move /proc $R/proc && mount --move /sys $R/sys && mount --move /dev $R/dev || fail "moving proc/sys/dev"
if [ -d $C/sdvm-root ]; then
  # Systemd mode (-s): systemd mounts cgroup2, devpts, /dev/shm and mqueue itself. The host's
  # container markers would make it boot as a container, ignoring systemd.unit= (see -s).
  mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs $R/tmp || fail "mount /tmp"
  rm -f $R/.dockerenv $R/run/.containerenv $R/run/systemd/container
  cp -a $C/sdvm-root/. $R/ || fail "copying the systemd configuration"
  exec switch_root $R /lib/systemd/systemd
fi
mount -t cgroup2 -o nsdelegate,nosuid,nodev,noexec cgroup2 $R/sys/fs/cgroup || fail "mount cgroup2"
read -r ctrls <$R/sys/fs/cgroup/cgroup.controllers
for c in $ctrls; do
  echo "+$c" >$R/sys/fs/cgroup/cgroup.subtree_control || fail "enabling the $c controller"
done
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs $R/tmp || fail "mount /tmp"
mkdir -p $R/dev/pts $R/dev/shm $R/dev/mqueue
mount -t devpts -o newinstance,gid=5,mode=620,ptmxmode=0666 devpts $R/dev/pts || fail "mount devpts"
ln -sf pts/ptmx $R/dev/ptmx
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs $R/dev/shm || fail "mount /dev/shm"
mount -t mqueue -o nosuid,nodev,noexec mqueue $R/dev/mqueue || fail "mount mqueue"
ln -sfn /proc/self/fd $R/dev/fd
ln -sf /proc/self/fd/0 $R/dev/stdin; ln -sf /proc/self/fd/1 $R/dev/stdout; ln -sf /proc/self/fd/2 $R/dev/stderr
mount -t bpf -o mode=0700 bpf $R/sys/fs/bpf 2>/dev/null
hostname crun-lite-vm
ip link set lo up 2>/dev/null
exec switch_root $R /bin/bash /run/crun-lite-vm/stage2.sh
EOF

BUSYBOX=/bin/busybox
MODS=()
while read -r kind path _; do
  [[ $kind == insmod ]] || continue
  [[ " ${MODS[*]-} " == *" $path "* ]] || MODS+=("$path")
done < <(modprobe -S "$KVER" --show-depends -a virtio_mmio 9pnet_virtio 9p overlay virtio_console 2>/dev/null)
((${#MODS[@]})) || die "modprobe found no modules for $KVER (virtio_mmio 9p overlay virtio_console)"
INITRD_KEY=$({
  echo "format 1 $KVER"
  printf '%s\n' "$STAGE1"
  sha256sum "$BUSYBOX" "${MODS[@]}"
} | sha256sum | cut -c1-16)
INITRD=$CACHE/initramfs-$KVER-$INITRD_KEY.cpio.gz
if [[ ! -s $INITRD ]]; then
  stage=$WORK/initramfs
  mkdir -p "$stage"/{bin,dev,proc,sys,tmp,modules}
  cp "$BUSYBOX" "$stage/bin/busybox"
  mknod -m 600 "$stage/dev/console" c 5 1
  printf '%s\n' "$STAGE1" >"$stage/init"
  chmod 755 "$stage/init"
  for m in "${MODS[@]}"; do
    base=${m##*/}
    case $base in
      *.ko) cp "$m" "$stage/modules/$base" ;;
      *.ko.xz) xz -dc "$m" >"$stage/modules/${base%.xz}"; base=${base%.xz} ;;
      *.ko.zst) zstd -dcq "$m" >"$stage/modules/${base%.zst}"; base=${base%.zst} ;;
      *.ko.gz) gzip -dc "$m" >"$stage/modules/${base%.gz}"; base=${base%.gz} ;;
      *) die "unknown module format $m" ;;
    esac
    echo "$base" >>"$stage/modules/order"
  done
  tmpi=$(mktemp "$CACHE/.initramfs.XXXXXX")
  (cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet | gzip -1) >"$tmpi"
  mv -f "$tmpi" "$INITRD"
  rm -rf "$stage"
  # Drop cache entries of other inputs that were not used for a day.
  find "$CACHE" -maxdepth 1 \( -name 'initramfs-*' -o -name 'vmlinux-*' \) -mmin +1440 \
    ! -name "${INITRD##*/}" ! -name "${KERNEL##*/}" -delete 2>/dev/null || true
fi
touch -c "$INITRD" "$KERNEL" 2>/dev/null || true

# ---------------------------------------------------------------------------------------------
# Stage 2 runs as PID 1 in the guest, after switch_root, with the host's bash; it is written into the
# control share (tag "ctl") with the command to run. The guest writes its results there too.
CTL=$WORK/ctl
mkdir -p "$CTL"
{
  # The guest mounts fresh tmpfs on /tmp, /run and /dev/shm: a script from there runs from a copy.
  case $SCRIPT in
    /tmp/* | /run/* | /dev/*) cp -p -- "$SCRIPT" "$CTL/script"; printf 'SCRIPT=%q\n' /run/crun-lite-vm/script ;;
    *) printf 'SCRIPT=%q\n' "$SCRIPT" ;;
  esac
  printf 'ARGS=('; ((!$#)) || printf '%q ' "$@"; printf ')\n'
  printf 'CWD=%q\n' "$PWD"
  printf 'EXTRA_ENV=('; ((!${#EXTRA_ENV[@]})) || printf '%q ' "${EXTRA_ENV[@]}"; printf ')\n'
  printf 'RW_DIRS=('
  for i in "${!RW_DIRS[@]}"; do
    mkdir -p -- "${RW_DIRS[$i]}" || die "cannot create ${RW_DIRS[$i]}"
    RW_DIRS[$i]=$(realpath -e -- "${RW_DIRS[$i]}")
    printf '%q ' "${RW_DIRS[$i]}"
  done
  printf ')\n'
  printf 'SDVM=%d\n' "$SYSTEMD"
} >"$CTL/cmd"
cat >"$CTL/stage2.sh" <<'EOF'
# crun-lite-vm stage 2 (PID 1 in the guest, after switch_root; host's bash): shares the read-write
# directories, runs the script with its output on two virtio-serial ports, writes its status.
# Builtins only where it can: each exec of a host binary costs tens of ms under emulation.
# With -s this runs as sdvm.service instead, and exits: systemd then powers the guest off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
C=/run/crun-lite-vm
off() { [ "${SDVM:-0}" = 0 ] || exit "$1"; exec /bin/busybox poweroff -f; }
fail() { echo "crun-lite-vm(guest): FAILED: $*"; echo "$*" >$C/setup-error; off 125; }
if [ -e $C/debug ]; then PS4='+ $(</proc/uptime) '; set -x; fi
. $C/cmd || fail "reading $C/cmd"
n=0
for d in "${RW_DIRS[@]}"; do
  mkdir -p "$d" && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 rw$n "$d" ||
    fail "mounting the read-write share $d"
  n=$((n + 1))
done
port() { # NAME: the /dev node of the virtio-serial port named NAME
  local i f name
  for ((i = 0; i < 500; i++)); do
    for f in /sys/class/virtio-ports/*/name; do
      [ -r "$f" ] && read -r name <"$f" && [ "$name" = "$1" ] && { f=${f%/name}; echo "/dev/${f##*/}"; return 0; }
    done
    read -rt 0.01 <> <(:) || :
  done
  return 1
}
out=$(port crunlite.stdout) && err=$(port crunlite.stderr) || fail "no virtio-serial output ports"
cd "$CWD" 2>/dev/null || cd /
runner=()
[ -x "$SCRIPT" ] || runner=(/bin/bash)
env -i PATH="$PATH" HOME=/root LANG=C.UTF-8 TERM=dumb CRUN_LITE_VM=1 "${EXTRA_ENV[@]}" \
  "${runner[@]}" "$SCRIPT" "${ARGS[@]}" </dev/null >"$out" 2>"$err"
rc=$?
echo $rc >$C/status
off $rc
EOF

# Systemd mode: a tree that the initramfs copies over the guest's root before it starts systemd.
# sdvm.target is basic.target plus sdvm.service, which runs stage 2 (it exits instead of powering
# off). Masked: whatever would slow the boot down under emulation or stop it at a prompt.
if ((SYSTEMD)); then
  sdroot=$CTL/sdvm-root
  units=$sdroot/etc/systemd/system
  mkdir -p "$units" "$sdroot/etc/tmpfiles.d"
  : >"$sdroot/etc/fstab"
  echo crun-lite-vm >"$sdroot/etc/hostname"
  # Debian's tmp.conf says "D /tmp": cleaning /tmp at boot walks the host's /tmp through 9p.
  echo 'd /tmp 1777 root root -' >"$sdroot/etc/tmpfiles.d/tmp.conf"
  cat >"$units/sdvm.target" <<'EOF'
[Unit]
Description=crun-lite VM: basic system and the script
Requires=basic.target sdvm.service
After=basic.target sdvm.service
AllowIsolate=yes
EOF
  cat >"$units/sdvm.service" <<'EOF'
[Unit]
Description=crun-lite VM script
After=basic.target
SuccessAction=poweroff-immediate
FailureAction=poweroff-immediate

[Service]
Type=exec
Slice=system.slice
User=root
ExecStart=/bin/bash /run/crun-lite-vm/stage2.sh
StandardInput=null
StandardOutput=journal+console
StandardError=journal+console
OOMPolicy=continue
EOF
  masks=(timers.target systemd-timesyncd.service systemd-pstore.service systemd-journal-flush.service
    modprobe@.service emergency.service emergency.target rescue.service rescue.target
    getty.target getty@.service serial-getty@.service console-getty.service container-getty@.service
    getty-static.service networking.service ifupdown-pre.service systemd-networkd.service
    systemd-networkd.socket systemd-networkd-wait-online.service systemd-network-generator.service
    NetworkManager.service NetworkManager-wait-online.service network-online.target)
  read -ra extra <<<"${SDVM_MASK:-}"
  masks+=("${extra[@]}")
  for t in /lib/systemd/system/*.timer /etc/systemd/system/*.timer /etc/systemd/system/*.wants/*.timer; do
    if [[ -e $t || -L $t ]]; then masks+=("${t##*/}"); fi
  done
  for u in "${masks[@]}"; do ln -sfn /dev/null "$units/$u"; done
fi

# ---------------------------------------------------------------------------------------------
[[ -z ${CRUN_LITE_VM_DEBUG:-} ]] || touch "$CTL/debug"

# Accelerator: real KVM only (the PVM "kvm" on some cloud VMs cannot boot a stock kernel).
ACCEL=${CRUN_LITE_VM_ACCEL:-}
if [[ -z $ACCEL ]]; then
  ACCEL=tcg
  if [[ -d /sys/module/kvm_intel || -d /sys/module/kvm_amd ]] && [[ -r /dev/kvm && -w /dev/kvm ]]; then
    ACCEL=kvm
  fi
fi
CMDLINE="console=ttyS0 quiet panic=-1 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
CMDLINE+=" pci=off cryptomgr.notests" # microvm has no PCI; skip crypto self-tests (~0.3 s under TCG)
if ((SYSTEMD)); then
  CMDLINE+=" systemd.unit=sdvm.target"
  # Debian's kernel enables AppArmor: without apparmor_parser, dockerd (say) refuses every container.
  command -v apparmor_parser >/dev/null || CMDLINE+=" apparmor=0"
fi
[[ -z ${CRUN_LITE_VM_APPEND:-} ]] || CMDLINE+=" $CRUN_LITE_VM_APPEND"
if [[ $ACCEL == kvm ]]; then
  CPU=host
else
  CPU=max
  # Under TCG the guest's TSC runs at the host's rate; tell the guest that rate so that it does not
  # calibrate (which can hang or go wrong when host CPUs are busy), and trust it.
  tsc_khz=$(awk -F: '/^bogomips/ { printf "%d", $2 * 500; exit }' /proc/cpuinfo)
  [[ ${tsc_khz:-0} -gt 0 ]] && CMDLINE+=" tsc_early_khz=$tsc_khz tsc=reliable"
fi

# Output: fifos read by cat. This shell also holds each fifo open read-write (fds 7-9), so neither a
# cat nor qemu blocks opening it; closing them after qemu is gone gives the cats their EOF.
mkfifo "$WORK/out" "$WORK/err" "$WORK/con"
cat <"$WORK/out" & CAT_OUT=$!
cat <"$WORK/err" >&2 & CAT_ERR=$!
if ((VERBOSE)); then
  tee "$WORK/console.log" <"$WORK/con" >&2 & CAT_CON=$!
else
  cat <"$WORK/con" >"$WORK/console.log" & CAT_CON=$!
fi
exec 7<>"$WORK/out" 8<>"$WORK/err" 9<>"$WORK/con"

QEMU=(qemu-system-x86_64 -machine microvm,accel="$ACCEL" -cpu "$CPU" -smp "$CPUS" -m "$MEM"
  -nodefaults -no-user-config -nographic -no-reboot -nic none
  -kernel "$KERNEL" -initrd "$INITRD" -append "$CMDLINE"
  -chardev file,id=con,path="$WORK/con" -serial chardev:con
  -fsdev local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap
  -device virtio-9p-device,fsdev=hostroot,mount_tag=hostroot
  -fsdev local,id=ctl,path="$CTL",security_model=passthrough,multidevs=remap
  -device virtio-9p-device,fsdev=ctl,mount_tag=ctl
  -device virtio-serial-device,max_ports=4
  -chardev file,id=out,path="$WORK/out" -device virtserialport,chardev=out,name=crunlite.stdout,nr=1
  -chardev file,id=err,path="$WORK/err" -device virtserialport,chardev=err,name=crunlite.stderr,nr=2)
for i in "${!RW_DIRS[@]}"; do
  QEMU+=(-fsdev "local,id=rw$i,path=${RW_DIRS[$i]},security_model=passthrough,multidevs=remap"
    -device "virtio-9p-device,fsdev=rw$i,mount_tag=rw$i")
done

START=$(date +%s%N)
"${QEMU[@]}" </dev/null >"$WORK/qemu.log" 2>&1 7>&- 8>&- 9>&- &
QPID=$!
deadline=$((START / 1000000000 + TIMEOUT))
timed_out=0 status_seen_at=0
while kill -0 "$QPID" 2>/dev/null; do
  now=$(date +%s)
  if ((now >= deadline)); then timed_out=1; break; fi
  # The guest powers itself off after writing its status; do not wait long for that.
  if [[ -e $CTL/status ]]; then
    ((status_seen_at)) || status_seen_at=$now
    ((now - status_seen_at < 10)) || { say "guest did not power off; killing qemu"; break; }
  fi
  sleep 0.1
done
if kill -0 "$QPID" 2>/dev/null; then
  kill -TERM "$QPID" 2>/dev/null || true
  for _ in $(seq 30); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$QPID" 2>/dev/null || true
fi
qrc=0
wait "$QPID" || qrc=$?
QPID=''
exec 7>&- 8>&- 9>&-
wait "$CAT_OUT" "$CAT_ERR" "$CAT_CON" 2>/dev/null || true
CAT_OUT='' CAT_ERR='' CAT_CON=''
ELAPSED_MS=$((($(date +%s%N) - START) / 1000000))

show_logs() {
  if [[ -s $WORK/qemu.log ]]; then say "qemu said:"; sed 's/^/  qemu| /' "$WORK/qemu.log" >&2; fi
  if ((!VERBOSE)) && [[ -s $WORK/console.log ]]; then
    say "guest console (last 40 lines):"; tail -n 40 "$WORK/console.log" | tr -d '\r' | sed 's/^/  console| /' >&2
  fi
}
if ((timed_out)); then
  show_logs
  say "TIMEOUT: the VM ran for more than ${TIMEOUT}s; qemu was killed"
  exit 124
fi
if [[ -e $CTL/setup-error ]]; then
  show_logs
  die "guest setup failed: $(cat "$CTL/setup-error")"
fi
if [[ ! -e $CTL/status ]]; then
  show_logs
  if [[ -e $CTL/booted ]]; then
    die "the guest stopped before the script finished (qemu exit status $qrc)"
  fi
  die "the guest failed to boot (qemu exit status $qrc)"
fi
rc=$(cat "$CTL/status")
[[ $rc =~ ^[0-9]+$ ]] || die "bad status '$rc' from the guest"
[[ -z ${CRUN_LITE_VM_TIMING:-} ]] || say "VM run took ${ELAPSED_MS} ms (accel $ACCEL), script exit status $rc"
exit "$rc"
