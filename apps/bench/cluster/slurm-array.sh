#!/usr/bin/env bash
# dale-bench's sample stage as a Slurm job array: task i runs shard i of DALE_SHARDS (cluster/shard.sh reads
# SLURM_ARRAY_TASK_ID). From a checkout of the repository, built, on a file system that every node sees:
#
#   node apps/bench/dist/bench.js --profile cpu --out "$PWD/out/bench" --data-dir ../shared/datasets --stage prepare
#   sbatch --wait apps/bench/cluster/slurm-array.sh
#   node apps/bench/dist/bench.js --profile cpu --out "$PWD/out/bench" --data-dir ../shared/datasets --stage report
#
# The array size (--array=0-3) and DALE_SHARDS must agree (the repository's test checks it). DALE_BENCH_ARGS holds the
# run's options; set it (sbatch --export=ALL,DALE_BENCH_ARGS=...) to change them.
#SBATCH --job-name=dale-bench-sample
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
#SBATCH --time=24:00:00
set -euo pipefail
export DALE_SHARDS="${DALE_SHARDS:-4}"
export DALE_BENCH="${DALE_BENCH:-node apps/bench/dist/bench.js}"
cd "${DALE_REPO:-${SLURM_SUBMIT_DIR:-.}}"
# shellcheck disable=SC2086 # DALE_BENCH_ARGS is a list of options
exec bash apps/bench/cluster/shard.sh ${DALE_BENCH_ARGS:---profile cpu --out $PWD/out/bench --data-dir ../shared/datasets}
