"""A float32 copy of a shape-true pack's models, for WebGPU without shader-f16.

The shape-true packs (models/realsize) compute in float16, which onnxruntime's
WebGPU backend cannot run on an adapter without `shader-f16` (SwiftShader):
"Program Transpose requires f16 but the device does not support it". This
copy is the same graph with every float16 tensor, Cast target and value type
made float32 (weights widened exactly), written with its weights inline.

Usage: /usr/bin/python3 models/realsize/fp32_copy.py SRC_PACK_DIR DST_DIR  (tests/browser/models/realsize.test.ts runs it)
Prints DST_DIR. Cached: DST_DIR/.source holds the SHA-256 of the source
manifest and of this script; a copy whose stamp matches is kept as it is.
"""
import hashlib
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, numpy_helper

F16, F32 = TensorProto.FLOAT16, TensorProto.FLOAT


def widen_tensor(tensor):
    if tensor.data_type == F16:
        widened = numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float32), tensor.name)
        tensor.CopyFrom(widened)


def widen_graph(graph):
    for tensor in graph.initializer:
        widen_tensor(tensor)
    for value in list(graph.value_info) + list(graph.input) + list(graph.output):
        if value.type.tensor_type.elem_type == F16:
            value.type.tensor_type.elem_type = F32
    for node in graph.node:
        for attribute in node.attribute:
            if node.op_type == "Cast" and attribute.name == "to" and attribute.i == F16:
                attribute.i = F32
            elif attribute.type == AttributeProto.TENSOR:
                widen_tensor(attribute.t)
            elif attribute.type == AttributeProto.GRAPH:
                widen_graph(attribute.g)


def main(src, dst):
    with open(os.path.join(src, "manifest.json"), "rb") as f:
        manifest_hash = hashlib.sha256(f.read()).hexdigest()
    with open(__file__, "rb") as f:
        script_hash = hashlib.sha256(f.read()).hexdigest()
    stamp = f"{manifest_hash} {script_hash}\n"
    stamp_path = os.path.join(dst, ".source")
    if os.path.exists(stamp_path) and open(stamp_path).read() == stamp:
        print(dst)
        return
    shutil.rmtree(dst, ignore_errors=True)
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = os.path.join(root, name)
            out = os.path.join(dst, os.path.relpath(path, src))
            os.makedirs(os.path.dirname(out), exist_ok=True)
            if name.endswith(".onnx"):
                model = onnx.load(path, load_external_data=True)
                widen_graph(model.graph)
                onnx.save(model, out)
            elif os.path.dirname(os.path.relpath(path, src)) == "tokenizer":
                shutil.copyfile(path, out)
    with open(stamp_path, "w") as f:
        f.write(stamp)
    print(dst)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
