#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in a build directory of their own and runs
# each over the seed corpus for a bounded time. Any crash, sanitizer report, leak, timeout or
# out-of-memory fails the run; the input that caused it is kept as BUILD_DIR/artifacts/<target>/.
#
#   tests/fuzz/run.sh [BUILD_DIR] [SECONDS_PER_TARGET]      (defaults: build-fuzz, 60)
#
# ctest's fuzz.bounded runs it with BUILD_DIR=build/fuzz. New inputs found go to
# BUILD_DIR/corpus/<target>/, never into the committed seed corpus (tests/fuzz/corpus/).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
build="$(realpath -m "${1:-$src/build-fuzz}")"
seconds="${2:-${FUZZ_SECONDS:-60}}"

cxx="${FUZZ_CXX:-$(command -v clang++ || true)}"
if [ -z "$cxx" ]; then
  echo "run.sh: clang++ not found (bash tests/install-deps.sh installs clang)" >&2
  exit 1
fi
mkdir -p "$build"
CXX="$cxx" cmake -S "$src" -B "$build" -DCRUNLITE_FUZZ=ON -DCRUNLITE_STATIC=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" --target fuzz_config fuzz_state

status=0
for target in config state; do
  corpus="$build/corpus/$target"
  artifacts="$build/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  # An input that failed an earlier run must
  # fail this one too, not wait to be found again: replay it; drop it once it passes (fixed).
  if [ -n "$(ls -A "$artifacts")" ]; then
    if ! "$build/tests/fuzz/fuzz_$target" "$artifacts"/* >"$build/fuzz_$target.replay.log" 2>&1; then
      status=1
      echo "fuzz_$target: an input kept from an earlier run still fails:" >&2
      ls -l "$artifacts" >&2
      tail -n 80 "$build/fuzz_$target.replay.log" >&2
      continue
    fi
    rm -f "$artifacts"/*
  fi
  echo "== fuzz_$target: ${seconds}s over $(ls "$here/corpus/$target" | wc -l) seeds (+ $(ls "$corpus" | wc -l) kept from earlier runs)"
  # -max_len: real configs are a few KiB (the Podman seccomp profile is 10); -timeout: one input
  # taking over 10 s is a hang; -rss_limit_mb: the default 2 GiB.
  if ! ASAN_OPTIONS="halt_on_error=1:detect_leaks=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
      "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=32768 -timeout=10 \
      -dict="$here/spec.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
      "$corpus" "$here/corpus/$target" 2>"$build/fuzz_$target.log"; then
    status=1
    echo "fuzz_$target FAILED; the input is in $artifacts/:" >&2
    ls -l "$artifacts" >&2
    tail -n 80 "$build/fuzz_$target.log" >&2
  fi
  grep -E '^(stat::|Done|INFO: (seed corpus|A corpus))' "$build/fuzz_$target.log" | sed 's/^/  /' || true
  # libFuzzer keeps every input it ever added: past 2000, keep only those that add coverage.
  if [ "$status" = 0 ] && [ "$(ls "$corpus" | wc -l)" -gt 2000 ]; then
    rm -rf "$corpus.merged" && mkdir "$corpus.merged"
    "$build/tests/fuzz/fuzz_$target" -merge=1 -max_len=32768 "$corpus.merged" "$corpus" >"$build/fuzz_$target.merge.log" 2>&1 &&
      rm -rf "$corpus" && mv "$corpus.merged" "$corpus" && echo "  kept corpus merged to $(ls "$corpus" | wc -l) inputs"
  fi
done
exit $status
