#!/usr/bin/env python3
"""Reference outputs for @dale/metrics' FID Inception-v3 (packages/metrics/src/inception).

    /usr/bin/python3 tooling/inception-reference/make_reference.py --out tooling/inception-reference/.cache

The real weights (pt_inception-2015-12-05-6726825d.pth) cannot be fetched here, so this script builds the same
network as pytorch-fid's `fid_inception_v3()` (src/pytorch_fid/inception.py, on top of torchvision's Inception3),
written out by hand because torchvision is not needed, with seeded random weights, and records what it computes:

  random_inception.pth         its state dict, torch.save default (zip container), float32, keys as in the official file
  random_inception_legacy.pth  the same state dict with _use_new_zipfile_serialization=False (pre-1.6 format)
  reference.json               inputs (NHWC, float32 values in [0, 1]), and per batch the pool3 features and the
                               fc logits computed in float64 (the reference) and in float32 (for comparison)

Random weights: convolutions N(0, 2 / fan_in). BatchNorm is made to matter and to keep activations O(1) through the
~95 layers: in one float64 pass over 4 calibration images, each BN sets, just before it runs, running_mean to the
batch mean of its input plus 0.3 std * N(0, 1), running_var to (the batch variance + 5% of its mean over channels)
times exp(0.5 N(0, 1)), weight to U(0.5, 1.5) and bias to N(0, 0.2). The calibration images are the test formula
with other parameters plus one noise image. The fc layer is scaled so that logits have a standard deviation of ~2.

The network matches pytorch-fid exactly:
  * input resized to 299 x 299 with F.interpolate(mode="bilinear", align_corners=False), then scaled to 2x - 1;
  * BasicConv2d = Conv2d(bias=False) + BatchNorm2d(eps=0.001) + ReLU;
  * Mixed_5b..5d (FIDInceptionA), Mixed_6b..6e (FIDInceptionC), Mixed_7b (FIDInceptionE_1): the pool branch is
    avg_pool2d(3, stride 1, padding 1, count_include_pad=False); Mixed_7c (FIDInceptionE_2): max_pool2d(3, 1, 1);
  * Mixed_6a, Mixed_7a: torchvision's InceptionB / InceptionD (max_pool2d(3, stride 2));
  * global average pool -> 2048 features ("pool3"); fc 2048 -> 1008.

Needs torch (CPU is enough; written with 1.13) and numpy. Runtime: about a minute on two cores.
Measured: torch float32 vs float64 differ by 5e-6..2e-5 (max |a - b| / max |b| per image) on the small images and
1.2e-4 on the 320x304 one (float32 resize coordinates); the script prints these.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicConv2d(nn.Module):
    def __init__(self, cin, cout, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class FIDInceptionA(nn.Module):
    def __init__(self, cin, pool_features):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))
        return torch.cat([b1, b5, b3, bp], 1)


class InceptionB(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, bd, bp], 1)


class FIDInceptionC(nn.Module):
    def __init__(self, cin, channels_7x7):
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for m in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            bd = m(bd)
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))
        return torch.cat([b1, b7, bd, bp], 1)


class InceptionD(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, b7, bp], 1)


class FIDInceptionE(nn.Module):
    """FIDInceptionE_1 (pool="avg", count_include_pad=False) and FIDInceptionE_2 (pool="max")."""

    def __init__(self, cin, pool):
        super().__init__()
        self.pool = pool
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        if self.pool == "avg":
            bp = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        else:
            bp = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        return torch.cat([b1, b3, bd, self.branch_pool(bp)], 1)


class FIDInceptionV3(nn.Module):
    """pytorch-fid's InceptionV3(output_blocks=[3]) plus the fc layer, with torchvision's module names."""

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = FIDInceptionA(192, pool_features=32)
        self.Mixed_5c = FIDInceptionA(256, pool_features=64)
        self.Mixed_5d = FIDInceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
        self.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = FIDInceptionE(1280, "avg")
        self.Mixed_7c = FIDInceptionE(2048, "max")
        self.fc = nn.Linear(2048, 1008)

    def forward(self, x, trace=None):
        """x: [N, 3, H, W] in [0, 1] -> (pool3 features [N, 2048], logits [N, 1008])."""
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        stages = [
            ("Conv2d_1a_3x3", self.Conv2d_1a_3x3),
            ("Conv2d_2a_3x3", self.Conv2d_2a_3x3),
            ("Conv2d_2b_3x3", self.Conv2d_2b_3x3),
            ("maxpool1", lambda t: F.max_pool2d(t, kernel_size=3, stride=2)),
            ("Conv2d_3b_1x1", self.Conv2d_3b_1x1),
            ("Conv2d_4a_3x3", self.Conv2d_4a_3x3),
            ("maxpool2", lambda t: F.max_pool2d(t, kernel_size=3, stride=2)),
        ] + [(n, getattr(self, n)) for n in ["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
                                             "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"]]
        for name, stage in stages:
            x = stage(x)
            if trace is not None:
                trace[name] = x[0].mean(dim=(1, 2)).double().tolist()  # image 0, channel means
        features = x.mean(dim=(2, 3))
        return features, self.fc(features)


def randomize(model, calibration, gen):
    """Random weights with calibrated-then-perturbed BatchNorm statistics (see the module doc)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen, dtype=torch.float64) * (2.0 / fan_in) ** 0.5)

    def calibrate(bn, inputs):
        (x,) = inputs
        c = x.shape[1]
        mean = x.mean(dim=(0, 2, 3))
        var = x.var(dim=(0, 2, 3), unbiased=False)
        with torch.no_grad():
            bn.running_mean.copy_(mean + 0.3 * var.sqrt() * torch.randn(c, generator=gen, dtype=torch.float64))
            # The floor keeps near-constant channels from amplifying rounding errors (an ill-conditioned network
            # would make float32 differ from float64 by more than the comparison could tell apart).
            floor = 0.05 * var.mean()
            bn.running_var.copy_((var + floor) * torch.exp(0.5 * torch.randn(c, generator=gen, dtype=torch.float64)))
            bn.weight.copy_(0.5 + torch.rand(c, generator=gen, dtype=torch.float64))
            bn.bias.copy_(0.2 * torch.randn(c, generator=gen, dtype=torch.float64))
        bn.num_batches_tracked.fill_(1000)

    hooks = [m.register_forward_pre_hook(calibrate) for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    model.eval()
    with torch.no_grad():
        features, _ = model(calibration)
    for h in hooks:
        h.remove()
    rms = features.pow(2).sum(dim=1).sqrt().mean()
    with torch.no_grad():
        model.fc.weight.copy_(torch.randn(model.fc.weight.shape, generator=gen, dtype=torch.float64) * (2.0 / rms))
        model.fc.bias.copy_(0.5 * torch.randn(1008, generator=gen, dtype=torch.float64))


def image(h, w, c, n):
    """Image n of a formula family: [H, W, C] float64 in [0, 1]."""
    i = np.arange(h, dtype=np.float64)[:, None, None]
    j = np.arange(w, dtype=np.float64)[None, :, None]
    k = np.arange(c, dtype=np.float64)[None, None, :]
    a = np.sin(0.31 * (i + 1) * (n + 1) / h * 9 + 0.17 * j * j / w + 1.3 * k + n)
    return 0.5 + 0.5 * a * np.cos(0.21 * j - 0.05 * i * (n + 2) + 0.7 * k)


def test_inputs():
    """Formula-generated images, NHWC float32 in [0, 1]: 28x28 gray, 32x32 RGB, and one 320x304 RGB (downsampled)."""

    def batch(h, w, c, ns):
        return np.stack([image(h, w, c, n) for n in ns]).astype(np.float32)

    return [
        ("gray28", batch(28, 28, 1, [0, 1])),
        ("rgb32", batch(32, 32, 3, [2, 3])),
        ("rgb320x304", batch(320, 304, 3, [4])),
    ]


def forward(model, nhwc, dtype, trace=None):
    x = torch.from_numpy(nhwc).permute(0, 3, 1, 2).to(dtype)
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    with torch.no_grad():
        f, logits = model(x, trace)
    return f.double().numpy(), logits.double().numpy()


def save_atomic(path, write):
    tmp = f"{path}.part-{os.getpid()}"
    write(tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder (gitignored: tooling/inception-reference/.cache)")
    ap.add_argument("--seed", type=int, default=20151205)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    gen = torch.Generator().manual_seed(args.seed)
    model = FIDInceptionV3().double()
    # Calibration images: the test formula with other parameters (36x36, upsampled by the network) and one noise image.
    smooth = torch.from_numpy(np.stack([image(36, 36, 3, n) for n in (10, 11, 12)])).permute(0, 3, 1, 2)
    smooth = F.interpolate(smooth, size=(299, 299), mode="bilinear", align_corners=False)
    noise = torch.rand(1, 3, 299, 299, generator=gen, dtype=torch.float64)
    calibration = torch.cat([smooth, noise])
    randomize(model, calibration, gen)

    # The saved weights are float32, like the official file; the float64 reference uses exactly those values.
    model = model.float()
    state = model.state_dict()
    names = list(state.keys())
    assert names[0] == "Conv2d_1a_3x3.conv.weight" and names[-1] == "fc.bias", names[:3]
    save_atomic(os.path.join(args.out, "random_inception.pth"), lambda p: torch.save(state, p))
    save_atomic(
        os.path.join(args.out, "random_inception_legacy.pth"),
        lambda p: torch.save(state, p, _use_new_zipfile_serialization=False),
    )

    model64 = FIDInceptionV3().double().eval()
    model64.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in state.items()})
    model.eval()
    batches = []
    for name, nhwc in test_inputs():
        trace = {} if name == "rgb32" else None
        f64, l64 = forward(model64, nhwc, torch.float64, trace)
        f32, l32 = forward(model, nhwc, torch.float32)
        rel = np.abs(f32 - f64).max(axis=1) / np.abs(f64).max(axis=1)
        print(f"{name}: features std {f64.std():.4f} mean {f64.mean():.4f} max {f64.max():.4f}; logits std {l64.std():.3f}; "
              f"torch float32 vs float64: max|a-b|/max|b| per image {rel.max():.2e}", file=sys.stderr)
        if not (0.1 <= f64.std() <= 10):
            raise SystemExit(f"{name}: feature std {f64.std()} is outside [0.1, 10]; the random network vanished or exploded")
        entry = {
            "name": name,
            "shape": list(nhwc.shape),
            "input": nhwc.reshape(-1).astype(np.float64).tolist(),
            "features64": f64.tolist(),
            "logits64": l64.tolist(),
            "features32": f32.tolist(),
            "logits32": l32.tolist(),
        }
        if trace is not None:
            entry["trace"] = trace
        batches.append(entry)

    with open(os.path.abspath(__file__), "rb") as f:
        script_sha256 = hashlib.sha256(f.read()).hexdigest()
    reference = {
        "script_sha256": script_sha256,
        "torch": torch.__version__,
        "seed": args.seed,
        "weights": ["random_inception.pth", "random_inception_legacy.pth"],
        "batches": batches,
    }
    # Written last: its presence (with this script's hash) marks a complete cache.
    save_atomic(os.path.join(args.out, "reference.json"), lambda p: open(p, "w").write(json.dumps(reference)))
    print(f"wrote {args.out}/random_inception.pth, random_inception_legacy.pth, reference.json", file=sys.stderr)


if __name__ == "__main__":
    main()
