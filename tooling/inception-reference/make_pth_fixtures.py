#!/usr/bin/env python3
"""Writes the small .pth fixtures of @dale/metrics' PyTorch state-dict reader (packages/metrics/src/torch/__fixtures__).

    /usr/bin/python3 tooling/inception-reference/make_pth_fixtures.py [--out packages/metrics/src/torch/__fixtures__]

Needs torch (any version >= 1.6; written with 1.13). Deterministic: the tensors come from a seeded generator and from
formulas, so re-running it rewrites the same values (the zip container and the legacy storage keys, which are memory
addresses, may differ byte for byte; expected.json does not).

Files:
  small_zip.pth       torch.save(state_dict)                                   zip container, pickle protocol 2
  small_zip_p4.pth    torch.save(state_dict, pickle_protocol=4)                zip, FRAME / STACK_GLOBAL / MEMOIZE opcodes
  small_legacy.pth    torch.save(state_dict, _use_new_zipfile_serialization=False)  the pre-1.6 format
  expected.json       every tensor: dtype, shape and row-major values (int64 as decimal strings)
  evil_*.pth/.pkl     pickles that would run code if loaded with pickle.load; the reader must refuse all of them
"""
import argparse
import collections
import io
import json
import math
import os
import pickle
import struct
import zipfile

import torch


def state_dict():
    g = torch.Generator().manual_seed(20240601)
    sd = collections.OrderedDict()
    sd["conv.weight"] = torch.randn(2, 3, 2, 2, generator=g)
    sd["conv.bias"] = torch.randn(2, generator=g)
    sd["bn.running_mean"] = torch.randn(2, generator=g)
    sd["bn.num_batches_tracked"] = torch.tensor(2**40 + 3, dtype=torch.int64)
    # float16: normal, the largest finite value, the smallest subnormal, -0, +-inf.
    sd["half"] = torch.tensor([1.5, -2.25, 65504.0, 2.0**-24, -0.0, math.inf, -math.inf], dtype=torch.float16)
    sd["bfloat16"] = torch.tensor([1.0, -3.140625, 1e30, 2.0**-130], dtype=torch.bfloat16)
    sd["double"] = torch.tensor([[1.0 / 3.0, -1e-300, 1e300], [math.pi, -math.e, 0.1]], dtype=torch.float64)
    sd["int64"] = torch.tensor([-(2**62), -1, 0, 2**53 + 1], dtype=torch.int64)
    sd["int32"] = torch.tensor([-(2**31), 7, 2**31 - 1], dtype=torch.int32)
    sd["int16"] = torch.tensor([-32768, 5, 32767], dtype=torch.int16)
    sd["int8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
    sd["uint8"] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    # Shared storage, storage offsets and strides.
    base = torch.arange(20, dtype=torch.float32).reshape(4, 5) * 0.5 - 3
    sd["view.base"] = base
    sd["view.t"] = base.t()  # strides (1, 5), same storage
    sd["view.block"] = base[1:3, 1:4]  # offset 6, strides (5, 1)
    sd["view.flat"] = base.view(-1)[5:9]  # offset 5, contiguous
    sd["view.every_other"] = base[:, ::2]  # strides (5, 2)
    sd["view.expanded"] = torch.tensor([1.0, 2.0, 3.0]).expand(4, 3)  # stride (0, 1)
    sd["empty"] = torch.zeros(0, 3)
    sd["scalar"] = torch.tensor(-7.25)
    sd["param"] = torch.nn.Parameter(torch.tensor([0.25, -0.5]))  # saved through torch._utils._rebuild_parameter
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("conv", {"version": 1}), ("bn", {"version": 2})])
    return sd


def encode_values(t):
    flat = t.detach().contiguous().reshape(-1)
    if t.dtype == torch.int64:
        return [str(int(v)) for v in flat.tolist()]
    if t.dtype == torch.bool:
        return [bool(v) for v in flat.tolist()]
    if t.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        out = []
        for v in flat.double().tolist():
            out.append(v if math.isfinite(v) else ("inf" if v > 0 else "-inf"))
        return out
    return [int(v) for v in flat.tolist()]


