#!/usr/bin/env python3
"""Reference values for @dale/metrics: FID, KID, precision/recall and Inception Score on fixed feature sets.

Writes packages/metrics/src/__fixtures__/metrics-reference.json. Deterministic: the feature sets come from
numpy's legacy RandomState (stable across numpy versions) and are stored in the fixture as float32, so the
TypeScript tests read exactly the numbers used here. Needs numpy, scipy and mpmath (no network, no GPU):

    /usr/bin/python3 tooling/metrics-reference/make_reference.py [--out FILE]   (default: the committed fixture)

Each metric is computed the way the reference implementation does it (code paraphrased below, with the source):
  FID   pytorch-fid `calculate_frechet_distance` on `np.mean(act, 0)` and `np.cov(act, rowvar=False)` of the float32
        features widened to float64 (scipy.linalg.sqrtm of sigma1 @ sigma2, its imaginary part dropped); also an
        eigh-based float64 value and a 50-digit mpmath value ("exact") for judging both.
  KID   torch-fidelity `kid_features_to_metric` / `polynomial_mmd` / `mmd2` (unbiased), with subsets drawn by the same
        xoshiro128** partial Fisher-Yates shuffle as packages/metrics/src/random.ts instead of numpy's RandomState.
  PR    Kynkaanniemi et al. 2019 (stylegan2-ada-pytorch metrics/precision_recall.py): k-th nearest-neighbour radii,
        `kthvalue(k + 1)` counting the point itself; computed twice (squared float64 distances, and cdist +
        kthvalue) and checked equal; the smallest decision margin is recorded.
  IS    openai/improved-gan inception_score.py: contiguous splits preds[i*N//splits:(i+1)*N//splits], exp of the mean KL
        of p(y|x) from the split's p(y); np.mean and np.std over splits. 0 log 0 = 0.
"""
import argparse
import base64
import json
import math
import os
import sys

import mpmath
import numpy as np
import scipy
from scipy import linalg, special
from scipy.spatial.distance import cdist

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "packages", "metrics", "src", "__fixtures__", "metrics-reference.json")
M32 = 0xFFFFFFFF


# ---------------------------------------------------------------------------------------------------------------
# The generator of packages/metrics/src/random.ts (xoshiro128**, murmur3 fmix32 seeding, 8 outputs discarded).

def fmix32(h):
    h &= M32
    h = ((h ^ (h >> 16)) * 0x85EBCA6B) & M32
    h = ((h ^ (h >> 13)) * 0xC2B2AE35) & M32
    return h ^ (h >> 16)


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Xoshiro128ss:
    def __init__(self, seed):
        lo = seed & M32
        hi = (seed >> 32) & M32
        self.s = [fmix32(lo ^ 0x9E3779B9), fmix32(hi ^ 0x243F6A88), fmix32(lo ^ 0xB7E15162), fmix32(hi ^ 0x85A308D3)]
        if not any(self.s):
            self.s[0] = 1
        for _ in range(8):
            self.next()

    def next(self):
        s0, s1, s2, s3 = self.s
        result = (rotl((s1 * 5) & M32, 7) * 9) & M32
        t = (s1 << 9) & M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result


def sample_without_replacement(rng, n, m):
    idx = list(range(n))
    if m == n:
        return idx
    for i in range(m):
        j = i + math.floor((float(rng.next()) * float(n - i)) / 4294967296.0)
        idx[i], idx[j] = idx[j], idx[i]
    return idx[:m]


# ---------------------------------------------------------------------------------------------------------------
# Feature sets.

