#!/usr/bin/env bash
# Run the real-engine client tests (containerd/ctr, docker, podman, buildah; rootless podman and
# rootless docker, whose scripts run runc too) with crun-lite, and with
# COMPARE=1 also with runc, then print a markdown table of every scenario's result and wall time.
#   tests/clients/run-all.sh [crun-lite-binary]      default: build/crun-lite
#   COMPARE=1 RUNC=/usr/sbin/runc tests/clients/run-all.sh build/crun-lite
#   ENGINES="containerd docker" tests/clients/run-all.sh ...
# Exit status: non-zero when a scenario fails with crun-lite (runc's results are only recorded).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
crun=${1:-${RUNTIME:-$repo/build/crun-lite}}
runc=${RUNC:-/usr/sbin/runc}
engines=${ENGINES:-containerd docker podman buildah podman-rootless docker-rootless}
if [ -n "${CL_RESULTS:-}" ]; then
	results=$CL_RESULTS
else # a file of this run's, removed at its end
	results=$(mktemp /tmp/cl-results.XXXXXX)
	trap 'rm -f "$results"' EXIT
fi
export CL_RESULTS=$results

rc=0
for e in $engines; do
	bash "$here/$e.sh" "$crun" || rc=1
	if [ "${COMPARE:-0}" = 1 ]; then bash "$here/$e.sh" "$runc" || true; fi
done

crun_base=$(basename "$(readlink -f "$crun")")
runc_base=$(basename "$(readlink -f "$runc")")
echo
echo "| engine | scenario | $crun_base | $runc_base |"
echo "|---|---|---|---|"
awk -F'\t' -v a="$crun_base" -v b="$runc_base" '
	{ key = $1 "\t" $3; if (!(key in seen)) { seen[key] = 1; order[n++] = key }
	  cell[key, $2] = ($4 == "PASS" ? "" : "**FAIL** ") $5 " s" }
	END { for (i = 0; i < n; i++) { split(order[i], k, "\t")
		printf "| %s | %s | %s | %s |\n", k[1], k[2], ((order[i], a) in cell ? cell[order[i], a] : "-"), ((order[i], b) in cell ? cell[order[i], b] : "-") } }
' "$results"
exit $rc
