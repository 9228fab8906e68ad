"""torch -> ONNX the way the public browser exports are made, for models of
any size (the fp32 SD UNet is 3.5 GB, over protobuf's 2 GB):

1. torch.onnx.export in float32 (opset 17, constant folding) into a scratch
   folder; torch itself switches to one-file-per-tensor external data above 2 GB.
2. float16 conversion, streaming one tensor at a time from the scratch files:
   weights and compute in float16, graph inputs and outputs float32 (a Cast at
   each boundary); kept in float32: the timestep sinusoid (an integer cast to
   float and everything element-wise after it, up to the first MatMul, since
   fp16 cannot hold 999 * freq precisely) and Resize's scales/roi (float32 by
   the spec). Same rules as ../fp16.py, which needs the whole model in memory.
3. Saved as one file (SD-Turbo) or as `model.onnx` + `model.onnx_data`
   (LCM), with a chosen set of tensors kept inline.
"""
import gc
import os
import shutil
import tempfile
import time

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
F32, F16 = TensorProto.FLOAT, TensorProto.FLOAT16
STOP = {"MatMul", "Gemm", "Conv", "ConvTranspose", "Gather"}
KEEP_FP32_INPUTS = {("Resize", 1), ("Resize", 2)}
INT_TYPES = {TensorProto.INT64, TensorProto.INT32, TensorProto.INT8, TensorProto.UINT8, TensorProto.INT16, TensorProto.BOOL}


def export_fp32(module, args, input_names, output_names, dynamic_axes, scratch):
    """Returns the path of the fp32 model in `scratch` (weights may be external files beside it)."""
    path = os.path.join(scratch, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True)
    return path


def load_lazy(path):
    """The model without its external tensor data (each initializer keeps its `external_data` pointer)."""
    return onnx.load(path, load_external_data=False)


def tensor_array(t, base):
    """An initializer's values, reading its external file when it has one."""
    if t.data_location == TensorProto.EXTERNAL:
        info = {e.key: e.value for e in t.external_data}
        dtype = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[t.data_type]
        count = int(np.prod(t.dims)) if len(t.dims) else 1
        with open(os.path.join(base, info["location"]), "rb") as f:
            f.seek(int(info.get("offset", 0)))
            data = f.read(int(info.get("length", count * np.dtype(dtype).itemsize)))
        return np.frombuffer(data, dtype=dtype).reshape(tuple(t.dims))
    return numpy_helper.to_array(t)


def infer_types(model):
    """Element type of every tensor, by ONNX shape inference on a copy whose large
    initializers are graph inputs (so models over 2 GB can be inferred)."""
    g = model.graph
    light = onnx.GraphProto()
    light.name = g.name
    light.node.extend(g.node)
    light.input.extend(g.input)
    light.output.extend(g.output)
    for t in g.initializer:
        count = int(np.prod(t.dims)) if len(t.dims) else 1
        if t.data_location != TensorProto.EXTERNAL and count <= 4096:
            light.initializer.append(t)
        else:
            light.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    m = helper.make_model(light, opset_imports=model.opset_import)
    m.ir_version = model.ir_version
    inferred = onnx.shape_inference.infer_shapes(m)
    ig = inferred.graph
    types = {v.name: v.type.tensor_type.elem_type for v in list(ig.value_info) + list(ig.input) + list(ig.output)}
    types.update({t.name: t.data_type for t in g.initializer})
    return types


def _island(nodes, types):
    """Indices of the nodes that stay float32: downstream of Casts from integers, through
    element-wise ops (indices, not id(): protobuf wrappers are not stable objects)."""
    consumers = {}
    for k, n in enumerate(nodes):
        for i in n.input:
            consumers.setdefault(i, []).append(k)
    island = set()
    todo = [k for k, n in enumerate(nodes) if n.op_type == "Cast" and types.get(n.input[0]) in INT_TYPES]
    while todo:
        k = todo.pop()
        if k in island:
            continue
        island.add(k)
        for o in nodes[k].output:
            for c in consumers.get(o, []):
                if nodes[c].op_type not in STOP and types.get(o) == F32:
                    todo.append(c)
    # Constants that only the island or float32-only inputs read (the sinusoid's
    # frequencies, Resize's scales) stay float32 too.
    for k, n in enumerate(nodes):
        if n.op_type != "Constant":
            continue
        uses = [(c, j) for o in n.output for c in consumers.get(o, []) for j, i in enumerate(nodes[c].input) if i == o]
        if uses and all(c in island or (nodes[c].op_type, j) in KEEP_FP32_INPUTS for c, j in uses):
            island.add(k)
    return island


def materialize(model, base):
    """Loads every external tensor into the proto, unchanged (the fp32 TAESD exports)."""
    for t in model.graph.initializer:
        t.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(tensor_array(t, base)), t.name))