class Evil:
    """An object whose pickle calls `fn(*args)` on load: what a malicious weights file does."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def legacy_header():
    """The three small pickles that start every legacy file: magic number, protocol version, sys info."""
    out = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6C, out, protocol=2)
    pickle.dump(1001, out, protocol=2)
    pickle.dump(dict(protocol_version=1001, little_endian=True, type_sizes=dict(short=2, int=4, long=4)), out, protocol=2)
    return out.getvalue()


def replace_data_pkl(zip_bytes, payload):
    """A copy of a torch zip archive with its data.pkl replaced (stored, like torch writes it)."""
    src = zipfile.ZipFile(io.BytesIO(zip_bytes))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = payload if info.filename.endswith("/data.pkl") else src.read(info.filename)
            dst.writestr(info.filename, data)
    return out.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "packages", "metrics", "src", "torch", "__fixtures__"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    def write(name, data):
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")

    sd = state_dict()
    for name, kwargs in [
        ("small_zip.pth", {}),
        ("small_zip_p4.pth", {"pickle_protocol": 4}),
        ("small_legacy.pth", {"_use_new_zipfile_serialization": False}),
    ]:
        buf = io.BytesIO()
        torch.save(sd, buf, **kwargs)
        write(name, buf.getvalue())
        # Round trip through torch itself, so expected.json describes what torch reads back.
        back = torch.load(io.BytesIO(buf.getvalue()))
        assert list(back.keys()) == list(sd.keys())
    expected = {
        "tensors": {
            k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape), "values": encode_values(v)}
            for k, v in sd.items()
        },
        "metadata": {k: v for k, v in sd._metadata.items()},
    }
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    zip_bytes = io.BytesIO()
    torch.save(collections.OrderedDict(w=torch.ones(2)), zip_bytes)
    zip_bytes = zip_bytes.getvalue()
    system = Evil(os.system, ("echo pwned > /tmp/dale-pwned",))
    evil_eval = Evil(eval, ("__import__('os').system('echo pwned > /tmp/dale-pwned')",))
    # 1. A bare pickle: GLOBAL builtins.eval + REDUCE.
    write("evil_eval.pkl", pickle.dumps(evil_eval, protocol=2))
    # 2. A torch zip whose data.pkl calls os.system (GLOBAL posix.system + REDUCE) as a state-dict value.
    write("evil_system_zip.pth", replace_data_pkl(zip_bytes, pickle.dumps(collections.OrderedDict(w=system), protocol=2)))
    # 3. The same with protocol 4 (STACK_GLOBAL instead of GLOBAL).
    write("evil_system_zip_p4.pth", replace_data_pkl(zip_bytes, pickle.dumps({"w": system}, protocol=4)))
    # 4. A legacy file whose object pickle calls builtins.eval.
    write("evil_eval_legacy.pth", legacy_header() + pickle.dumps({"w": evil_eval}, protocol=2) + pickle.dumps([], protocol=2))
    # 5. Protocol 0 INST opcode (calls the class/function named in the opcode itself, no GLOBAL+REDUCE).
    cmd = b"echo pwned > /tmp/dale-pwned"
    write("evil_inst.pkl", b"\x80\x02(X" + struct.pack("<I", len(cmd)) + cmd + b"ios\nsystem\n.")
    # 6. An allowed function called with a smuggled callable: OrderedDict(builtins.exec) would be refused by the
    #    GLOBAL allow-list before any call; this one hides the call inside a tensor's backward_hooks.
    hooks = collections.OrderedDict([(0, Evil(os.system, ("echo pwned > /tmp/dale-pwned",)))])
    write(
        "evil_hooks_zip.pth",
        replace_data_pkl(
            zip_bytes,
            b"\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n"
            b"((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x02tQK\x00K\x02\x85K\x01\x85\x89"
            + pickle.dumps(hooks, protocol=2)[2:-1]
            + b"tRu.",
        ),
    )


if __name__ == "__main__":
    main()
