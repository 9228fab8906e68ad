"""fp32 -> fp16 ONNX conversion: weights and compute in float16, graph inputs
and outputs stay float32 (Cast at the boundaries).

Kept in float32 (generic rules, not tied to our models):
- "integer islands": nodes fed by a Cast from an integer tensor (e.g. a
  timestep 0..999) and everything downstream of them through element-wise
  ops, until a MatMul/Gemm/Conv. fp16 cannot hold 999 * freq precisely
  enough for sin/cos.
- the `scales`/`roi` inputs of Resize (must be float32 by the spec).
Usage: python3 fp16.py in.onnx out.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F32, F16 = TensorProto.FLOAT, TensorProto.FLOAT16
STOP = {"MatMul", "Gemm", "Conv", "ConvTranspose", "Gather"}
KEEP_FP32_INPUTS = {("Resize", 1), ("Resize", 2)}
INT_TYPES = {TensorProto.INT64, TensorProto.INT32, TensorProto.INT8, TensorProto.UINT8, TensorProto.INT16, TensorProto.BOOL}


def _types(model):
    inferred = onnx.shape_inference.infer_shapes(model)
    g = inferred.graph
    types = {v.name: v.type.tensor_type.elem_type for v in list(g.value_info) + list(g.input) + list(g.output)}
    types.update({i.name: i.data_type for i in g.initializer})
    return types


def _island(graph, types):
    """Nodes that must stay fp32: downstream of int->float Casts."""
    consumers = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    island, todo = set(), []
    for n in graph.node:
        if n.op_type == "Cast" and types.get(n.input[0]) in INT_TYPES:
            todo.append(n)
    while todo:
        n = todo.pop()
        if id(n) in island:
            continue
        island.add(id(n))
        for o in n.output:
            for c in consumers.get(o, []):
                if c.op_type not in STOP and types.get(o) == F32:
                    todo.append(c)
    return island


def convert_fp16(src, dst):
    model = onnx.load(str(src))
    g = model.graph
    types = _types(model)
    island = _island(g, types)
    fp32_inits = {n.input[i] for n in g.node for (op, i) in KEEP_FP32_INPUTS if n.op_type == op and len(n.input) > i}
    for init in g.initializer:
        if init.data_type == F32 and init.name not in fp32_inits:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name))
    dtype = {i.name: i.data_type for i in g.initializer}  # current dtype of every float tensor
    for i in g.input:
        dtype[i.name] = i.type.tensor_type.elem_type
    new_nodes, casts = [], {}

    def cast(name, to):
        key = (name, to)
        if key not in casts:
            out = f"{name}__to{'16' if to == F16 else '32'}"
            new_nodes.append(helper.make_node("Cast", [name], [out], to=to, name=out))
            casts[key] = out
        return casts[key]

    for n in g.node:
        want = F32 if id(n) in island else F16
        for k, name in enumerate(n.input):
            have = dtype.get(name)
            need = F32 if (n.op_type, k) in KEEP_FP32_INPUTS else want
            if have in (F32, F16) and have != need:
                n.input[k] = cast(name, need)
        if want == F16:
            for a in n.attribute:
                if n.op_type == "Cast" and a.name == "to" and a.i == F32:
                    a.i = F16
                if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == F32:
                    a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float16), a.t.name))
        new_nodes.append(n)
        for o in n.output:
            if types.get(o) == F32:
                dtype[o] = want
    outputs = {o.name for o in g.output}
    for n in list(new_nodes):
        for k, o in enumerate(n.output):
            if o in outputs and dtype.get(o) == F16:
                n.output[k] = o + "__fp16"
                new_nodes.append(helper.make_node("Cast", [o + "__fp16"], [o], to=F32, name=o + "__to32"))
    del g.node[:]
    g.node.extend(new_nodes)
    del g.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


if __name__ == "__main__":
    convert_fp16(sys.argv[1], sys.argv[2])
