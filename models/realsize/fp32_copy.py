"""A float32 copy of a shape-true pack's models, for WebGPU without shader-f16.

The shape-true packs (models/realsize) compute in float16, which onnxruntime's
WebGPU backend cannot run on an adapter without `shader-f16` (SwiftShader):
"Program Transpose requires f16 but the device does not support it". This
copy is the same graph with every float16 tensor, Cast target and value type
made float32 (weights widened exactly), written with its weights inline.

Usage: /usr/bin/python3 models/realsize/fp32_copy.py SRC_PACK_DIR DST_DIR  (tests/browser/models/realsize.test.ts runs it)
Prints DST_DIR. Cached: DST_DIR/.source holds the SHA-256 of the source
manifest and of this script with models/quantize.py; a copy whose stamp matches is kept as it is.
"""
import hashlib
import os
import shutil
import sys

import onnx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from quantize import widen_graph  # noqa: E402  (the int8 copies widen the same way)


def main(src, dst):
    with open(os.path.join(src, "manifest.json"), "rb") as f:
        manifest_hash = hashlib.sha256(f.read()).hexdigest()
    script_hash = hashlib.sha256()
    for script in (__file__, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "quantize.py")):
        with open(script, "rb") as f:
            script_hash.update(f.read())
    script_hash = script_hash.hexdigest()
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
