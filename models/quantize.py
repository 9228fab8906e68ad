"""Weight-only int8 quantisation for any ONNX model.

Every float initializer used as a MatMul/Gemm/Conv weight (or a Gather
table, e.g. token embeddings) with at least MIN_ELEMENTS entries is stored
as int8 with per-output-channel symmetric float32 scales and dequantized in
the graph by DequantizeLinear(axis=channel) to float32.
The copy computes in float32: every other float16 of the graph is made
float32 (widen_graph: tensors widened exactly, Cast targets, value types).
onnxruntime's CPU/wasm kernels have no float16 Conv/MatMul and cast around
each one: float32 compute took 1.28 GB of wasm heap for an SD-Turbo UNet
step at 64x64 latents where float16 took 2.10 GB, in the same time, and it
runs on WebGPU without shader-f16. A float32 model is unchanged by it.
A table used only by Gather (axis 0) is not dequantized whole: each Gather
takes the int8 rows and their scales (stored [rows, 1, ...]) and multiplies
them (Cast to float32, Mul), which gives the same values. Dequantizing a
49,408 x 1,024 token table on every run took 290 MiB of working memory for
77 rows.
With --attention-blocks N (slice_attention.blocks_for(latent cells) for a
pack: 8 at 512x512), self-attention runs in N row blocks of its queries, so a
512x512 UNet never holds its whole score tensor.
Usage: python3 quantize.py in.onnx out.onnx [--min-elements N] [--attention-blocks N]
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

from slice_attention import slice_attention

MIN_ELEMENTS = 1024
F16, F32 = onnx.TensorProto.FLOAT16, onnx.TensorProto.FLOAT


def channel_axis(node, k, ndim):
    """Axis of the output channel for the weight at input k of node, or None."""
    if node.op_type == "Conv" and k == 1:
        return 0
    if node.op_type == "MatMul" and k == 1 and ndim == 2:
        return 1
    if node.op_type == "Gemm" and k == 1 and ndim == 2:
        trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
        return 0 if trans_b else 1
    if node.op_type == "Gather" and k == 0:
        return 0
    return None


def has_subgraphs(graph):
    """Control flow (If, Loop, Scan): its bodies may use a table by name, so tables keep their names there."""
    kinds = (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
    return any(a.type in kinds for n in graph.node for a in n.attribute)


def gathered_only(uses):
    """True when every use is a Gather's table (input 0) along axis 0."""
    return bool(uses) and all(
        n.op_type == "Gather" and k == 0 and next((a.i for a in n.attribute if a.name == "axis"), 0) == 0
        for n, k in uses)


def gather_nodes(node, table):
    """A Gather of quantized table `table` as: gather the int8 rows and their scales, widen, multiply."""
    ids, y = node.input[1], node.output[0]
    nodes = [
        helper.make_node("Gather", [table + "_quantized", ids], [y + "_quantized"], name=y + "_gather_quantized"),
        helper.make_node("Gather", [table + "_scale", ids], [y + "_scale"], name=y + "_gather_scale"),
        helper.make_node("Cast", [y + "_quantized"], [y + "_widened"], to=onnx.TensorProto.FLOAT, name=y + "_widen"),
        helper.make_node("Mul", [y + "_widened", y + "_scale"], [y], name=y + "_dequantize"),
    ]
    for n in nodes[:2]:
        n.attribute.extend(node.attribute)
    return nodes


def widen_tensor(tensor):
    """A float16 tensor made float32, exactly, as numpy_helper.from_array writes it."""
    if tensor.data_type == F16:
        tensor.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float32), tensor.name))


def widen_graph(graph):
    """Every float16 of the graph made float32 (src/shared/onnx/widen.ts does the same)."""
    for tensor in graph.initializer:
        widen_tensor(tensor)
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        if value.type.tensor_type.elem_type == F16:
            value.type.tensor_type.elem_type = F32
    for node in graph.node:
        for a in node.attribute:
            if a.i == F16 and ((node.op_type == "Cast" and a.name == "to") or a.name == "dtype"):
                a.i = F32
            if a.HasField("t"):
                widen_tensor(a.t)
            for t in a.tensors:
                widen_tensor(t)
            if a.HasField("g"):
                widen_graph(a.g)
            for g in a.graphs:
                widen_graph(g)


def quantize_model(model, min_elements=MIN_ELEMENTS, attention_blocks=1):
    g = model.graph
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 13:
        raise ValueError(f"per-channel DequantizeLinear needs opset >= 13, model has {opset}")
    inits = {i.name: i for i in g.initializer}
    axes, uses = {}, {}
    for n in g.node:
        for k, name in enumerate(n.input):
            uses.setdefault(name, []).append((n, k))
            init = inits.get(name)
            if init is None or init.data_type not in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16):
                continue
            axis = channel_axis(n, k, len(init.dims))
            if axis is None or int(np.prod(init.dims)) < min_elements:
                axes[name] = None  # used somewhere it cannot be quantised: leave it
                continue
            axes.setdefault(name, axis)
            if axes[name] != axis:
                axes[name] = None
    dq_nodes, new_inits, done, gathered = [], [], set(), set()
    row_gathers = not has_subgraphs(g)
    for name, axis in axes.items():
        if axis is None:
            continue
        w = numpy_helper.to_array(inits[name])
        other = tuple(d for d in range(w.ndim) if d != axis)
        scale = np.abs(w.astype(np.float32)).max(axis=other) / 127.0
        scale = np.where(scale == 0, 1.0, scale).astype(np.float32)
        shape = [1] * w.ndim
        shape[axis] = -1
        q = np.clip(np.round(w.astype(np.float32) / scale.reshape(shape)), -127, 127).astype(np.int8)
        if row_gathers and gathered_only(uses[name]):
            new_inits += [numpy_helper.from_array(q, name + "_quantized"),
                          numpy_helper.from_array(scale.reshape([-1] + [1] * (w.ndim - 1)), name + "_scale")]
            gathered.add(name)
            done.add(name)
            continue
        new_inits += [numpy_helper.from_array(q, name + "_quantized"), numpy_helper.from_array(scale, name + "_scale"),
                      numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), name + "_zero_point")]
        # Scales are float32 (DequantizeLinear before opset 19 takes no other): every weight
        # comes back as float32, which the widened graph computes in.
        dq_nodes.append(helper.make_node("DequantizeLinear", [name + "_quantized", name + "_scale", name + "_zero_point"],
                                         [name], axis=axis, name=name + "_dequantize"))
        done.add(name)
    kept = [i for i in g.initializer if i.name not in done]
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    nodes = list(dq_nodes)
    for n in g.node:
        table = n.input[0] if n.op_type == "Gather" and n.input else None
        nodes.extend(gather_nodes(n, table) if table in gathered else [n])
    del g.node[:]
    g.node.extend(nodes)
    widen_graph(g)
    if attention_blocks > 1:
        slice_attention(model, attention_blocks)
    return model, len(done)


def quantize_file(src, dst, min_elements=MIN_ELEMENTS, attention_blocks=1):
    model, n = quantize_model(onnx.load(str(src)), min_elements, attention_blocks)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return n


if __name__ == "__main__":
    args = sys.argv[1:]

    def option(name, fallback):
        if name not in args:
            return fallback
        i = args.index(name)
        value = int(args[i + 1])
        del args[i : i + 2]
        return value

    m = option("--min-elements", MIN_ELEMENTS)
    blocks = option("--attention-blocks", 1)
    print(f"quantized {quantize_file(args[0], args[1], m, blocks)} weights", file=sys.stderr)
