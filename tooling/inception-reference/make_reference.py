#!/usr/bin/env python3
"""Reference outputs for @dale/metrics' FID Inception-v3 (packages/metrics/src/inception), committed as a fixture.

    /usr/bin/python3 tooling/inception-reference/make_reference.py                 # rewrites the committed fixture
    /usr/bin/python3 tooling/inception-reference/make_reference.py --out DIR --pth-out DIR   # elsewhere, plus .pth files

The real weights (pt_inception-2015-12-05-6726825d.pth) cannot be fetched here, so this script builds the same
network as pytorch-fid's `fid_inception_v3()` (src/pytorch_fid/inception.py, on top of torchvision's Inception3),
written out by hand because torchvision is not needed, with seeded random weights, and records what it computes in
packages/metrics/src/inception/__fixtures__/inception-reference.json (about 0.3 MB):

  stateDict     every state-dict key (torch's order and names, as in the official file) with its shape and how to
                rebuild it without torch: "uniform" tensors are float32(offset + scale * v_k) for k = first, first + 1,
                ..., where v_k = (2 h_k + 1 - 2^32) / 2^32 and h_k = fmix32((k * 0x9E3779B1 + seed) mod 2^32)
                (murmur3's finaliser, `fmix32` of @dale/random); "stored" tensors (the calibrated BatchNorm running
                statistics) are bfloat16 values in the `stored` blob; num_batches_tracked is int64 1000
  paramsSha256  SHA-256 of all float32 tensors, little-endian, in state-dict order: the test rebuilds the weights and
                checks this before it compares anything
  batches       per batch of formula-generated images (NHWC, float32 in [0, 1]): the SHA-256 of the input, the pool3
                features and fc logits computed in float64 (the reference), and torch's own float32 error per image

The TypeScript test (src/inception/inception.test.ts) rebuilds the weights and the images from this file alone (every
number in them comes from +, -, *, / and floor, which IEEE 754 rounds alike in numpy and JavaScript), writes them as a
zip and a legacy .pth, loads the legacy one through inceptionFeatureExtractor and compares: no torch, no download.
With --pth-out this script also writes the weights with torch.save in both containers (random_inception.pth, zip;
random_inception_legacy.pth, legacy; ~96 MB each), which tooling/fixtures/check.sh reads back with Dale's reader.

Random weights: convolutions uniform with the variance of He's init (scale sqrt(6 / fan_in)). BatchNorm is made to
matter and to keep activations O(1) through the ~95 layers: weight 1 + 0.5 v, bias 0.2 sqrt(3) v (uniform), and in
one float64 pass over 4 calibration images each BN sets, just before it runs, running_mean to the batch mean of its
input plus 0.3 std * N(0, 1), running_var to (the batch variance + 5% of its mean over channels) times
exp(0.5 N(0, 1)), both rounded to bfloat16 (so that the fixture stores them in 2 bytes and the network uses exactly
the stored values). The calibration images are the test formula with other parameters plus one noise image. The fc
layer is scaled so that logits have a standard deviation of ~2 (its scale is stored).

The network matches pytorch-fid exactly:
  * input resized to 299 x 299 with F.interpolate(mode="bilinear", align_corners=False), then scaled to 2x - 1;
  * BasicConv2d = Conv2d(bias=False) + BatchNorm2d(eps=0.001) + ReLU;
  * Mixed_5b..5d (FIDInceptionA), Mixed_6b..6e (FIDInceptionC), Mixed_7b (FIDInceptionE_1): the pool branch is
    avg_pool2d(3, stride 1, padding 1, count_include_pad=False); Mixed_7c (FIDInceptionE_2): max_pool2d(3, 1, 1);
  * Mixed_6a, Mixed_7a: torchvision's InceptionB / InceptionD (max_pool2d(3, stride 2));
  * global average pool -> 2048 features ("pool3"); fc 2048 -> 1008.

Needs torch (CPU is enough; written with Debian's python3-torch 1.13) and numpy. Runtime: about a minute on two
cores. It prints torch's own float32-vs-float64 error per image (max |a - b| / max |b|).
"""
import argparse
import base64
import hashlib
import json
import math
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

    def forward(self, x):
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
        features = x.mean(dim=(2, 3))
        return features, self.fc(features)


HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "..", "packages", "metrics", "src", "inception", "__fixtures__", "inception-reference.json")
M32 = 0xFFFFFFFF


def fmix32(h):
    """murmur3's 32-bit finaliser on a uint64 array of 32-bit words (as fmix32 in packages/random)."""
    h = h ^ (h >> np.uint64(16))
    h = (h * np.uint64(0x85EBCA6B)) & np.uint64(M32)
    h = h ^ (h >> np.uint64(13))
    h = (h * np.uint64(0xC2B2AE35)) & np.uint64(M32)
    return h ^ (h >> np.uint64(16))


