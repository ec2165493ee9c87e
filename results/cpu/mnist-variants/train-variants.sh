#!/bin/bash
# Trains the two GBM variants on MNIST with the cpu profile's budget (tiny U-Net, 1500 x 32, lr 1e-3, EMA 0.995, seed 0).
cd /work/main
common="--dataset mnist --process gbm --model tiny --steps 1500 --batch 32 --lr 0.001 --ema 0.995 --seed 0 --checkpoint-every 250 --log-every 75 --sample-count 0 --data-dir ../shared/datasets --resume"
train() { # name, extra args
  local out=out/exp/models/$1; mkdir -p $out
  local t0=$(date +%s.%N)
  node apps/trainer/dist/train.js $common --out $out ${@:2} > out/exp/models/$1.log 2>&1
  local t1=$(date +%s.%N)
  python3 -c "import json; json.dump({'preset':'tiny','steps':1500,'batch':32,'lr':0.001,'seconds':$t1-$t0,'note':'variant $1: ${*:2}'}, open('$out/bench-train.json','w'), indent=2)"
}
train variance --weighting variance &
train geometric2 --gbm-sigma-max 2 --weighting variance --model-input log &
wait
