#!/usr/bin/env python3
"""Reference values for dale-metrics (packages/metrics/src/cli.ts) on float64 features that numpy writes.

The same features also as .npz files: pytorch-fid's statistics (mu, sigma; stored and compressed) and the features
themselves, with an object-array .npz that a reader must refuse.

Two feature sets of float64 rows (correlated dimensions, a common offset, the second set shifted and wider), stored as
the exact bytes numpy.save writes, and FID (pytorch-fid's formula with scipy's sqrtm),
KID (torch-fidelity's polynomial MMD on the subsets of Dale's generator) and precision/recall (Kynkaanniemi et al.)
computed on them in float64 with the functions of make_reference.py.

    /usr/bin/python3 tooling/metrics-reference/make_cli_reference.py [--out FILE]
"""
import argparse
import base64
import io
import json
import os
import sys
import zipfile

import numpy as np
import scipy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_reference as ref  # noqa: E402

OFFSET = 2.0
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "packages", "metrics", "src", "__fixtures__", "cli-reference.json")


def npy_bytes(x):
    f = io.BytesIO()
    np.save(f, x)
    return f.getvalue()


def npz_bytes(compressed=False, **arrays):
    """What numpy.savez (or savez_compressed) writes, with a fixed member timestamp so that the fixture is reproducible:
    numpy's own code path (zipfile members opened with force_zip64, numpy.lib.format.write_array), which otherwise
    stamps each member with the current time."""
    f = io.BytesIO()
    compression = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(f, mode="w", compression=compression, allowZip64=True) as z:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            with z.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=True)
    return f.getvalue()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    rng = np.random.RandomState(20261205)
    dim = 24
    mix = rng.standard_normal((dim, dim)) / np.sqrt(dim)
    real = rng.standard_normal((160, dim)) @ mix + OFFSET
    fake = (rng.standard_normal((140, dim)) * 1.2 + 0.15) @ mix + OFFSET
    real = np.ascontiguousarray(real, dtype="<f8")
    fake = np.ascontiguousarray(fake, dtype="<f8")

    def stats(x):
        return x.mean(axis=0), np.cov(x, rowvar=False)

    fid, imag, offset = ref.pytorch_fid(*stats(real), *stats(fake))
    kid = ref.kid(real, fake, subsets=20, subset_size=100, seed=5)
    mean, std = real.mean(axis=0), real.std(axis=0, ddof=0)
    kid_std = ref.kid((real - mean) / std, (fake - mean) / std, subsets=20, subset_size=100, seed=5)
    precision, recall, margin = ref.pr_squared(real, fake, 3)
    assert (precision, recall) == ref.pr_kthvalue(real, fake, 3), "the two precision/recall computations disagree"
    assert margin > 1e-9, "a probe lies on a ball's boundary, where float rounding decides precision/recall"
    out = {
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__},
        "real": base64.b64encode(npy_bytes(real)).decode(),
        "fake": base64.b64encode(npy_bytes(fake)).decode(),
        # pytorch-fid's --save-stats format (np.savez(path, mu=mu, sigma=sigma)), stored and deflated; the features in
        # an .npz of one array; and an object array, which only pickle can read and the reader must refuse.
        "realStatsNpz": base64.b64encode(npz_bytes(mu=stats(real)[0], sigma=stats(real)[1])).decode(),
        "fakeStatsNpzCompressed": base64.b64encode(npz_bytes(True, mu=stats(fake)[0], sigma=stats(fake)[1])).decode(),
        "fakeFeaturesNpz": base64.b64encode(npz_bytes(features=fake)).decode(),
        "objectNpz": base64.b64encode(npz_bytes(mu=np.array([{"a": 1}], dtype=object))).decode(),
        "fid": {"pytorchFid": fid, "eigh": ref.eigh_fid(*stats(real), *stats(fake)), "sqrtmMaxImag": imag, "offsetUsed": offset},
        "kid": {"subsets": 20, "subsetSize": 100, "seed": 5, "m": kid["m"], "mean": kid["mean"], "std": kid["std"]},
        "kidStandardized": {"mean": kid_std["mean"], "std": kid_std["std"]},
        "pr": {"k": 3, "precision": precision, "recall": recall, "minMargin": margin},
    }
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {args.out}: FID {fid!r}, KID {kid['mean']!r}, P {precision}, R {recall}")


if __name__ == "__main__":
    main()
