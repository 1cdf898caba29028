#!/usr/bin/env bash
# Runs every Go native fuzz target (func FuzzX(f *testing.F)) of the module,
# one at a time, each for FUZZTIME. Targets are discovered with
# `go test -list '^Fuzz' ./...`, so new ones are included without editing
# this file. Settings (environment):
#   FUZZTIME          per target, a duration or Nx (default 10m)
#   FUZZPARALLEL      fuzzing workers per target (default: GOMAXPROCS)
#   FUZZMINIMIZETIME  time to minimise a new input (default 10s; large
#                     inputs such as a year's calendar minimise slowly)
#   FUZZTARGETS       regexp: run only the targets whose name matches
#   FUZZPKGS          packages to search (default ./...)
# A failing target's output, with the path of the crasher it wrote under
# testdata/fuzz, is printed in full; otherwise one JSON line per target:
# {"package","target","fuzztime","execs","new_interesting","ok","retried"}.
# A target that fails with a bare "context deadline exceeded" as its
# FUZZTIME ends, writing no input and reporting no error of its own, hit
# the race in Go's fuzzing coordinator (golang/go#75804, fixed in Go 1.27,
# not in 1.26): it is run once more, and fails if that run fails too.
set -uo pipefail
cd "$(dirname "$0")/.."
GO="${GO:-go}"
fuzztime="${FUZZTIME:-10m}"
minimize="${FUZZMINIMIZETIME:-10s}"
only="${FUZZTARGETS:-.}"
par=()
if [ -n "${FUZZPARALLEL:-}" ]; then par=(-parallel "$FUZZPARALLEL"); fi

list=$("$GO" test -list '^Fuzz' ${FUZZPKGS:-./...}) || { echo "$list"; echo "fuzz: listing the targets failed" >&2; exit 1; }
targets=()
names=()
while IFS= read -r line; do
  case "$line" in
    Fuzz*) names+=("$line") ;;
    ok*)
      pkg=$(awk '{print $2}' <<<"$line")
      for n in "${names[@]+"${names[@]}"}"; do targets+=("$pkg $n"); done
      names=() ;;
    *) names=() ;;
  esac
done <<<"$list"
if [ ${#targets[@]} -eq 0 ]; then echo "fuzz: no targets found" >&2; exit 1; fi

# deadline_flake: the log is that race's and nothing else: the deadline
# error, no input written, no panic, no test output with a file and line.
deadline_flake() {
  grep -q 'context deadline exceeded' "$1" &&
    ! grep -Eq 'Failing input written|failing input|panic:|_test\.go:[0-9]+:' "$1"
}

# fuzz_one fuzzes target $name of package $pkg, its output in $log.
fuzz_one() {
  "$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "${par[@]+"${par[@]}"}" "$pkg" >"$log" 2>&1
}

failed=0
ran=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "${targets[@]}"; do
  pkg=${t% *}
  name=${t#* }
  grep -Eq -- "$only" <<<"$name" || continue
  ran=$((ran + 1))
  ok=true
  retried=false
  fuzz_one || ok=false
  if [ "$ok" != true ] && deadline_flake "$log"; then
    echo "fuzz: $name: a bare 'context deadline exceeded' at the end of its fuzz time, no input written (golang/go#75804); running it once more" >&2
    retried=true
    ok=true
    fuzz_one || ok=false
  fi
  status=$(grep -E '^fuzz: elapsed: .*execs: ' "$log" | tail -n 1)
  execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$status")
  fresh=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$status")
  printf '{"package":"%s","target":"%s","fuzztime":"%s","execs":%s,"new_interesting":%s,"ok":%s,"retried":%s}\n' \
    "$pkg" "$name" "$fuzztime" "${execs:-0}" "${fresh:-0}" "$ok" "$retried"
  if [ "$ok" != true ]; then
    failed=$((failed + 1))
    cat "$log"
  fi
done
if [ "$ran" -eq 0 ]; then echo "fuzz: no target matches FUZZTARGETS=$only" >&2; exit 1; fi
if [ "$failed" -ne 0 ]; then echo "fuzz: $failed of $ran targets failed" >&2; exit 1; fi