def convert_fp16(model, base):
    """In place: fp16 weights and compute, fp32 I/O (see the module docstring)."""
    g = model.graph
    types = infer_types(model)
    nodes = list(g.node)
    island = _island(nodes, types)
    keep = {n.input[i] for n in nodes for (op, i) in KEEP_FP32_INPUTS if n.op_type == op and len(n.input) > i}
    # Initializers that only island nodes read (the sinusoid's frequencies) stay float32.
    readers = {}
    for k, n in enumerate(nodes):
        for i in n.input:
            readers.setdefault(i, []).append(k)
    for t in g.initializer:
        if t.data_type == F32 and readers.get(t.name) and all(k in island for k in readers[t.name]):
            keep.add(t.name)
    for t in g.initializer:
        arr = tensor_array(t, base)
        if t.data_type == F32 and t.name not in keep:
            arr = arr.astype(np.float16)
        t.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(arr), t.name))
    dtype = {t.name: t.data_type for t in g.initializer}
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

    for k, n in enumerate(nodes):
        want = F32 if k in island else F16
        for j, name in enumerate(n.input):
            have = dtype.get(name)
            need = F32 if (n.op_type, j) in KEEP_FP32_INPUTS else want
            if have in (F32, F16) and have != need:
                n.input[j] = cast(name, need)
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
    # Float16 graph outputs: the producer (and any node reading it inside the graph) uses
    # `<name>__fp16`; a final Cast gives the float32 output its public name.
    renamed = {o.name: o.name + "__fp16" for o in g.output if dtype.get(o.name) == F16}
    for n in new_nodes:
        for k, i in enumerate(n.input):
            if i in renamed:
                n.input[k] = renamed[i]
        for k, o in enumerate(n.output):
            if o in renamed:
                n.output[k] = renamed[o]
    for o, r in renamed.items():
        new_nodes.append(helper.make_node("Cast", [r], [o], to=F32, name=o + "__to32"))
    del g.node[:]
    g.node.extend(new_nodes)
    del g.value_info[:]


def save(model, path, external=False, inline=None):
    """One file, or `model.onnx` + `model.onnx_data`: every tensor of 1 KiB or more goes to
    the data file unless the regex `inline` matches its name or the name of a node that
    reads it (torch names nodes by module path: /down_blocks.0/resnets.0/time_emb_proj/Gemm)."""
    readers = {}
    for n in model.graph.node:
        for i in n.input:
            readers.setdefault(i, []).append(n.name)
    keep = (lambda t: False) if inline is None else (lambda t: bool(inline.search(" ".join([t.name] + readers.get(t.name, [])))))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data_name = os.path.basename(path) + "_data"
    data_path = os.path.join(os.path.dirname(path), data_name)
    if os.path.exists(data_path):
        os.remove(data_path)  # onnx appends to an existing data file
    if external:
        offset = 0
        with open(data_path, "wb") as f:
            for t in model.graph.initializer:
                raw = t.raw_data
                if len(raw) < 1024 or keep(t):
                    continue
                f.write(raw)
                t.ClearField("raw_data")
                t.data_location = TensorProto.EXTERNAL
                del t.external_data[:]
                for key, value in (("location", data_name), ("offset", str(offset)), ("length", str(len(raw)))):
                    entry = t.external_data.add()
                    entry.key, entry.value = key, value
                offset += len(raw)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    onnx.checker.check_model(path)
    return [path] + ([data_path] if external else [])


def export(factory, args, input_names, output_names, dynamic_axes, path, scratch_root, fp16=True,
           external=False, inline=None, output_dims=None, log=lambda msg: None):
    """Builds the module with `factory()`, exports it, frees it, converts and saves.
    `output_dims` {output: [dim or name, ...]} replaces the dims torch could not name.
    Returns (written paths, parameter count, largest initializer bytes)."""
    module = factory().eval()
    params = sum(p.numel() for p in module.parameters())
    os.makedirs(scratch_root, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="export-", dir=scratch_root)
    try:
        t = time.time()
        src = export_fp32(module, args, input_names, output_names, dynamic_axes, scratch)
        log(f"torch.onnx.export (float32) {time.time() - t:.0f} s")
        t = time.time()
        del module
        gc.collect()
        model = load_lazy(src)
        for o in model.graph.output:
            for d, want in zip(o.type.tensor_type.shape.dim, (output_dims or {}).get(o.name, [])):
                if isinstance(want, int):
                    d.dim_value = want
                else:
                    d.dim_param = want
        if fp16:
            convert_fp16(model, scratch)
        else:
            materialize(model, scratch)
        shutil.rmtree(scratch)
        log(f"{'float16 conversion' if fp16 else 'load'} {time.time() - t:.0f} s")
        t = time.time()
        largest = max(len(i.raw_data) for i in model.graph.initializer)
        model.producer_name = "gesso-realsize"
        written = save(model, path, external=external, inline=inline)
        log(f"save and check {time.time() - t:.0f} s")
        return written, params, largest
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