def uniform(seed, first, n):
    """v_k in (-1, 1) for k = first .. first + n - 1, float64 (see the module doc); exact in any IEEE 754 language."""
    k = np.arange(first, first + n, dtype=np.uint64)
    h = fmix32((k * np.uint64(0x9E3779B1) + np.uint64(seed)) & np.uint64(M32))
    return (2.0 * h.astype(np.float64) + 1.0 - 2.0**32) / 2.0**32


def bfloat16(x):
    """x rounded to bfloat16 (nearest, ties to even), as float32, and its 16-bit patterns."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    bits = ((u + np.uint64(0x7FFF) + ((u >> np.uint64(16)) & np.uint64(1))) >> np.uint64(16)).astype(np.uint16)
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32), bits


def blob(array, dtype):
    a = np.ascontiguousarray(array, dtype=dtype)
    return {"dtype": dtype, "shape": list(a.shape), "base64": base64.b64encode(a.tobytes()).decode()}


class Weights:
    """Builds the state dict in torch's order, drawing "uniform" tensors from the hash and recording how."""

    def __init__(self, seed):
        self.seed = seed
        self.next = 0
        self.entries = {}

    def uniform(self, key, shape, scale, offset=0.0):
        n = int(np.prod(shape))
        values = (offset + scale * uniform(self.seed, self.next, n)).astype(np.float32).reshape(shape)
        entry = {"key": key, "shape": list(shape), "init": "uniform", "first": self.next, "scale": scale}
        if offset != 0.0:
            entry["offset"] = offset
        self.entries[key] = entry
        self.next += n
        return torch.from_numpy(values)


