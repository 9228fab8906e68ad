"""Sliced attention: every written-out self-attention (MatMul, optional scalar
scale, Softmax, MatMul) runs as row blocks of its queries instead of one.

An unfused attention over the 4,096 latent positions of a 512x512 SD UNet
makes a [heads, 4096, 4096] score tensor (320 MiB in float32 for 5 heads)
and a softmax of the same size; onnxruntime's CPU kernels hold both at once,
and the wasm heap never gives the memory back. Split into row blocks, each
block's scores are made, softmaxed, multiplied by V and freed before the
next block starts, so the peak is one block's share. Softmax is along the
last axis (keys), so each query row is independent and the result is the
same, row for row.

The split points are computed in the graph from the query's own shape
(floor(S * i / blocks)), so the model keeps its symbolic dimensions; with
free-dimension overrides onnxruntime folds them to constants.

The block order is what keeps the peak down: onnxruntime runs nodes in the
order of a depth-first walk back from the outputs, which finishes one block's
chain (Slice, MatMul, scale, Softmax, MatMul) before it starts the next one,
since the Concat takes the blocks in order.

Only self-attention is sliced (queries and keys are projections of the same
tensor), where the scores grow with the square of the image's area.
Cross-attention over 77 text tokens is small, and explain mode reads its
probabilities whole (src/shared/onnx/attention-outputs.ts).

Used by quantize.py (--attention-blocks; blocks_for(latent cells) for a
pack); the device's converter (src/shared/onnx/slice-attention.ts) writes
the same nodes.
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper

# Query rows per block: 40 MiB of float32 scores per block for an SD UNet's 5 heads over 4,096 keys.
ROWS_PER_BLOCK = 512
PREFIX = "gesso_slice_"
INT64_MAX = np.iinfo(np.int64).max


def blocks_for(latent_positions):
    """Blocks for a pack whose latent has this many cells: 8 for 512x512 SD; 1 (left whole) up to 512."""
    return max(1, -(-latent_positions // ROWS_PER_BLOCK))


def _attribute(node, name, default):
    return next((helper.get_attribute_value(a) for a in node.attribute if a.name == name), default)


def _is_scalar_constant(name, inits, producers):
    init = inits.get(name)
    if init is not None:
        return int(np.prod(init.dims)) == 1
    node = producers.get(name)
    if node is None or node.op_type != "Constant" or not node.attribute:
        return False
    first = node.attribute[0]
    if first.name in ("value_float", "value_int"):
        return True
    return first.name == "value" and int(np.prod(first.t.dims)) == 1


LAYOUT_OPS = {"Transpose", "Reshape", "Unsqueeze", "Squeeze", "Cast", "Identity"}
AFFINE_OPS = {"Mul", "Div", "Add"}
PROJECTION_OPS = {"MatMul", "Gemm", "MatMulNBits", "FusedMatMul"}
SOURCE_HOPS = 8


def _projected_from(name, producers, constant):
    """The tensor `name` was projected from: back through layout ops and constant
    scales or biases to a projection, then its data input. None when the walk fails."""
    for _ in range(SOURCE_HOPS):
        node = producers.get(name)
        if node is None:
            return None
        if node.op_type in PROJECTION_OPS:
            return node.input[0]
        if node.op_type in LAYOUT_OPS:
            name = node.input[0]
        elif node.op_type in AFFINE_OPS:
            varying = [x for x in node.input[:2] if not constant(x)]
            if len(varying) != 1:
                return None
            name = varying[0]
        else:
            return None
    return None


def find_attentions(graph):
    """(first MatMul, scale node or None, Softmax, second MatMul) for each written-out self-attention."""
    producers = {o: n for n in graph.node for o in n.output}
    consumers = {}
    for n in graph.node:
        for name in n.input:
            consumers.setdefault(name, []).append(n)
    outputs = {o.name for o in graph.output}
    inits = {i.name: i for i in graph.initializer}

    def only_consumer(name):
        users = consumers.get(name, [])
        return users[0] if len(users) == 1 and name not in outputs else None

    def constant(name):
        node = producers.get(name)
        return name in inits or (node is not None and node.op_type == "Constant")

    found = []
    for softmax in graph.node:
        if softmax.op_type != "Softmax" or _attribute(softmax, "axis", -1) != -1:
            continue
        scale = producers.get(softmax.input[0])
        first = scale
        if scale is not None and scale.op_type in ("Mul", "Div"):
            if only_consumer(scale.output[0]) is not softmax or not _is_scalar_constant(scale.input[1], inits, producers):
                continue
            first = producers.get(scale.input[0])
        else:
            scale = None
        if first is None or first.op_type != "MatMul" or only_consumer(first.output[0]) is not (scale or softmax):
            continue
        second = only_consumer(softmax.output[0])
        if second is None or second.op_type != "MatMul" or second.input[0] != softmax.output[0]:
            continue
        source = _projected_from(first.input[0], producers, constant)
        if source is None or source != _projected_from(first.input[1], producers, constant):
            continue  # not self-attention
        found.append((first, scale, softmax, second))
    return found


def shared_initializers(blocks):
    """The int64 constants every sliced attention uses."""
    values = {"axes": [-2], "zero": [0], "end": [INT64_MAX], "blocks": [blocks]}
    values.update({f"times_{i}": [i] for i in range(1, blocks)})
    return [numpy_helper.from_array(np.array(v, dtype=np.int64), PREFIX + k) for k, v in values.items()]


def sliced_nodes(first, scale, softmax, second, blocks):
    """The nodes that replace one attention: row blocks of the queries, each through the same chain, concatenated."""
    q, keys, values, out = first.input[0], first.input[1], second.input[1], second.output[0]
    base = second.name or out
    c = PREFIX
    rows = out + "_rows"
    nodes = [
        helper.make_node("Shape", [q], [out + "_query_shape"], name=base + "_query_shape"),
        helper.make_node("Gather", [out + "_query_shape", c + "axes"], [rows], axis=0, name=base + "_rows"),
    ]
    bounds = [c + "zero"]
    for i in range(1, blocks):
        nodes += [
            helper.make_node("Mul", [rows, c + f"times_{i}"], [out + f"_rows_times_{i}"], name=base + f"_rows_times_{i}"),
            helper.make_node("Div", [out + f"_rows_times_{i}", c + "blocks"], [out + f"_bound_{i}"], name=base + f"_bound_{i}"),
        ]
        bounds.append(out + f"_bound_{i}")
    bounds.append(c + "end")
    parts = []
    for i in range(blocks):
        tag = f"_block_{i}"
        nodes.append(helper.make_node("Slice", [q, bounds[i], bounds[i + 1], c + "axes"], [out + tag + "_query"],
                                      name=base + tag + "_query"))
        scores = out + tag + "_scores"
        nodes.append(helper.make_node("MatMul", [out + tag + "_query", keys], [scores], name=base + tag + "_scores"))
        if scale is not None:
            nodes.append(helper.make_node(scale.op_type, [scores, scale.input[1]], [scores + "_scaled"],
                                          name=base + tag + "_scale"))
            scores += "_scaled"
        nodes.append(helper.make_node("Softmax", [scores], [out + tag + "_weights"], axis=-1, name=base + tag + "_softmax"))
        nodes.append(helper.make_node("MatMul", [out + tag + "_weights", values], [out + tag], name=base + tag))
        parts.append(out + tag)
    nodes.append(helper.make_node("Concat", parts, [out], axis=-2, name=base + "_blocks"))
    return nodes


def slice_attention(model, blocks):
    """Rewrites model in place; returns how many attentions were sliced."""
    g = model.graph
    found = find_attentions(g)
    if not found:
        return 0
    replaced = {id(n) for a in found for n in a if n is not None}
    at_second = {id(a[3]): a for a in found}
    nodes = []
    for n in g.node:
        if id(n) in at_second:
            nodes.extend(sliced_nodes(*at_second[id(n)], blocks))
        elif id(n) not in replaced:
            nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)
    g.initializer.extend(shared_initializers(blocks))
    return len(found)


if __name__ == "__main__":
    import sys

    src, dst = sys.argv[1], sys.argv[2]
    blocks = int(sys.argv[3])
    m = onnx.load(src, load_external_data=False)
    print(f"sliced {slice_attention(m, blocks)} attentions", file=sys.stderr)
    onnx.save(m, dst)