def make_sets():
    rs = np.random.RandomState(20240611)
    d = 32
    w1 = rs.randn(d, d) / math.sqrt(d)
    w2 = 0.7 * w1 + 0.5 * rs.randn(d, d) / math.sqrt(d)

    def relu_features(n, w, shift, scale):
        z = rs.randn(n, d)
        return np.maximum(scale * (z @ w) + shift, 0.0)

    sets = {}
    sets["A"] = relu_features(300, w1, 0.4, 1.0)  # inception-like: non-negative, correlated
    sets["B"] = relu_features(280, w2, 0.5, 1.1)
    # Rank-deficient covariances: fewer rows than features.
    sets["C"] = relu_features(20, w1, 0.4, 1.0)
    sets["D"] = relu_features(24, w2, 0.5, 1.1)
    # Nearly singular: column 30 is exactly 2 * column 5 in float32, column 31 is column 0 + column 1 plus 1e-6 noise.
    e = rs.randn(300, d) @ w1 + 0.3
    e = e.astype(np.float32).astype(np.float64)
    e[:, 30] = 2.0 * e[:, 5]
    e[:, 31] = e[:, 0] + e[:, 1] + 1e-6 * rs.randn(300)
    sets["E"] = e
    # Logits for the Inception Score: 1000 rows of 10 classes, confident and class-skewed.
    centers = rs.randn(10, 10) * 3.0
    labels = rs.choice(10, size=1000, p=np.linspace(1, 2, 10) / np.linspace(1, 2, 10).sum())
    sets["L"] = centers[labels] + rs.randn(1000, 10)
    # Probabilities (float32 softmax), with a few rows holding exact zeros (logit -200 underflows in float32).
    logits = centers[rs.choice(10, size=500)] + 2.0 * rs.randn(500, 10)
    logits[::37, 3] = -200.0
    p = special.softmax(logits.astype(np.float32), axis=1).astype(np.float32)
    sets["P"] = p
    return {k: np.asarray(v, dtype=np.float32) for k, v in sets.items()}


def encode(x):
    return {"rows": int(x.shape[0]), "dim": int(x.shape[1]), "f32": base64.b64encode(x.astype("<f4").tobytes()).decode()}


def f64(x):
    return np.asarray(x, dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------------
# FID.

def pytorch_fid(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """pytorch-fid's calculate_frechet_distance (src/pytorch_fid/fid_score.py), returning also the imaginary part."""
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    offset_used = False
    if not np.isfinite(covmean).all():
        offset_used = True
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    imag = 0.0
    if np.iscomplexobj(covmean):
        imag = float(np.max(np.abs(covmean.imag)))
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("Imaginary component {}".format(imag))
        covmean = covmean.real
    tr_covmean = np.trace(covmean)
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean), imag, offset_used


def eigh_fid(mu1, s1, mu2, s2):
    l, v = np.linalg.eigh(s1)
    root = (v * np.sqrt(np.maximum(l, 0))) @ v.T
    mu = np.linalg.eigvalsh(root @ s2 @ root)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.maximum(mu, 0)).sum())


def exact_fid(x1, x2, dps=50):
    """FID of the float32 features in 50-digit arithmetic: exact covariances, mpmath eigsy."""
    with mpmath.workdps(dps):
        def moments(x):
            n, d = x.shape
            rows = [[mpmath.mpf(float(v)) for v in r] for r in x]
            mean = [mpmath.fsum(r[j] for r in rows) / n for j in range(d)]
            cen = [[r[j] - mean[j] for j in range(d)] for r in rows]
            cov = mpmath.matrix(d, d)
            for i in range(d):
                for j in range(i, d):
                    c = mpmath.fsum(r[i] * r[j] for r in cen) / (n - 1)
                    cov[i, j] = c
                    cov[j, i] = c
            return mean, cov

        m1, s1 = moments(x1)
        m2, s2 = moments(x2)
        d = len(m1)
        e, q = mpmath.eigsy(s1)
        root = q * mpmath.diag([mpmath.sqrt(max(e[k], 0)) for k in range(d)]) * q.T
        mu = mpmath.eigsy(root * s2 * root, eigvals_only=True)
        tr = mpmath.fsum(mpmath.sqrt(max(mu[k], 0)) for k in range(d))
        val = mpmath.fsum((m1[j] - m2[j]) ** 2 for j in range(d)) + mpmath.fsum(s1[j, j] + s2[j, j] for j in range(d)) - 2 * tr
        return float(val)


# ---------------------------------------------------------------------------------------------------------------
# KID (torch-fidelity metric_kid.py: mmd2, polynomial_kernel, polynomial_mmd).