def randomize(model, calibration, weights, gen):
    """Random weights with calibrated-then-perturbed BatchNorm statistics (see the module doc)."""
    state_keys = list(model.state_dict().keys())
    modules = dict(model.named_modules())
    for key in state_keys:
        owner, _, name = key.rpartition(".")
        m = modules[owner]
        with torch.no_grad():
            if isinstance(m, nn.Conv2d):
                fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
                m.weight.copy_(weights.uniform(key, m.weight.shape, (6.0 / fan_in) ** 0.5))
            elif isinstance(m, nn.BatchNorm2d) and name == "weight":
                m.weight.copy_(weights.uniform(key, m.weight.shape, 0.5, offset=1.0))
            elif isinstance(m, nn.BatchNorm2d) and name == "bias":
                m.bias.copy_(weights.uniform(key, m.bias.shape, 0.2 * 3.0**0.5))

    def calibrate(bn, inputs):
        (x,) = inputs
        c = x.shape[1]
        mean = x.mean(dim=(0, 2, 3))
        var = x.var(dim=(0, 2, 3), unbiased=False)
        with torch.no_grad():
            running_mean = mean + 0.3 * var.sqrt() * torch.randn(c, generator=gen, dtype=torch.float64)
            # The floor keeps near-constant channels from amplifying rounding errors (an ill-conditioned network
            # would make float32 differ from float64 by more than the comparison could tell apart).
            floor = 0.05 * var.mean()
            running_var = (var + floor) * torch.exp(0.5 * torch.randn(c, generator=gen, dtype=torch.float64))
            bn.running_mean.copy_(torch.from_numpy(bfloat16(running_mean.numpy())[0]))
            bn.running_var.copy_(torch.from_numpy(bfloat16(running_var.numpy())[0]))
        bn.num_batches_tracked.fill_(1000)

    hooks = [m.register_forward_pre_hook(calibrate) for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    model.eval()
    with torch.no_grad():
        features, _ = model(calibration)
    for h in hooks:
        h.remove()
    rms = float(features.pow(2).sum(dim=1).sqrt().mean())
    with torch.no_grad():
        model.fc.weight.copy_(weights.uniform("fc.weight", model.fc.weight.shape, 3.0**0.5 * 2.0 / rms))
        model.fc.bias.copy_(weights.uniform("fc.bias", model.fc.bias.shape, 0.5 * 3.0**0.5))


def wave(x):
    """A sine-like wave of period 1 (max 1 at 1/4, min -1 at 3/4, continuous slope) from +, -, * and floor only."""
    t = x - math.floor(x)
    return 16 * t * (0.5 - t) if t < 0.5 else -16 * (t - 0.5) * (1 - t)


def image(h, w, c, n):
    """Image n of a formula family: [H, W, C] float64 in [0, 1]. inception.test.ts evaluates the same expression."""
    out = np.empty((h, w, c), dtype=np.float64)
    for i in range(h):
        for j in range(w):
            for k in range(c):
                a = wave(0.44 * (i + 1) * (n + 1) / h + 0.027 * j * j / w + 0.2 * k + 0.16 * n)
                b = wave(0.033 * j - 0.008 * i * (n + 2) + 0.11 * k + 0.25)
                out[i, j, k] = 0.5 + 0.5 * a * b
    return out


def test_inputs():
    """Formula-generated images, NHWC float32 in [0, 1]: 28x28 gray, 32x32 RGB, and one 320x304 RGB (downsampled)."""

    def batch(h, w, c, ns):
        return np.stack([image(h, w, c, n) for n in ns]).astype(np.float32)

    return [
        ("gray28", [0, 1], batch(28, 28, 1, [0, 1])),
        ("rgb32", [2, 3], batch(32, 32, 3, [2, 3])),
        ("rgb320x304", [4], batch(320, 304, 3, [4])),
    ]


def forward(model, nhwc, dtype):
    x = torch.from_numpy(nhwc).permute(0, 3, 1, 2).to(dtype)
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    with torch.no_grad():
        f, logits = model(x)
    return f.double().numpy(), logits.double().numpy()


def save_atomic(path, write):
    tmp = f"{path}.part-{os.getpid()}"
    write(tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.dirname(FIXTURE), help="folder for inception-reference.json (default: the committed fixture's)")
    ap.add_argument("--pth-out", help="also write the weights with torch.save here (zip and legacy, ~96 MB each)")
    ap.add_argument("--seed", type=int, default=20151205)
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    gen = torch.Generator().manual_seed(args.seed)
    weights = Weights(args.seed)
    model = FIDInceptionV3().double()
    # Calibration images: the test formula with other parameters (36x36, upsampled by the network) and one noise image.
    smooth = torch.from_numpy(np.stack([image(36, 36, 3, n) for n in (10, 11, 12)])).permute(0, 3, 1, 2)
    smooth = F.interpolate(smooth, size=(299, 299), mode="bilinear", align_corners=False)
    noise = torch.rand(1, 3, 299, 299, generator=gen, dtype=torch.float64)
    calibration = torch.cat([smooth, noise])
    randomize(model, calibration, weights, gen)

    # The weights are float32, like the official file; the float64 reference uses exactly those values.
    model = model.float()
    state = model.state_dict()
    names = list(state.keys())
    assert names[0] == "Conv2d_1a_3x3.conv.weight" and names[-1] == "fc.bias", names[:3]
    entries = []
    stored = []
    stored_count = 0
    digest = hashlib.sha256()
    for key, value in state.items():
        if key.endswith(".num_batches_tracked"):
            entries.append({"key": key, "shape": [], "init": "int64", "value": int(value)})
            continue
        flat = value.numpy().astype("<f4").reshape(-1)
        digest.update(flat.tobytes())
        if key in weights.entries:
            entries.append(weights.entries[key])
        else:
            assert key.endswith((".running_mean", ".running_var")), key
            rounded, bits = bfloat16(flat)
            assert np.array_equal(rounded, flat), f"{key} is not bfloat16"
            entries.append({"key": key, "shape": list(value.shape), "init": "stored", "first": stored_count})
            stored.append(bits)
            stored_count += len(bits)
    if args.pth_out:
        os.makedirs(args.pth_out, exist_ok=True)
        save_atomic(os.path.join(args.pth_out, "random_inception.pth"), lambda p: torch.save(state, p))
        save_atomic(
            os.path.join(args.pth_out, "random_inception_legacy.pth"),
            lambda p: torch.save(state, p, _use_new_zipfile_serialization=False),
        )

    model64 = FIDInceptionV3().double().eval()
    model64.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in state.items()})
    model.eval()
    batches = []
    for name, ns, nhwc in test_inputs():
        f64, l64 = forward(model64, nhwc, torch.float64)
        f32, l32 = forward(model, nhwc, torch.float32)
        rel_f = np.abs(f32 - f64).max(axis=1) / np.abs(f64).max(axis=1)
        rel_l = np.abs(l32 - l64).max(axis=1) / np.abs(l64).max(axis=1)
        print(f"{name}: features std {f64.std():.4f} mean {f64.mean():.4f} max {f64.max():.4f}; logits std {l64.std():.3f}; "
              f"torch float32 vs float64: max|a-b|/max|b| per image {', '.join(f'{r:.2e}' for r in rel_f)}", file=sys.stderr)
        if not (0.1 <= f64.std() <= 10):
            raise SystemExit(f"{name}: feature std {f64.std()} is outside [0.1, 10]; the random network vanished or exploded")
        batches.append({
            "name": name,
            "images": ns,
            "shape": list(nhwc.shape),
            "inputSha256": hashlib.sha256(np.ascontiguousarray(nhwc, dtype="<f4").tobytes()).hexdigest(),
            "features64": blob(f64, "<f8"),
            "logits64": blob(l64, "<f8"),
            "torch32": {"features": rel_f.tolist(), "logits": rel_l.tolist()},
        })

    reference = {
        "generator": "tooling/inception-reference/make_reference.py",
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__, "numpy": np.__version__},
        "seed": args.seed,
        "paramsSha256": digest.hexdigest(),
        "stateDict": entries,
        "stored": blob(np.concatenate(stored), "<u2"),
        "batches": batches,
    }
    os.makedirs(args.out, exist_ok=True)
    out = os.path.join(args.out, "inception-reference.json")
    save_atomic(out, lambda p: open(p, "w").write(json.dumps(reference, indent=1) + "\n"))
    print(f"wrote {out} ({os.path.getsize(out)} bytes)" + (f" and {args.pth_out}/random_inception{{,_legacy}}.pth" if args.pth_out else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
