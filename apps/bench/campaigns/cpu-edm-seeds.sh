#!/usr/bin/env bash
# The benchmark of RESULTS.md (issue 18): GBM against VP with the cpu-edm profile on all four datasets, with seeds,
# then dale-bench-summary over the runs. Every step is a dale-bench run folder, which resumes where it stopped, so
# this script resumes too: run it again after a stop (finished runs are skipped in seconds).
#
#   DALE_DATA_DIR=../shared/datasets apps/bench/campaigns/cpu-edm-seeds.sh [OUT]   (default out/cpu-edm-seeds)
#
# Order: seed 0 of every dataset first, so that a partial run already covers all four; then the other seeds.
# MNIST and Fashion-MNIST get three training seeds; KMNIST and CIFAR-10 one training seed and three sampling seeds
# (--models: the later seeds sample the seed-0 models). Then the reference recipe on MNIST (the paper's process and
# weighting, sampled with Dale-Langevin), which measures what the new recipe changed; and the paper's 1000-step samplers
# (Dale-Langevin, Euler-Maruyama) at 100 samples per row.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-out/cpu-edm-seeds}
DATA=${DALE_DATA_DIR:?set DALE_DATA_DIR to the datasets folder}
bench() {
  echo "[campaign] $(date -u +%FT%TZ) dale-bench $*" >&2
  node apps/bench/dist/bench.js --profile cpu-edm --data-dir "$DATA" --quiet "$@"
}
models() { echo "gbm=$OUT/$1-s0/$1/models/gbm,vp=$OUT/$1-s0/$1/models/vp"; }

for ds in mnist fashion-mnist kmnist cifar10; do bench --datasets "$ds" --seed 0 --out "$OUT/$ds-s0"; done
for s in 1 2; do
  for ds in mnist fashion-mnist; do bench --datasets "$ds" --seed "$s" --out "$OUT/$ds-s$s"; done
  for ds in kmnist cifar10; do bench --datasets "$ds" --seed "$s" --out "$OUT/$ds-s$s" --models "$(models "$ds")"; done
done
bench --datasets mnist --seed 0 --recipe reference --samplers dale-langevin --nfe 10,20,50 --grids uniform,karras --out "$OUT/mnist-reference-s0"
# The paper's 1000-step samplers, at 100 samples per row (a fifth of the other rows: 1000 evaluations per image).
# FID is biased upwards at fewer samples, so these rows are compared with each other only, in a summary of their own.
bench --datasets mnist --seed 0 --models "gbm=$OUT/mnist-reference-s0/mnist/models/gbm" --samplers dale-langevin --nfe 1000 --grids uniform --samples 100 --out "$OUT/mnist-reference-1000"
bench --datasets mnist --seed 0 --models "$(models mnist)" --samplers dale-langevin,euler-maruyama --nfe 1000 --grids uniform --samples 100 --out "$OUT/mnist-1000"

runs=()
for ds in mnist fashion-mnist kmnist cifar10; do for s in 0 1 2; do runs+=("$OUT/$ds-s$s"); done; done
runs+=("$OUT/mnist-reference-s0")
node apps/bench/dist/summarize.js --runs "$(IFS=,; echo "${runs[*]}")" --out "$OUT/summary"
node apps/bench/dist/summarize.js --runs "$OUT/mnist-1000,$OUT/mnist-reference-1000" --out "$OUT/summary-1000"
