"""One-layer graphs of the real SD UNet's commonest conv and linear, in every
form an int8 weight can take on onnxruntime's CPU kernels, for
tests/bench/int8-kernels.mjs:

- conv-fp32 / matmul-fp32: float32 weights (what folding DequantizeLinear at
  load gives: fastest, 4x the memory);
- conv-dq / matmul-dq: int8 per output channel, DequantizeLinear on every run
  (Gesso's int8 copies of fp32 models);
- conv-dq-fp16 / matmul-dq-fp16: the same, cast to float16 and computed in
  float16 (Gesso's int8 copies of the fp16 real-size packs: onnxruntime's CPU
  kernels have no float16 Conv/MatMul, so it casts around them);
- conv-integer / matmul-integer: activations quantized on the fly
  (DynamicQuantizeLinear) into ConvInteger / MatMulInteger, int32 results
  scaled back;
- matmul-nbits8 / matmul-nbits4: com.microsoft MatMulNBits, 8 and 4 bits,
  blocks of 32 along K.

Shapes (SD 1.5 / SD-Turbo at 512x512, the first down block): a 3x3 conv of
320 -> 320 channels on a 64x64 latent, and a 320 -> 1280 linear over its 4,096
positions. Random weights, seeded.

Usage: /usr/bin/python3 models/realsize/int8_kernels.py OUT_DIR
"""

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as h
from onnx import numpy_helper as nh

OPSET = [h.make_opsetid("", 17), h.make_opsetid("com.microsoft", 1)]
C, HW = 320, 64
K, N, M = 320, 1280, HW * HW
rng = np.random.default_rng(20240611)


def save(out: Path, name, nodes, inputs, outputs, inits):
    graph = h.make_graph(nodes, name, inputs, outputs, inits)
    model = h.make_model(graph, opset_imports=OPSET, producer_name="gesso-int8-kernels")
    onnx.save(model, str(out / f"{name}.onnx"))


def per_channel(w, axis):
    """Symmetric int8 per output channel, as models/quantize.py makes it."""
    reduce = tuple(i for i in range(w.ndim) if i != axis)
    scale = np.abs(w).max(axis=reduce) / 127
    scale[scale == 0] = 1
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.rint(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def nbits(w, bits, block=32):
    """MatMulNBits' B [N, K/block, block*bits/8] uint8, scales [N*K/block], default zero point."""
    wt = w.T.reshape(N, K // block, block)
    top = 2 ** (bits - 1) - 1
    scale = np.abs(wt).max(axis=2, keepdims=True) / top
    scale[scale == 0] = 1
    zero = 2 ** (bits - 1)
    q = (np.clip(np.rint(wt / scale), -top - 1, top) + zero).astype(np.uint8)
    if bits == 4:
        q = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    return q, scale.reshape(-1).astype(np.float32)


def conv_graphs(out: Path):
    x = h.make_tensor_value_info("x", TP.FLOAT, [1, C, HW, HW])
    y = h.make_tensor_value_info("y", TP.FLOAT, [1, C, HW, HW])
    w = (rng.standard_normal((C, C, 3, 3)) * 0.05).astype(np.float32)
    b = (rng.standard_normal(C) * 0.1).astype(np.float32)
    q, s = per_channel(w, 0)
    conv = dict(pads=[1, 1, 1, 1])
    save(out, "conv-fp32", [h.make_node("Conv", ["x", "w", "b"], ["y"], **conv)], [x], [y],
         [nh.from_array(w, "w"), nh.from_array(b, "b")])
    dq = [h.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["w"], axis=0)]
    qinits = [nh.from_array(q, "wq"), nh.from_array(s, "ws"),
              nh.from_array(np.zeros(C, np.int8), "wz"), nh.from_array(b, "b")]
    save(out, "conv-dq", dq + [h.make_node("Conv", ["x", "w", "b"], ["y"], **conv)], [x], [y],
         qinits)
    save(out, "conv-dq-fp16", dq + [
        h.make_node("Cast", ["w"], ["w16"], to=TP.FLOAT16),
        h.make_node("Cast", ["b"], ["b16"], to=TP.FLOAT16),
        h.make_node("Cast", ["x"], ["x16"], to=TP.FLOAT16),
        h.make_node("Conv", ["x16", "w16", "b16"], ["y16"], **conv),
        h.make_node("Cast", ["y16"], ["y"], to=TP.FLOAT),
    ], [x], [y], qinits)
    # ConvInteger takes no bias and a per-tensor activation scale: y = (xq - xz) * (wq) * xs * ws + b.
    save(out, "conv-integer", [
        h.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
        h.make_node("ConvInteger", ["xq", "wq", "xz", "wz0"], ["acc"], **conv),
        h.make_node("Cast", ["acc"], ["accf"], to=TP.FLOAT),
        h.make_node("Mul", ["ws4", "xs"], ["scale"]),
        h.make_node("Mul", ["accf", "scale"], ["scaled"]),
        h.make_node("Add", ["scaled", "b4"], ["y"]),
    ], [x], [y], [nh.from_array(q, "wq"), nh.from_array(np.int8(0), "wz0"),
                  nh.from_array(s.reshape(1, C, 1, 1), "ws4"),
                  nh.from_array(b.reshape(1, C, 1, 1), "b4")])


def matmul_graphs(out: Path):
    x = h.make_tensor_value_info("x", TP.FLOAT, [1, M, K])
    y = h.make_tensor_value_info("y", TP.FLOAT, [1, M, N])
    w = (rng.standard_normal((K, N)) * 0.05).astype(np.float32)
    q, s = per_channel(w, 1)
    save(out, "matmul-fp32", [h.make_node("MatMul", ["x", "w"], ["y"])], [x], [y],
         [nh.from_array(w, "w")])
    dq = [h.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["w"], axis=1)]
    qinits = [nh.from_array(q, "wq"), nh.from_array(s, "ws"), nh.from_array(np.zeros(N, np.int8), "wz")]
    save(out, "matmul-dq", dq + [h.make_node("MatMul", ["x", "w"], ["y"])], [x], [y], qinits)
    save(out, "matmul-dq-fp16", dq + [
        h.make_node("Cast", ["w"], ["w16"], to=TP.FLOAT16),
        h.make_node("Cast", ["x"], ["x16"], to=TP.FLOAT16),
        h.make_node("MatMul", ["x16", "w16"], ["y16"]),
        h.make_node("Cast", ["y16"], ["y"], to=TP.FLOAT),
    ], [x], [y], qinits)
    save(out, "matmul-integer", [
        h.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
        h.make_node("MatMulInteger", ["xq", "wq", "xz", "wz0"], ["acc"]),
        h.make_node("Cast", ["acc"], ["accf"], to=TP.FLOAT),
        h.make_node("Mul", ["ws", "xs"], ["scale"]),
        h.make_node("Mul", ["accf", "scale"], ["y"]),
    ], [x], [y], [nh.from_array(q, "wq"), nh.from_array(s, "ws"),
                  nh.from_array(np.int8(0), "wz0")])
    for bits in (8, 4):
        b, scales = nbits(w, bits)
        save(out, f"matmul-nbits{bits}", [
            h.make_node("MatMulNBits", ["x", "b", "scales"], ["y"], domain="com.microsoft",
                        K=K, N=N, bits=bits, block_size=32),
        ], [x], [y], [nh.from_array(b, "b"), nh.from_array(scales, "scales")])


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    conv_graphs(out)
    matmul_graphs(out)
    print(out)


if __name__ == "__main__":
    main()
