#!/usr/bin/env bash
# Dale's digit check over several sampling seeds for each sampler setting, to choose a checkpoint's default solver on
# seeds other than the acceptance seed (0). One line of JSON per setting: confident digits summed over the seeds.
#
#   DALE_DATA_DIR=../shared/datasets tooling/digit-check/sweep.sh CHECKPOINT "1 2 3" \
#     "--sampler heun --nfe 35" "--sampler edm-stochastic --nfe 35 --s-churn 5" ...
#
# After `scripts/pnpm build`, from the repository root. Scratch files go to ${SWEEP_DIR:-out/digit-sweep}.
set -euo pipefail
ckpt=$1
seeds=$2
shift 2
dir=${SWEEP_DIR:-out/digit-sweep}
mkdir -p "$dir"
for setting in "$@"; do
  total=0
  n=0
  per=()
  for seed in $seeds; do
    # shellcheck disable=SC2086 # the setting is a list of flags
    node apps/trainer/dist/sample.js --checkpoint "$ckpt" --n 100 --seed "$seed" $setting --out "$dir/grid.png" --out-npy "$dir/s.npy" >/dev/null 2>&1
    c=$(node tooling/digit-check/check.mjs "$dir/s.npy" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).confident))')
    per+=("$c")
    total=$((total + c))
    n=$((n + 100))
  done
  echo "{\"setting\": \"$setting\", \"seeds\": \"$seeds\", \"confident\": $total, \"n\": $n, \"perSeed\": [$(IFS=,; echo "${per[*]}")]}"
done
