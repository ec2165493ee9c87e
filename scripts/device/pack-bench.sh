#!/usr/bin/env bash
# Packs dale-bench (which trains through `train` of @dale/training, in its main thread: a single-file pack has no
# worker entry, so keep --jobs 1 there) for the lent GPU machine: ../shared/gpu/pack.sh, plus resvg's native binding so
# that the report's plot is drawn there too, with the bundle and the binding xz-compressed so that more of the 64 MiB a device
# call carries is left for datasets (see apps/bench/README.md, "On the GPU machine").
# Usage, from anywhere in the repository:  scripts/device/pack-bench.sh   (needs `scripts/pnpm install` first)
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
../shared/gpu/pack.sh apps/bench/src/bench.ts --external:@resvg/resvg-js
for pkg in @resvg/resvg-js @resvg/resvg-js-linux-x64-gnu; do
  src=$(ls -d node_modules/.pnpm/"${pkg/\//+}"@*/node_modules/"$pkg" 2>/dev/null | sort -V | tail -1)
  [ -n "$src" ] || { echo "pack-bench.sh: $pkg is not installed (run scripts/pnpm install)" >&2; exit 1; }
  mkdir -p .device/node_modules/"$pkg"
  cp -rL "$src"/. .device/node_modules/"$pkg"/
done
node_bin=$(ls .device/node_modules/@resvg/resvg-js-linux-x64-gnu/*.node)
xz -T2 -6 "$node_bin" .device/app.mjs
cat >> .device/setup.sh <<'SETUP'
# Added by scripts/device/pack-bench.sh: the compressed bundle and resvg's binding.
for f in .device/app.mjs.xz .device/node_modules/@resvg/resvg-js-linux-x64-gnu/*.node.xz; do
  [ -f "${f%.xz}" ] || xz -dk "$f"
done
SETUP
du -sh .device | awk '{print "pack-bench.sh: .device is " $1}'
