"""The checksums of a weights file as docs/weights.md ("Checksum") describes them, computed
with h5py and NumPy alone, without ternbench's code.

    weights_checksum.py verify FILE...   exit 0 if every file's checksums match, else name
                                         the first item that differs and exit 1
    weights_checksum.py sign FILE        rewrite FILE's checksums from its contents, as an
                                         editor who knows the recipe would
"""
import hashlib
import sys

import h5py
import numpy as np

DATASET_TAGS = {"float32": b"f32\n", "float64": b"f64\n", "uint64": b"u64\n", "uint8": b"u8\n"}


def value_bytes(v):
    if isinstance(v, bytes):  # a fixed-length string, NUL-padded
        v = v.rstrip(b"\0").decode()
    if isinstance(v, str):
        return b"str\n" + v.encode("utf-8")
    if isinstance(v, (int, np.integer)):
        return b"int\n" + np.int64(v).astype("<i8").tobytes()
    if isinstance(v, (float, np.floating)):
        return b"float\n" + np.float64(v).astype("<f8").tobytes()
    raise ValueError(f"attribute value {v!r} is not a string, integer or float")


def dataset_bytes(d):
    rank_and_dims = np.array([len(d.shape), *d.shape], dtype="<i8").tobytes()
    values = np.ascontiguousarray(d[()], dtype=d.dtype.newbyteorder("<")).tobytes()
    return DATASET_TAGS[d.dtype.name] + rank_and_dims + values


def item_digests(f):
    items = {"@" + k: value_bytes(v) for k, v in f.attrs.items() if k != "checksums"}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            items[name] = dataset_bytes(obj)
            for k, v in obj.attrs.items():
                items[f"{name}@{k}"] = value_bytes(v)

    f.visititems(visit)
    return {k: hashlib.sha256(b).hexdigest() for k, b in items.items()}


def checksum_lines(f):
    return "".join(f"{h} {k}\n" for k, h in sorted(item_digests(f).items()))


def first_difference(f):
    """None if f's checksums match its contents, else the item that differs."""
    stored = f.attrs.get("checksums")
    if stored is None:
        return "checksums (missing)"
    listed = dict(reversed(line.split(" ", 1)) for line in stored.splitlines())
    computed = item_digests(f)
    for item in sorted(set(listed) | set(computed)):
        if listed.get(item) != computed.get(item):
            return item
    return None


def main(argv):
    if len(argv) >= 2 and argv[0] == "verify":
        for path in argv[1:]:
            with h5py.File(path, "r") as f:
                item = first_difference(f)
                if item is not None:
                    print(f"{path}: checksum mismatch in {item}")
                    return 1
                assert checksum_lines(f) == f.attrs["checksums"], f"{path}: lines not in the documented order"
            print(f"{path}: ok")
        return 0
    if len(argv) == 2 and argv[0] == "sign":
        with h5py.File(argv[1], "r+") as f:
            f.attrs["checksums"] = checksum_lines(f)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
