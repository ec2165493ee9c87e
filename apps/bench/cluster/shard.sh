#!/usr/bin/env bash
# One shard of dale-bench's sample stage, run by a cluster's job array:
#   Kubernetes Indexed Job: the pod's index is JOB_COMPLETION_INDEX; the shard count is DALE_SHARDS.
#   Slurm job array:        the task's index is SLURM_ARRAY_TASK_ID; the count is DALE_SHARDS, else SLURM_ARRAY_TASK_COUNT.
# Runs `$DALE_BENCH --stage sample --shard INDEX/COUNT "$@"` (DALE_BENCH defaults to `dale-bench`; in a checkout of the
# repository, `node apps/bench/dist/bench.js`). Every shard writes its own chunks under --out, atomically, and skips
# the chunks already there, so a retried pod or task resumes. Run `dale-bench --stage prepare` once before the array and
# `dale-bench --stage report` once after it (apps/bench/README.md, "Scaling out").
set -euo pipefail
index="${JOB_COMPLETION_INDEX:-${SLURM_ARRAY_TASK_ID:-}}"
count="${DALE_SHARDS:-${SLURM_ARRAY_TASK_COUNT:-}}"
if [ -z "$index" ]; then
  echo "shard.sh: no shard index: set JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm array)" >&2
  exit 2
fi
if [ -z "$count" ]; then
  echo "shard.sh: no shard count: set DALE_SHARDS (a Slurm array also sets SLURM_ARRAY_TASK_COUNT)" >&2
  exit 2
fi
# shellcheck disable=SC2086 # DALE_BENCH is a command with its arguments, e.g. "node apps/bench/dist/bench.js"
exec ${DALE_BENCH:-dale-bench} --stage sample --shard "$index/$count" "$@"
