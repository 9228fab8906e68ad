"""A small numpy interpreter for the ONNX operators Gesso's fixture graphs use
(tests/fixtures/models/, made by models/fixtures/make_fixtures.py), so the
pipeline references run the fixture models without onnxruntime (the code
under test runs them with onnxruntime; onnx 1.12 as Debian ships it has no
onnx.reference). Floats are evaluated in float64: the reference is the exact
maths, and the TypeScript run (float32 in onnxruntime) is compared to it with
a tolerance.

Supported: Add Cast Conv Gather Identity MatMul Mod Mul ReduceMean Relu
Reshape Resize(nearest, half_pixel, round_prefer_floor) Sin Tanh Unsqueeze.
"""
import numpy as np
import onnx
from onnx import numpy_helper

FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE}
INT_TYPES = {onnx.TensorProto.INT32: np.int32, onnx.TensorProto.INT64: np.int64}


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _conv(x, w, b, pads):
    top, left, bottom, right = pads
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = h + top + bottom - kh + 1, wd + left + right - kw + 1
    out = np.zeros((n, o, oh, ow))
    for dy in range(kh):
        for dx in range(kw):
            out += np.einsum("nchw,oc->nohw", xp[:, :, dy : dy + oh, dx : dx + ow], w[:, :, dy, dx])
    return out + b.reshape(1, -1, 1, 1)


def _resize_nearest(x, scales):
    out = x
    for axis, s in enumerate(scales):
        if s == 1:
            continue
        size_in = out.shape[axis]
        size_out = int(np.floor(size_in * s))
        src = (np.arange(size_out) + 0.5) / s - 0.5  # half_pixel
        idx = np.clip(np.ceil(src - 0.5).astype(np.int64), 0, size_in - 1)  # round_prefer_floor
        out = np.take(out, idx, axis=axis)
    return out


def _run_node(node, v):
    a = _attrs(node)
    x = [v[name] if name else None for name in node.input]
    op = node.op_type
    if op == "Identity":
        return x[0]
    if op == "Add":
        return x[0] + x[1]
    if op == "Mul":
        return x[0] * x[1]
    if op == "Mod":
        return np.mod(x[0], x[1])
    if op == "MatMul":
        return np.matmul(x[0], x[1])
    if op == "Tanh":
        return np.tanh(x[0])
    if op == "Sin":
        return np.sin(x[0])
    if op == "Relu":
        return np.maximum(x[0], 0)
    if op == "Gather":
        return np.take(x[0], x[1].astype(np.int64), axis=a.get("axis", 0))
    if op == "ReduceMean":
        return np.mean(x[0], axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))
    if op == "Reshape":
        return x[0].reshape([int(d) for d in x[1]])
    if op == "Unsqueeze":
        out = x[0]
        for axis in sorted(int(d) for d in x[1]):
            out = np.expand_dims(out, axis)
        return out
    if op == "Cast":
        to = a["to"]
        if to in FLOAT_TYPES:
            return np.asarray(x[0], dtype=np.float64)
        return np.asarray(x[0]).astype(INT_TYPES[to])
    if op == "Conv":
        return _conv(x[0], x[1], x[2], a.get("pads", [0, 0, 0, 0]))
    if op == "Resize":
        if a.get("mode", b"nearest") not in (b"nearest", "nearest"):
            raise NotImplementedError("Resize mode")
        return _resize_nearest(x[0], [float(s) for s in x[2]])
    raise NotImplementedError(op)


class Graph:
    """model = Graph(path); outputs = model.run({input name: array}) -> {output name: float64/int array}."""

    def __init__(self, path):
        self.model = onnx.load(path)
        self.constants = {}
        for t in self.model.graph.initializer:
            arr = numpy_helper.to_array(t)
            self.constants[t.name] = arr.astype(np.float64) if arr.dtype.kind == "f" else arr
        self.inputs = [i.name for i in self.model.graph.input if i.name not in self.constants]
        self.outputs = [o.name for o in self.model.graph.output]

    def run(self, feeds):
        values = dict(self.constants)
        for name, value in feeds.items():
            arr = np.asarray(value)
            values[name] = arr.astype(np.float64) if arr.dtype.kind == "f" else arr
        for node in self.model.graph.node:
            result = _run_node(node, values)
            values[node.output[0]] = result
        return {name: values[name] for name in self.outputs}
