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
# {"package","target","fuzztime","execs","new_interesting","ok"}.
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
  "$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "${par[@]+"${par[@]}"}" "$pkg" >"$log" 2>&1 || ok=false
  status=$(grep -E '^fuzz: elapsed: .*execs: ' "$log" | tail -n 1)
  execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$status")
  fresh=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$status")
  printf '{"package":"%s","target":"%s","fuzztime":"%s","execs":%s,"new_interesting":%s,"ok":%s}\n' \
    "$pkg" "$name" "$fuzztime" "${execs:-0}" "${fresh:-0}" "$ok"
  if [ "$ok" != true ]; then
    failed=$((failed + 1))
    cat "$log"
  fi
done
if [ "$ran" -eq 0 ]; then echo "fuzz: no target matches FUZZTARGETS=$only" >&2; exit 1; fi
if [ "$failed" -ne 0 ]; then echo "fuzz: $failed of $ran targets failed" >&2; exit 1; fi
