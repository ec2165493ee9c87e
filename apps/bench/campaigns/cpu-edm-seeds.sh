#!/usr/bin/env bash
# The benchmark of RESULTS.md (issue 18): GBM against VP with the cpu-edm profile on all four datasets, with seeds,
# then dale-bench-summary over the runs. Every step is a dale-bench run folder, which resumes where it stopped, so
# this script resumes too: run it again after a stop (finished runs are skipped).
#
# On a machine that keeps no untracked files between sessions, snapshot.sh saves the campaign into a tracked folder
# and restores it (see that script); the campaign of RESULTS.md is kept in results/cpu-edm/campaign:
#
#   apps/bench/campaigns/snapshot.sh restore results/cpu-edm/campaign out/cpu-edm-seeds   (then this script)
#   apps/bench/campaigns/snapshot.sh save out/cpu-edm-seeds results/cpu-edm/campaign mnist-s0,kmnist-s0,cifar10-s0,mnist-reference-s0
#   (then git add and commit; the runs named last are those whose models later runs sample)
#
#   DALE_DATA_DIR=../shared/datasets apps/bench/campaigns/cpu-edm-seeds.sh [OUT]   (default out/cpu-edm-seeds)
#
# Two lanes run side by side, each a chain of dale-bench runs on one thread (one wasm thread, one oneDNN thread). On
# this 2-core machine two one-thread processes train 1.3 to 1.7 times as many steps per second as one process on both
# cores (BENCHMARKS.md, "two one-thread processes against one process on both cores"). LANES=1 runs lane A, then lane B, in this one process instead,
# with the threads the backend picks (both cores).
#
# Lane A: MNIST and KMNIST (and, at its end, CIFAR-10's last sampling seed); lane B: Fashion-MNIST and CIFAR-10. Seed 0 of each dataset comes first, so that a partial
# run already covers all four. MNIST and Fashion-MNIST get three training seeds; KMNIST and CIFAR-10 one training seed
# and three sampling seeds (--models: the later seeds sample the seed-0 models). Then, in lane A, the reference recipe
# on MNIST (the paper's process and weighting, sampled with Dale-Langevin), which measures what the new recipe
# changed; and the paper's 1000-step samplers (Dale-Langevin, Euler-Maruyama) at 100 samples per row. The logs are
# OUT/lane-a.log and OUT/lane-b.log.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-out/cpu-edm-seeds}
DATA=${DALE_DATA_DIR:?set DALE_DATA_DIR to the datasets folder}
LANES=${LANES:-2}
mkdir -p "$OUT"
# Without @dale/onednn's addon (Debian's libdnnl-dev, then `scripts/pnpm install`) the convolutions run in plain wasm
# and training is about 3 times slower (BENCHMARKS.md: 2,554 ms a step of the 28x28 U-Net on one thread without it,
# against the 1.1 to 1.4 steps/s a lane trains with it): refuse rather than run for days.
if [ ! -f packages/onednn/build/dale_onednn.node ] && [ "${ALLOW_NO_ONEDNN:-0}" != 1 ]; then
  echo "cpu-edm-seeds.sh: packages/onednn/build/dale_onednn.node is missing, so training would run about 3 times slower; install libdnnl-dev and run scripts/pnpm install (or set ALLOW_NO_ONEDNN=1)" >&2
  exit 1
