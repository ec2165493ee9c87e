#!/bin/bash
# Samples and scores each trained variant exactly as the cpu profile's MNIST rows (same classifier, real images,
# seeds and VP rows, copied from out/bench-cpu2).
set -e
cd /work/main
for v in variance geometric2; do
  f=out/bench-var-$v; rm -rf $f; mkdir -p $f/mnist/models $f/mnist/samples $f/mnist/grids
  cp out/bench-cpu2/bench.json $f/
  for x in classifier.safetensors features.txt reference-features.npy reference.json train-features.npy train-probabilities.npy; do cp out/bench-cpu2/mnist/$x $f/mnist/; done
  cp -r out/bench-cpu2/mnist/models/vp out/bench-cpu2/mnist/models/vp.log $f/mnist/models/
  cp -r out/bench-cpu2/mnist/samples/vp-* $f/mnist/samples/; cp out/bench-cpu2/mnist/grids/vp-* $f/mnist/grids/
  cp -r out/exp/models/$v $f/mnist/models/gbm; cp out/exp/models/$v.log $f/mnist/models/gbm.log
done
for v in variance geometric2; do
  node apps/bench/dist/bench.js --profile cpu --out out/bench-var-$v --datasets mnist --data-dir ../shared/datasets --stage sample --quiet > out/bench-var-$v.log 2>&1 &
done
wait
for v in variance geometric2; do
  node apps/bench/dist/bench.js --profile cpu --out out/bench-var-$v --datasets mnist --data-dir ../shared/datasets --stage report --quiet >> out/bench-var-$v.log 2>&1
done
