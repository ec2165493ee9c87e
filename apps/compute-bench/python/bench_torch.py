#!/usr/bin/env python3
"""PyTorch side of @dale/compute-bench: the reference conv nets of src/nets.ts and Dale's U-Net, timed like the tfjs side.

Builds ref-cnn-small / ref-cnn-wide (NCHW, 3x3 convs with pad 1 and no bias, He-normal weights, 2x2 average pooling,
nearest-neighbour x2 upsampling plus the skip), trains them with Adam (lr 1e-3) on the mean squared error against a
fixed random target, and times one training step and one forward pass (under torch.no_grad()) per configuration:
3 warm-up steps, then round(seconds / last warm-up step) timed steps clamped to [3, 50], median milliseconds per step.
Every step ends by reading a scalar (`.item()`), as the tfjs side does; on CUDA it also synchronises.

The U-Net nets (`unet-mnistSmall`, `unet-tiny`, `unet-cifar10Small`, `unet-cifar10`) are python/unet_torch.py, a layer-for-layer copy of
packages/models' U-Net (same parameter count), trained on the mean squared error of net(x, t) against a fixed random
target (t uniform in [0, 1)), with the same Adam.

Configurations: `cpu-<k>t` for k in --threads (torch.set_num_threads(k)), and, when CUDA is available, `cuda-tf32`
(TF32 allowed for matmul and cuDNN) and `cuda-fp32` (both disallowed).

Prints one JSON object to stdout; progress goes to stderr. Exit status 3 (with {"ok": false, ...}) when torch cannot
be imported.

    /usr/bin/python3 bench_torch.py --nets small,wide --batch 64 --phases train,forward --threads 1,2 --seconds 5
    /usr/bin/python3 bench_torch.py --count-params
    /usr/bin/python3 bench_torch.py --forward-from spec.json   # used by the tests
"""

import argparse
import json
import platform
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F

    TORCH_IMPORT_ERROR = None
except Exception as e:  # ImportError, or a broken install raising something else
    torch = None
    F = None
    TORCH_IMPORT_ERROR = f"{type(e).__name__}: {e}"

REF_KINDS = ("small", "wide")
UNET_KINDS = {"unet-mnistSmall": "mnistSmall", "unet-tiny": "tiny", "unet-cifar10Small": "cifar10Small", "unet-cifar10": "cifar10"}
KINDS = REF_KINDS + tuple(UNET_KINDS)
PHASES = ("train", "forward")
WIDTH = {"small": 32, "wide": 64}
IMAGE = 28


def layers(kind):
    """(in, out) channels of the eight convs; see refCnnLayers in src/nets.ts."""
    w = WIDTH[kind]
    return [(1, w), (w, w), (w, 2 * w), (2 * w, 2 * w), (2 * w, 2 * w), (2 * w, w), (w, w), (w, 1)]


def build(kind, device, seed=0):
    """The net's weights [out, in, 3, 3] (He-normal, fan_in, relu gain) and its forward function."""
    gen = torch.Generator().manual_seed(seed)
    weights = []
    for cin, cout in layers(kind):
        w = torch.empty(cout, cin, 3, 3)
        with torch.no_grad():
            w.normal_(0.0, (2.0 / (9 * cin)) ** 0.5, generator=gen)
        weights.append(torch.nn.Parameter(w.to(device)))

    def conv(h, i):
        return F.conv2d(h, weights[i], padding=1)

    def forward(x):
        skip = F.relu(conv(F.relu(conv(x, 0)), 1))
        h = F.avg_pool2d(skip, 2)
        for i in range(2, 6):
            h = F.relu(conv(h, i))
        h = F.interpolate(h, scale_factor=2, mode="nearest") + skip
        return conv(F.relu(conv(h, 6)), 7)

    return weights, forward


def count_params(kind):
    if kind in UNET_KINDS:
        from unet_torch import count_params as unet_count

        return unet_count(UNET_KINDS[kind])
    weights, _ = build(kind, "cpu")
    return sum(p.numel() for p in weights)


def build_any(kind, device, batch):
    """(parameters, forward(), loss()) with the inputs fixed: a reference net on x, or a U-Net on (x, t)."""
    gen = torch.Generator().manual_seed(1)
    size, channels = IMAGE, 1
    if kind in UNET_KINDS:
        from unet_torch import PRESETS

        size, channels = PRESETS[UNET_KINDS[kind]]["image_size"], PRESETS[UNET_KINDS[kind]]["channels"]
    x = torch.randn(batch, channels, size, size, generator=gen).to(device)
    target = torch.randn(batch, channels, size, size, generator=gen).to(device)
    if kind in UNET_KINDS:
        from unet_torch import build_unet

        torch.manual_seed(0)
        model = build_unet(UNET_KINDS[kind]).to(device)
        t = torch.rand(batch, generator=gen).to(device)
        return list(model.parameters()), lambda: model(x, t), target
    weights, forward = build(kind, device)
    return weights, lambda: forward(x), target


def forward_from(path):
    """y = net(x) for weights and x given in tfjs' layouts (HWIO kernels, NHWC images), as {"y": [...]} NHWC.

    The input file is JSON: {"kind": "small", "batch": b, "weights": [[...] per conv], "x": [...]}. Lets the tests
    check that both sides compute the same function.
    """
    with open(path) as f:
        spec = json.load(f)
    kind, batch = spec["kind"], spec["batch"]
    weights, forward = build(kind, "cpu")
    with torch.no_grad():
        for p, (cin, cout), flat in zip(weights, layers(kind), spec["weights"]):
            p.copy_(torch.tensor(flat, dtype=torch.float32).reshape(3, 3, cin, cout).permute(3, 2, 0, 1))
        x = torch.tensor(spec["x"], dtype=torch.float32).reshape(batch, IMAGE, IMAGE, 1).permute(0, 3, 1, 2)
        y = forward(x).permute(0, 2, 3, 1).reshape(-1)
    return {"y": y.tolist()}