def mmd2(K_XX, K_XY, K_YY):
    m = K_XX.shape[0]
    diag_X = np.diagonal(K_XX)
    diag_Y = np.diagonal(K_YY)
    Kt_XX_sums = K_XX.sum(axis=1) - diag_X
    Kt_YY_sums = K_YY.sum(axis=1) - diag_Y
    K_XY_sums_0 = K_XY.sum(axis=0)
    Kt_XX_sum = Kt_XX_sums.sum()
    Kt_YY_sum = Kt_YY_sums.sum()
    K_XY_sum = K_XY_sums_0.sum()
    return (Kt_XX_sum + Kt_YY_sum) / (m * (m - 1)) - 2 * K_XY_sum / (m * m)


def polynomial_kernel(X, Y, degree=3, gamma=None, coef0=1):
    if gamma is None:
        gamma = 1.0 / X.shape[1]
    return (np.matmul(X, Y.T) * gamma + coef0) ** degree


def polynomial_mmd(f1, f2, degree=3):
    return mmd2(polynomial_kernel(f1, f1, degree), polynomial_kernel(f1, f2, degree), polynomial_kernel(f2, f2, degree))


def clean_fid_kid_one(x, y):
    """clean-fid's kernel_distance body for one subset (cleanfid/fid.py), as a cross-check of mmd2."""
    n = x.shape[1]
    m = x.shape[0]
    a = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3
    b = (x @ y.T / n + 1) ** 3
    return ((a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m) / m


def kid(x, y, subsets, subset_size, seed, degree=3):
    m = min(subset_size, len(x), len(y))
    rng = Xoshiro128ss(seed)
    values = []
    for _ in range(subsets):
        ix = sample_without_replacement(rng, len(x), m)
        iy = sample_without_replacement(rng, len(y), m)
        v = polynomial_mmd(x[ix], y[iy], degree)
        if degree == 3:
            assert abs(v - clean_fid_kid_one(x[ix], y[iy])) <= 1e-12 * max(1.0, abs(v)) * 1e3, "clean-fid disagrees"
        values.append(float(v))
    values = np.array(values)
    return {"m": m, "values": values.tolist(), "mean": float(np.mean(values)), "std": float(np.std(values))}


# ---------------------------------------------------------------------------------------------------------------
# Precision and recall.

def pr_squared(real, fake, k):
    def radii(x):
        dd = cdist(x, x, "sqeuclidean")
        np.fill_diagonal(dd, np.inf)
        return np.sort(dd, axis=1)[:, k - 1]

    def inside(probes, manifold, r):
        dd = cdist(probes, manifold, "sqeuclidean")
        gap = (dd - r[None, :]).min(axis=1)  # <= 0 inside
        return gap <= 0, np.abs(gap) / np.mean(r)

    rr, rf = radii(real), radii(fake)
    p_in, p_margin = inside(fake, real, rr)
    r_in, r_margin = inside(real, fake, rf)
    return float(p_in.mean()), float(r_in.mean()), float(min(p_margin.min(), r_margin.min()))


def pr_kthvalue(real, fake, k):
    """stylegan2-ada-pytorch compute_pr in numpy: Euclidean distances, kthvalue(k + 1) including self (float64)."""
    out = []
    for manifold, probes in [(real, fake), (fake, real)]:
        dist = cdist(manifold, manifold)
        kth = np.partition(dist, k, axis=1)[:, k]
        pred = (cdist(probes, manifold) <= kth[None, :]).any(axis=1)
        out.append(float(pred.mean()))  # the original averages in float32; the count is what must agree
    return tuple(out)


# ---------------------------------------------------------------------------------------------------------------
# Inception Score (openai/improved-gan inception_score.py, float64, 0 log 0 = 0).

def inception_score(preds, splits, log_preds=None):
    if log_preds is None:
        with np.errstate(divide="ignore"):
            log_preds = np.log(preds)
    scores = []
    n = preds.shape[0]
    for i in range(splits):
        part = preds[(i * n // splits):((i + 1) * n // splits), :]
        lpart = log_preds[(i * n // splits):((i + 1) * n // splits), :]
        py = np.expand_dims(np.mean(part, 0), 0)
        kl = np.where(part > 0, part * (np.where(part > 0, lpart, 0.0) - np.log(py)), 0.0)
        kl = np.mean(np.sum(kl, 1))
        scores.append(np.exp(kl))
    return {"values": [float(s) for s in scores], "mean": float(np.mean(scores)), "std": float(np.std(scores))}


# ---------------------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=OUT, help="where to write the fixture (default: %(default)s)")
    out_path = ap.parse_args().out
    sets = make_sets()
    out = {
        "generator": "tooling/metrics-reference/make_reference.py",
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__, "mpmath": mpmath.__version__},
        "sets": {k: encode(v) for k, v in sets.items()},
    }
    x = {k: f64(v) for k, v in sets.items()}

    # Stats of A, exactly as pytorch-fid computes them.
    out["stats"] = {
        name: {"n": len(x[name]), "mean": np.mean(x[name], axis=0).tolist(), "cov": np.cov(x[name], rowvar=False).ravel().tolist()}
        for name in ["A", "C"]
    }

    # PRNG test vectors.
    out["prng"] = []
    for seed in [0, 1, -1, 12345, 2**40 + 3, -(2**53) + 1]:
        rng = Xoshiro128ss(seed)
        out["prng"].append({"seed": seed, "outputs": [rng.next() for _ in range(6)]})
    rng = Xoshiro128ss(99)
    out["sample"] = {"seed": 99, "n": 10, "m": 4, "draws": [sample_without_replacement(rng, 10, 4) for _ in range(3)]}

    fid = []
    for a, b in [("A", "B"), ("B", "A"), ("C", "D"), ("C", "A"), ("E", "A"), ("A", "E")]:
        mu1, s1 = np.mean(x[a], axis=0), np.cov(x[a], rowvar=False)
        mu2, s2 = np.mean(x[b], axis=0), np.cov(x[b], rowvar=False)
        value, imag, offset_used = pytorch_fid(mu1, s1, mu2, s2)
        case = {"a": a, "b": b, "pytorchFid": value, "sqrtmMaxImag": imag, "offsetUsed": offset_used, "eigh": eigh_fid(mu1, s1, mu2, s2), "exact": exact_fid(x[a], x[b])}
        print("FID", case, file=sys.stderr)
        fid.append(case)
    out["fid"] = fid

    kid_cases = []
    for a, b, subsets, size, seed, degree in [("A", "B", 25, 100, 7, 3), ("A", "B", 4, 1000, 3, 3), ("E", "A", 3, 1000, 0, 3), ("A", "B", 25, 100, 7, 2)]:
        r = kid(x[a], x[b], subsets, size, seed, degree)
        r.update({"a": a, "b": b, "subsets": subsets, "subsetSize": size, "seed": seed, "degree": degree})
        kid_cases.append(r)
        print("KID", a, b, subsets, size, seed, degree, r["m"], r["mean"], r["std"], file=sys.stderr)
    # The whole-set case does not depend on the generator: check it against polynomial_mmd directly.
    assert abs(kid_cases[2]["mean"] - polynomial_mmd(x["E"], x["A"])) < 1e-15
    out["kid"] = kid_cases

    pr = []
    for real, fake, k in [("A", "B", 3), ("A", "B", 5), ("B", "A", 3), ("C", "D", 3), ("A", "E", 1)]:
        p, r, margin = pr_squared(x[real], x[fake], k)
        assert (p, r) == pr_kthvalue(x[real], x[fake], k), "the two precision/recall computations disagree"
        assert margin > 1e-9, f"a probe lies within {margin} of a ball's boundary; pick other data"
        pr.append({"real": real, "fake": fake, "k": k, "precision": p, "recall": r, "minMargin": margin})
        print("PR", real, fake, k, p, r, margin, file=sys.stderr)
    out["pr"] = pr

    logits = x["L"]
    isc = []
    for splits in [10, 7]:
        r = inception_score(special.softmax(logits, axis=1), splits, special.log_softmax(logits, axis=1))
        r.update({"set": "L", "input": "logits", "splits": splits})
        isc.append(r)
    r = inception_score(x["P"], 10)
    r.update({"set": "P", "input": "probabilities", "splits": 10})
    isc.append(r)
    for r in isc:
        print("IS", r["set"], r["splits"], r["mean"], r["std"], file=sys.stderr)
    out["is"] = isc

    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", out_path, os.path.getsize(out_path), "bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
