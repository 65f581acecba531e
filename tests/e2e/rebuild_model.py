"""Rebuilds a stored model from its weights file with NumPy alone, following docs/models.md:
the layers come from the file's layer_stack attribute, the tensors from its datasets, the test
images from the IDX files. Prints test_acc and test_loss as `ternbench infer` does.
Usage: rebuild_model.py <weights.h5> <mnist dir>"""
import re, sys, tomllib
import h5py, numpy as np

EPS = 1e-5  # batch-norm epsilon (docs/models.md)


def idx(path):
    raw = np.fromfile(path, dtype=np.uint8)
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i].tobytes(), "big") for i in range(rank)]
    return raw[4 + 4 * rank:].reshape(dims)


def class_by_class(labels, limit):
    """Indices of the train_limit/test_limit subset: each class's first sample, then each
    class's second, ... (docs/training.md)."""
    if limit <= 0 or limit >= len(labels):
        return np.arange(len(labels))
    members = [np.flatnonzero(labels == c) for c in range(int(labels.max()) + 1)]
    pick, rnd = [], 0
    while len(pick) < limit:
        for m in members:
            if rnd < len(m) and len(pick) < limit:
                pick.append(m[rnd])
        rnd += 1
    return np.array(pick)


def conv(x, W, b, stride, pad):
    """Cross-correlation of x (B, C, H, W) with W (out, C, k, k), zero padding."""
    k = W.shape[2]
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (x.shape[2] - k) // stride + 1, (x.shape[3] - k) // stride + 1
    y = np.zeros((x.shape[0], W.shape[0], oh, ow))
    for i in range(k):
        for j in range(k):
            patch = x[:, :, i: i + stride * (oh - 1) + 1: stride, j: j + stride * (ow - 1) + 1: stride]
            y += np.einsum("bchw,oc->bohw", patch, W[:, :, i, j])
    return y + b[None, :, None, None]


def batchnorm(x, f, name):
    g, b, m, v = (f[f"{name}/{p}"][...].astype(np.float64) for p in ("gamma", "beta", "running_mean", "running_var"))
    shape = (1, -1, 1, 1) if x.ndim == 4 else (1, -1)  # per channel of an image, per feature
    return (x - m.reshape(shape)) / np.sqrt(v.reshape(shape) + EPS) * g.reshape(shape) + b.reshape(shape)


def maxpool(x, k, s):
    oh, ow = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
    y = np.full((x.shape[0], x.shape[1], oh, ow), -np.inf)
    for i in range(k):
        for j in range(k):
            y = np.maximum(y, x[:, :, i: i + s * (oh - 1) + 1: s, j: j + s * (ow - 1) + 1: s])
    return y


def tensor(f, name):
    return f[name][...].astype(np.float64)


def layer(x, f, name, kind, args):
    relu = lambda v: np.maximum(v, 0)
    if kind == "dense":
        x = x.reshape(x.shape[0], -1)  # C, H, W order
        return x @ tensor(f, f"{name}/W").T + tensor(f, f"{name}/b")
    if kind == "conv":
        return conv(x, tensor(f, f"{name}/W"), tensor(f, f"{name}/b"), args["stride"], args["padding"])
    if kind == "batchnorm":
        return batchnorm(x, f, name)
    if kind == "relu":
        return relu(x)
    if kind == "maxpool":
        return maxpool(x, args["kernel"], args["stride"])
    if kind == "flatten":
        return x.reshape(x.shape[0], -1)
    if kind == "gap":
        return x.mean(axis=(2, 3))
    if kind == "dropout":
        return x  # evaluation
    if kind == "residual":
        r = relu(batchnorm(x, f, f"{name}/bn0"))
        h = conv(r, tensor(f, f"{name}/conv0/W"), tensor(f, f"{name}/conv0/b"), args["stride"], 1)
        h = relu(batchnorm(h, f, f"{name}/bn1"))
        h = conv(h, tensor(f, f"{name}/conv1/W"), tensor(f, f"{name}/conv1/b"), 1, 1)
        short = x if "shortcut" not in args else conv(
            r, tensor(f, f"{name}/shortcut/W"), tensor(f, f"{name}/shortcut/b"), args["stride"], 0)
        return h + short
    raise SystemExit(f"unknown layer {kind}")


LINE = re.compile(r"^(\S+): (\w+)(?:\((.*)\))? -> (\S+) \((\d+) params\)$")


def main():
    path, data = sys.argv[1], sys.argv[2]
    with h5py.File(path, "r") as f:
        cfg = tomllib.loads(f.attrs["config_toml"])["train"]
        lines = f.attrs["layer_stack"].splitlines()
        assert lines[0].startswith("# ternbench layer stack"), lines[0]
        c, h, w = (int(v) for v in lines[1].removeprefix("input: ").split("x"))
        images = idx(f"{data}/t10k-images-idx3-ubyte").reshape(-1, c, h, w).astype(np.float64) / 255
        labels = idx(f"{data}/t10k-labels-idx1-ubyte")
        keep = class_by_class(labels, cfg.get("test_limit", 0))
        x, y = images[keep], labels[keep]
        if cfg.get("normalize", False):
            train = idx(f"{data}/train-images-idx3-ubyte").reshape(-1, c, h, w).astype(np.float64) / 255
            train = train[class_by_class(idx(f"{data}/train-labels-idx1-ubyte"), cfg.get("train_limit", 0))]
            mean, std = train.mean(axis=(0, 2, 3)), train.std(axis=(0, 2, 3))
            x = (x - mean[None, :, None, None]) / np.where(std > 0, std, 1)[None, :, None, None]
        total = 0
        for line in lines[2:-1]:
            name, kind, argtext, shape, params = LINE.match(line).groups()
            args = {}
            for i, a in enumerate(filter(None, (argtext or "").split(", "))):
                key, _, val = a.partition("=")
                args[key if val else ("units" if i == 0 else key)] = int(val) if val else a
            x = layer(x, f, name, kind, args)
            assert x[0].size == np.prod([int(v) for v in shape.split("x")]), (line, x.shape)
            total += int(params)
        assert lines[-1] == f"total: {total} params", lines[-1]
    z = x - x.max(axis=1, keepdims=True)
    loss = -(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))).mean()
    print(f"test_acc {(x.argmax(axis=1) == y).mean():.17g}")
    print(f"test_loss {loss:.17g}")


main()