def time_steps(step, sync, seconds, warmup, min_steps, max_steps):
    """Same method as timeSteps in src/timing.ts."""
    last = 0.0
    for _ in range(warmup):
        t0 = time.perf_counter()
        step()
        sync()
        last = (time.perf_counter() - t0) * 1000
    n = round(seconds * 1000 / last) if last > 0 else max_steps
    n = min(max_steps, max(min_steps, n))
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        step()
        sync()
        samples.append((time.perf_counter() - t0) * 1000)
    return {
        "ms_median": statistics.median(samples),
        "ms_min": min(samples),
        "ms_mean": sum(samples) / len(samples),
        "steps": n,
        "warmup": warmup,
    }


def configs(threads):
    out = [{"name": f"cpu-{k}t", "device": "cpu", "threads": k} for k in threads]
    if torch.cuda.is_available():
        out.append({"name": "cuda-tf32", "device": "cuda", "tf32": True})
        out.append({"name": "cuda-fp32", "device": "cuda", "tf32": False})
    return out


def apply_config(cfg):
    if cfg["device"] == "cpu":
        torch.set_num_threads(cfg["threads"])
    else:
        torch.backends.cuda.matmul.allow_tf32 = cfg["tf32"]
        torch.backends.cudnn.allow_tf32 = cfg["tf32"]


def measure(kind, batch, phase, cfg, args):
    device = cfg["device"]
    if device == "cuda":
        sync = torch.cuda.synchronize
    else:
        def sync():
            return None
    weights, forward, target = build_any(kind, device, batch)
    if phase == "train":
        # eps 1e-7: tfjs' Adam default for float32 (PyTorch's is 1e-8); irrelevant to the time, kept for sameness.
        opt = torch.optim.Adam(weights, lr=1e-3, eps=1e-7)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(forward(), target)
            loss.backward()
            opt.step()
            return loss.item()
    else:

        def step():
            with torch.no_grad():
                return forward().sum().item()

    return time_steps(step, sync, args.seconds, args.warmup, args.min_steps, args.max_steps)


def csv(value, allowed=None, cast=str):
    items = [s.strip() for s in value.split(",") if s.strip() != ""]
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {value!r}")
    out = [cast(s) for s in items]
    if allowed is not None:
        bad = [s for s in out if s not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"{bad[0]!r} is not one of {', '.join(allowed)}")
    return out


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nets", type=lambda v: csv(v, KINDS), default=["small"])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--phases", type=lambda v: csv(v, PHASES), default=list(PHASES))
    p.add_argument("--threads", type=lambda v: csv(v, cast=int), default=[1, 2])
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--min-steps", type=int, default=3)
    p.add_argument("--max-steps", type=int, default=50)
    p.add_argument("--no-cuda", action="store_true", help="time the CPU configurations only")
    p.add_argument("--count-params", action="store_true", help="print {kind: parameter count} and exit")
    p.add_argument("--forward-from", metavar="JSON", help="print the forward pass of given weights and input and exit")
    return p.parse_args(argv)


def log(msg):
    print(f"[torch] {msg}", file=sys.stderr, flush=True)


def main(argv):
    args = parse_args(argv)
    if torch is None:
        print(
            json.dumps(
                {
                    "ok": False,
                    "reason": "torch-not-importable",
                    "message": TORCH_IMPORT_ERROR,
                    "python": platform.python_version(),
                    "executable": sys.executable,
                }
            )
        )
        return 3
    if args.count_params:
        print(json.dumps({kind: count_params(kind) for kind in KINDS}))
        return 0
    if args.forward_from:
        print(json.dumps(forward_from(args.forward_from)))
        return 0

    cuda = torch.cuda.is_available() and not args.no_cuda
    cfgs = [c for c in configs(args.threads) if cuda or c["device"] == "cpu"]
    default_threads = torch.get_num_threads()
    results = []
    for kind in args.nets:
        for phase in args.phases:
            for cfg in cfgs:
                row = {"net": kind, "batch": args.batch, "phase": phase, "config": cfg["name"]}
                try:
                    apply_config(cfg)
                    row.update(measure(kind, args.batch, phase, cfg, args))
                    log(f"{kind} {phase} batch {args.batch} {cfg['name']}: {row['ms_median']:.2f} ms/step (median of {row['steps']})")
                except Exception as e:  # one failed measurement must not stop the rest
                    row["error"] = f"{type(e).__name__}: {e}".split("\n")[0]
                    log(f"{kind} {phase} batch {args.batch} {cfg['name']}: error: {row['error']}")
                results.append(row)
    out = {
        "ok": True,
        "torch_version": torch.__version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "default_threads": default_threads,
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "cuda": {
            "available": bool(torch.cuda.is_available()),
            "used": cuda,
            "device": torch.cuda.get_device_name(0) if cuda else None,
            "cuda_version": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if cuda else None,
        },
        "configs": cfgs,
        "param_counts": {kind: count_params(kind) for kind in args.nets},
        "results": results,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
