#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets into fuzz/corpus/<target>/ (committed; run
again only to change the seeds). Deterministic: the same files every time.

sweep:   the sweep files of experiments/ (every feature: blocks, zips, init_from tables),
         and fuzz/sweep.dict: their keys, table headers and string values, which libFuzzer
         inserts whole (a mutated byte rarely spells a key).
idx:     small valid IDX files (images, labels, 2-D), plain and gzip.
cifar:   CIFAR-10 binary files of 1 and 2 records, plain and gzip.
weights: tamper programs (bytes the target decodes into HDF5 edits); any bytes are valid.
"""
import gzip
import pathlib
import random
import re
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def put(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def gz(data):
    return gzip.compress(data, mtime=0)


def idx(dims, payload):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(payload)


def cifar(n):
    out = bytearray()
    for r in range(n):
        out.append(r % 10)
        out += bytes((7 * r + k) % 256 for k in range(3072))
    return bytes(out)


def main():
    tokens = {"[train.zip]", "init_from = {", "[[train.block]]"}
    for toml in sorted((ROOT / "experiments").glob("*.toml")):
        put("sweep", toml.name, toml.read_bytes())
        text = toml.read_text()
        tokens.update(re.findall(r"^\s*([a-z_]+)\s*=", text, re.M))
        tokens.update(re.findall(r"^(\[+[a-z_.]+\]+)", text, re.M))
        tokens.update(re.findall(r'("[a-z0-9_.-]+")', text))
    lines = ['"%s"' % t.replace("\\", "\\\\").replace('"', '\\"') for t in sorted(tokens)]
    (ROOT / "fuzz" / "sweep.dict").write_text("\n".join(lines) + "\n")

    images = idx([2, 4, 4], [(i * 37) % 256 for i in range(32)])
    put("idx", "images-2x4x4", images)
    put("idx", "images-2x4x4.gz", gz(images))
    put("idx", "labels-3", idx([3], [7, 0, 9]))
    put("idx", "matrix-3x2", idx([3, 2], range(6)))
    put("idx", "empty-0", idx([0], []))

    put("cifar", "one-record", cifar(1))
    put("cifar", "two-records", cifar(2))
    put("cifar", "two-records.gz", gz(cifar(2)))

    rng = random.Random(2024)
    for i in range(8):
        put("weights", f"tamper-{i}", bytes(rng.randrange(256) for _ in range(rng.randrange(16, 200))))


if __name__ == "__main__":
    main()
