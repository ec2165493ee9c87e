#!/usr/bin/env bash
# Keeps a long dale-bench campaign alive across machines that do not keep untracked files (a session's sandbox, a
# preemptible cloud box, a CI runner): `save` copies each run folder's resumable state into a folder that git tracks,
# and `restore` copies it back before the campaign command is run again, which then resumes every run where it stopped.
#
#   apps/bench/campaigns/snapshot.sh save OUT DEST [KEEP]   e.g. save out/cpu-edm-seeds results/cpu-edm/campaign kmnist-s0
#   apps/bench/campaigns/snapshot.sh restore DEST OUT       e.g. restore results/cpu-edm/campaign out/cpu-edm-seeds
#
# What a run folder holds, and what is saved:
# - a run in progress: everything (its current checkpoints, with the optimizer state, so that training resumes at the
#   same step; the finished sample chunks; the classifier and the real-image features), except the one-writer locks
#   (train.lock, which names a process of this machine) and the temporary files of atomic writes (.*.tmp);
# - a finished run (results.json written): the same, less the classifier features and probabilities of the samples and
#   of the real images (*features.npy, *probabilities.npy, about 10 MB a run), which only the report stage reads, and less its models' weights
#   (models/*/checkpoints/*/*.safetensors: weights, EMA and optimizer state, 18 MB per 28x28 model), unless the run is
#   named in KEEP (comma-separated run names: the runs whose models later runs sample with --models). Their
#   checkpoint.json (with each file's SHA-256) and loss.csv stay. results.json holds every figure, and the campaign
#   script skips a run that has one, so a restored finished run is never sampled or trained again.
#
# `save` pauses this machine's dale-bench processes (SIGSTOP) while it copies, so that no checkpoint is half copied,
# and continues them after (SIGCONT). The copy of a run replaces the older copy in DEST, so that a checkpoint the
# trainer has since replaced does not linger. `restore` copies only runs that OUT does not hold yet (a run folder in
# OUT is newer than any snapshot of it), and leaves the others alone with a note.
set -euo pipefail
usage() { echo "usage: $0 save OUT DEST [KEEP] | $0 restore DEST OUT" >&2; exit 2; }
[ $# = 3 ] || [ $# = 4 ] || usage
mode=$1 from=$2 to=$3 keep=,${4:-},
[ -d "$from" ] || { echo "snapshot.sh $mode: $from is not a folder" >&2; exit 1; }
mkdir -p "$to"

# The run folders of a campaign folder: its subfolders holding a bench.json.
runs() { for d in "$1"/*/; do [ -f "$d/bench.json" ] && basename "$d"; done; return 0; }

copy_run() { # SRC_ROOT DEST_ROOT RUN [extra tar options]
  local src=$1 dest=$2 run=$3
  shift 3
  rm -rf "${dest:?}/$run.partial"
  mkdir -p "$dest/$run.partial"
  tar -C "$src/$run" --exclude=train.lock --exclude='.*.tmp' "$@" -cf - . | tar -C "$dest/$run.partial" -xf -
  rm -rf "${dest:?}/$run"
  mv "$dest/$run.partial" "$dest/$run"
}

case $mode in
  save)
    pids=$(pgrep -f 'apps/bench/dist/bench.js' || true)
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -STOP $pids
    # shellcheck disable=SC2086
    trap '[ -z "$pids" ] || kill -CONT $pids 2>/dev/null || true' EXIT
    for run in $(runs "$from"); do
      if [ -f "$from/$run/results.json" ] && [[ $keep == *",$run,"* ]]; then
        copy_run "$from" "$to" "$run" --exclude='*features.npy' --exclude='*probabilities.npy'
        echo "[snapshot] $run: finished; saved without its features, with its models (KEEP)" >&2
      elif [ -f "$from/$run/results.json" ]; then
        copy_run "$from" "$to" "$run" --exclude='*features.npy' --exclude='*probabilities.npy' --exclude='*/checkpoints/*.safetensors'
        echo "[snapshot] $run: finished; saved without its features and its models' weights" >&2
      else
        copy_run "$from" "$to" "$run"
        echo "[snapshot] $run: in progress; saved whole" >&2
      fi
    done
    for f in "$from"/*.log; do [ -f "$f" ] && cp "$f" "$to/"; done
    du -sh "$to" >&2
    ;;
  restore)
    for run in $(runs "$from"); do
      if [ -f "$to/$run/bench.json" ]; then
        echo "[snapshot] $run: $to/$run exists; left as it is" >&2
      else
        copy_run "$from" "$to" "$run"
        echo "[snapshot] $run: restored" >&2
      fi
    done
    for f in "$from"/*.log; do [ -f "$f" ] && [ ! -f "$to/$(basename "$f")" ] && cp "$f" "$to/"; done
    ;;
  *) usage ;;
esac
