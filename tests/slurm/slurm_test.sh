#!/usr/bin/env bash
# ctest label `slurm`: the real jobs/ scripts on a throw-away local Slurm (tools/slurm-cluster).
#   slurm_test.sh BUILD_DIR
# 1. start 2 virtual nodes; 2. generate a tiny input set; 3. submit jobs/graybench-sweep in
# both shapes (nodes 1,2 x layouts 1x2,2x1; workers 1,2; sequential,threads; warm,cold); 4. wait
# for them (bounded, `sbatch --wait` on a dependency: no sleeps); 5. merge with graybench-merge
# and check every combination once, complete, identical checksums (check_sweep.py); 6. a
# jobs/graybench.sbatch job hits its time limit: its run is saved incomplete and it exits 4.
# The cluster is stopped whatever happens. Exit 77 (ctest: skipped) without Slurm or root.
set -euo pipefail
build="$(cd "${1:?usage: slurm_test.sh BUILD_DIR}" && pwd)"
root="$(cd "$(dirname "$0")/../.." && pwd)"
py=/usr/bin/python3
export PATH="$PATH:/usr/sbin"
for exe in slurmctld slurmd munged sbatch; do
  command -v "$exe" >/dev/null || { echo "SKIP: $exe not installed (bash tools/install-deps.sh)"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: the local Slurm runs its slurmd as root"; exit 77; }

work="$(mktemp -d /tmp/gbslurm.XXXXXX)"
chmod 755 "$work"  # munged runs as the munge user and must reach its socket directory
cluster="$work/c"
ok=0
cleanup() {
  "$root/tools/slurm-cluster" stop --dir "$cluster" || true
  if [ $ok -eq 1 ]; then
    rm -rf "$work"
  else
    echo "--- failed; job logs and daemon logs kept under $work"
    tail -n 20 "$work"/*/logs/* "$work"/*.out "$cluster"/log/* 2>/dev/null || true
  fi
}
trap cleanup EXIT
t0=$SECONDS
step() { echo "=== $* ($((SECONDS - t0)) s)"; }

step "start a 2-node Slurm"
env_line="$("$root/tools/slurm-cluster" start --dir "$cluster" --nodes 2 --cpus 2)"
eval "$env_line"
"$build/graybench-gen" --output "$work/in" --count 6 --seed 3 >/dev/null

# Until none of the jobs is queued or running, bounded. (A job depending on them, submitted with
# `sbatch --wait`, would need no polling but waits for the scheduler's dependency pass.)
wait_jobs() {
  local deadline=$((SECONDS + $1))
  while [ -n "$(squeue -h -j "$2" -o %i 2>/dev/null)" ]; do
    [ $SECONDS -lt $deadline ] || { echo "jobs $2 not done within $1 s"; squeue; exit 1; }
    sleep 0.5
  done
}

ids=()
for shape in array packed; do
  step "submit the $shape sweep"
  # Both launch paths of the job script: the array binds with --cpu-bind=cores (no SMT here, so
  # the automatic hint is none), the packed sweep forces --hint=nomultithread (the SMT-node path).
  hint=auto
  [ "$shape" = packed ] && hint=nomultithread
  out="$("$root/jobs/graybench-sweep" --shape "$shape" --nodes 1,2 --layouts 1x2,2x1 \
    --strategies sequential,threads --workers 1,2 --cache warm,cold --input "$work/in" \
    --dir "$work/$shape" --graybench "$build/graybench" --max-parallel 2 --hint "$hint" -- --quiet)"
  echo "$out"
  read -ra jobs <<<"$(sed -n 's/^jobs: \([0-9 ]*\).*/\1/p' <<<"$out")"
  [ ${#jobs[@]} -gt 0 ] || { echo "no job ids in the sweep's output"; exit 1; }
  ids+=("${jobs[@]}")
  grep -q "graybench-merge -o" <<<"$out" || { echo "the sweep did not print the merge command"; exit 1; }
done
step "wait for jobs ${ids[*]}"
wait_jobs 240 "$(IFS=,; echo "${ids[*]}")"
for f in "$work"/*/logs/*; do
  grep -q "exit 0$" "$f" || { echo "job log $f does not end with exit 0"; cat "$f"; exit 1; }
done
grep -q -- "binding --cpu-bind=cores" "$work"/array/logs/* || { echo "array: no --cpu-bind=cores"; exit 1; }
grep -q -- "binding --hint=nomultithread" "$work"/packed/logs/* ||
  { echo "packed: no --hint=nomultithread"; cat "$work"/packed/logs/*; exit 1; }

step "merge (twice: the second adds nothing) and check"
"$root/tools/graybench-merge" -o "$work/merged.h5" "$work/array/results/*.h5" "$work"/packed/results/*.h5
"$root/tools/graybench-merge" -o "$work/merged.h5" "$work"/array/results/*.h5
$py "$root/tests/slurm/check_sweep.py" "$work/merged.h5" --shapes array,packed --nodes 1,2 \
  --layouts 1x2,2x1 --strategies sequential,threads --workers 1,2 --cache warm,cold

step "a job at its time limit"
# One run far longer than the minute allowed: Slurm's SIGTERM (up to 30 s early, --signal)
# lands in it, with images still queued.
"$build/graybench-gen" --output "$work/long" --count 400 --sizes 320x240 --formats png >/dev/null
jid="$(sbatch --parsable --time=1 --signal=TERM@30 --nodes=2 --ntasks-per-node=1 \
  --chdir="$work" --output="$work/timelimit-%j.out" \
  --export="ALL,GRAYBENCH_BUILD=$build,GRAYBENCH_RESULTS=$work/timelimit.h5" \
  "$root/jobs/graybench.sbatch" --input "$work/long" --strategy threads --workers 1 \
  --kernel-repeat 4000 --quiet)"
wait_jobs 150 "$jid"
cat "$work/timelimit-$jid.out"
grep -q "(exit 4)" "$work/timelimit-$jid.out" || { echo "the time-limit job did not exit 4"; exit 1; }
scontrol show job "$jid" | grep -q "ExitCode=4:0" || { echo "Slurm does not record exit 4"; exit 1; }
$py - "$work/timelimit.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    runs = [f["runs"][n] for n in sorted(f["runs"])]
    assert len(runs) == 1, len(runs)
    last = runs[0].attrs
    assert last["status"] == "incomplete", last["status"]
    assert last["n_not_processed"] > 0
    assert len(runs[0]["images"]) == last["n_images"], "an incomplete run still lists every image"
    print(f"time limit: the run is saved as incomplete "
          f"({last['n_not_processed']} of {last['n_images']} images not processed)")
PY
ok=1
step "done"