fi
bench() {
  local lane=$1
  shift
  # A finished run (results.json written) is skipped without starting dale-bench: a run restored from a snapshot
  # (snapshot.sh) has no sample features, which dale-bench would otherwise draw again.
  local args=("$@") i
  for ((i = 0; i < ${#args[@]} - 1; i++)); do
    if [ "${args[i]}" = --out ] && [ -f "${args[i + 1]}/results.json" ]; then
      echo "[campaign] $(date -u +%FT%TZ) lane $lane: ${args[i + 1]} is finished; skipped" >&2
      return 0
    fi
  done
  echo "[campaign] $(date -u +%FT%TZ) lane $lane: dale-bench $*" >&2
  node apps/bench/dist/bench.js --profile cpu-edm --data-dir "$DATA" --quiet "$@"
}
models() { echo "gbm=$OUT/$1-s0/$1/models/gbm,vp=$OUT/$1-s0/$1/models/vp"; }

lane_a() {
  bench A --datasets mnist --seed 0 --out "$OUT/mnist-s0"
  bench A --datasets kmnist --seed 0 --out "$OUT/kmnist-s0"
  for s in 1 2; do bench A --datasets mnist --seed "$s" --out "$OUT/mnist-s$s"; done
  for s in 1 2; do bench A --datasets kmnist --seed "$s" --out "$OUT/kmnist-s$s" --models "$(models kmnist)"; done
  bench A --datasets mnist --seed 0 --recipe reference --samplers dale-langevin --nfe 10,20,50 --grids uniform,karras --out "$OUT/mnist-reference-s0"
  # The paper's 1000-step samplers, at 100 samples per row (a fifth of the other rows: 1000 evaluations per image).
  # FID is biased upwards at fewer samples, so these rows are compared with each other only, in a summary of their own.
  bench A --datasets mnist --seed 0 --models "$(models mnist)" --samplers dale-langevin,euler-maruyama --nfe 1000 --grids uniform --samples 100 --out "$OUT/mnist-1000"
  bench A --datasets mnist --seed 0 --models "gbm=$OUT/mnist-reference-s0/mnist/models/gbm" --samplers dale-langevin --nfe 1000 --grids uniform --samples 100 --out "$OUT/mnist-reference-1000"
}

lane_b() {
  bench B --datasets fashion-mnist --seed 0 --out "$OUT/fashion-mnist-s0"
  bench B --datasets cifar10 --seed 0 --out "$OUT/cifar10-s0"
  for s in 1 2; do bench B --datasets fashion-mnist --seed "$s" --out "$OUT/fashion-mnist-s$s"; done
  bench B --datasets cifar10 --seed 1 --out "$OUT/cifar10-s1" --models "$(models cifar10)"
}

# CIFAR-10's last sampling seed runs at the end of lane A, whose queue is about 3 hours shorter (CIFAR-10 trains at a
# third of MNIST's speed). It samples the seed-0 models of lane B, so it starts only once their run has finished: a
# --models folder still in training would be sampled at whatever step it had reached.
last_cifar10() { bench A --datasets cifar10 --seed 2 --out "$OUT/cifar10-s2" --models "$(models cifar10)"; }
wait_for_cifar10_s0() { # the pid of lane B
  until [ -f "$OUT/cifar10-s0/results.json" ]; do
    if ! kill -0 "$1" 2>/dev/null; then
      echo "[campaign] lane B stopped before CIFAR-10 seed 0 finished; not running CIFAR-10 seed 2" >&2
      return 1
    fi
    sleep 60
  done
}

if [ "$LANES" = 1 ]; then
  lane_a
  lane_b
  last_cifar10
else
  export OMP_NUM_THREADS=1 DALE_WASM_THREADS=1
  (lane_b) >> "$OUT/lane-b.log" 2>&1 &
  b=$!
  # Semicolons, not &&: a command of an && list runs without set -e, so a failed run would not stop the lane.
  (lane_a; wait_for_cifar10_s0 "$b"; last_cifar10) >> "$OUT/lane-a.log" 2>&1 &
  a=$!
  failed=0
  wait "$a" || { echo "[campaign] lane A failed; see $OUT/lane-a.log" >&2; failed=1; }
  wait "$b" || { echo "[campaign] lane B failed; see $OUT/lane-b.log" >&2; failed=1; }
  [ "$failed" = 0 ] || exit 1
fi

runs=()
for ds in mnist fashion-mnist kmnist cifar10; do for s in 0 1 2; do runs+=("$OUT/$ds-s$s"); done; done
runs+=("$OUT/mnist-reference-s0")
node apps/bench/dist/summarize.js --runs "$(IFS=,; echo "${runs[*]}")" --out "$OUT/summary"
node apps/bench/dist/summarize.js --runs "$OUT/mnist-1000,$OUT/mnist-reference-1000" --out "$OUT/summary-1000"
