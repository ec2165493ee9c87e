#!/usr/bin/env bash
# Copies datasets into .carry/<name>/ (git-ignored) so that a device call can carry them: the device takes at most
# 64 MiB per call, working tree and carried folders together, so each call carries what fits beside the bundle.
# Usage: scripts/device/stage-data.sh NAME DATASET[:FILES] ...
#   scripts/device/stage-data.sh data-a mnist kmnist                     # 15 MB
#   scripts/device/stage-data.sh data-b fashion-mnist                    # 30 MB
#   scripts/device/stage-data.sh data-c cifar10:data_batch_1,test_batch  # 56 MB: carry it in a call of its own
# Source: $DALE_DATA_DIR, else ../shared/datasets. The SHA256SUMS file travels too (the loaders check what is there).
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
name=${1:?usage: stage-data.sh NAME DATASET[:FILE,FILE] ...}; shift
src=${DALE_DATA_DIR:-../shared/datasets}
grep -qx '/.carry/' .git/info/exclude 2>/dev/null || echo '/.carry/' >> .git/info/exclude
rm -rf ".carry/$name"
for spec in "$@"; do
  ds=${spec%%:*}
  [ -d "$src/$ds" ] || { echo "stage-data.sh: $src/$ds does not exist" >&2; exit 1; }
  mkdir -p ".carry/$name/$ds"
  if [ "$spec" = "$ds" ]; then
    cp "$src/$ds"/* ".carry/$name/$ds/"
  else
    IFS=, read -ra files <<< "${spec#*:}"
    for f in "${files[@]}"; do
      match=$(ls "$src/$ds/$f"* 2>/dev/null | head -1)
      [ -n "$match" ] || { echo "stage-data.sh: no $src/$ds/$f*" >&2; exit 1; }
      cp "$match" ".carry/$name/$ds/"
    done
    [ -f "$src/$ds/SHA256SUMS" ] && cp "$src/$ds/SHA256SUMS" ".carry/$name/$ds/"
  fi
done
du -sh ".carry/$name" | awk '{print "stage-data.sh: .carry/'"$name"' is " $1}'
