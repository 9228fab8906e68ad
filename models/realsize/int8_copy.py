"""An int8 copy of a shape-true pack, as the app's "Make an int8 copy" makes on the device.

The full-size shape-true packs (models/realsize) keep fp16 weights, which
onnxruntime-web's CPU kernels widen to float32 copies: the SD-Turbo UNet does
not load on WebAssembly. The app turns such a pack into weight-only int8 on
the device (src/engine/convert/) before it runs there; that takes minutes of
browser time per run. This script makes the same kind of copy ahead of time,
for benches that only want to load and run it (tests/bench/real-size-browser.mjs,
`--pack-dir`): every ONNX model of the pack goes through the repository's own
quantizer (models/quantize.py: per-output-channel int8, float32 scales,
DequantizeLinear to float32, every float16 of the graph made float32, so the
copy computes in float32 on wasm and on WebGPU without shader-f16;
self-attention in row blocks at the pack's image size, as the device's copy
slices it), and the manifest gets a single default variant, the int8 one,
marked as the device's copy marks its variant (weights int8, wasm allowed, no
shader-f16, buffers twice an fp16 source's, memory estimate less the bytes
saved), with the size and SHA-256 of every file.

Layout (--layout): "source" (default) keeps a model's external data when the
source has it (model.int8.onnx + model.int8.onnx_data) and writes it inline
otherwise (the SD-Turbo UNet is about 0.87 GB int8, under protobuf's 2 GB);
"inline" writes every model inline; "external" writes models over 64 MB with
external data, as the device's copy does (src/engine/convert/plan.ts
INLINE_MAX_BYTES).

Usage: /usr/bin/python3 models/realsize/int8_copy.py SRC_PACK_DIR DST_DIR [--layout source|inline|external]
Prints DST_DIR. Cached: DST_DIR/.source holds the SHA-256 of the source
manifest, of this script, models/quantize.py and models/slice_attention.py,
and the layout; a copy whose stamp matches is kept as it is.
"""
import copy
import hashlib
import json
import os
import shutil
import sys
import time

import onnx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from quantize import quantize_file, quantize_model  # noqa: E402
from slice_attention import blocks_for  # noqa: E402

LAYOUTS = ("source", "inline", "external")
# The device's copy keeps models up to this size (file and external data) inline.
DEVICE_INLINE_MAX_BYTES = 64 * 1024 * 1024
PROTOBUF_MAX_BYTES = 2 * 1024**3 - 1


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def log(msg):
    print(f"[int8_copy {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def external_paths(manifest, model_path):
    """The manifest's external-data files of `model_path` (src/shared/external-data.ts)."""
    names = {model_path + "_data", model_path + ".data"}
    return [f["path"] for f in manifest["files"] if f["path"] in names]


def attention_blocks(manifest):
    """Self-attention row blocks at the pack's image size, as the device's copy picks them (plan.ts)."""
    down = manifest["latent"]["downscale"]
    image = manifest["image"]
    # Rounded as src/engine/pipelines/free-dimensions.ts latentSize rounds (half up).
    return blocks_for(int(image["width"] / down + 0.5) * int(image["height"] / down + 0.5))


def int8_path(path):
    """`unet/model.onnx` -> `unet/model.int8.onnx`."""
    return (path[: -len(".onnx")] if path.endswith(".onnx") else path) + ".int8.onnx"


def convert(src, dst, manifest, path, layout):
    """Quantizes one model; returns (new paths written, bytes in, bytes out)."""
    external = external_paths(manifest, path)
    sizes = {f["path"]: f["size"] for f in manifest["files"]}
    bytes_in = sum(sizes[p] for p in [path, *external])
    out_rel = int8_path(path)
    out = os.path.join(dst, out_rel)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    started = time.time()
    if layout == "source":
        to_external = bool(external)
    elif layout == "inline":
        to_external = False
    else:
        to_external = bytes_in > DEVICE_INLINE_MAX_BYTES
    if not to_external:
        # The repository's quantizer as it is: load (external data too), quantize, check, save inline.
        n = quantize_file(os.path.join(src, path), out, attention_blocks=attention_blocks(manifest))
        written = [out_rel]
        if os.path.getsize(out) > PROTOBUF_MAX_BYTES:
            raise SystemExit(f"{out_rel}: over protobuf's 2 GB inline; use --layout source or external")
    else:
        model, n = quantize_model(onnx.load(os.path.join(src, path)), attention_blocks=attention_blocks(manifest))
        data_rel = out_rel + "_data"
        onnx.save(model, out, save_as_external_data=True, all_tensors_to_one_file=True,
                  location=os.path.basename(data_rel), size_threshold=1024)
        # Checked from the file (the checker reads external data beside it, and has no 2 GB limit then).
        onnx.checker.check_model(out)
        written = [out_rel, data_rel]
        del model
    bytes_out = sum(os.path.getsize(os.path.join(dst, p)) for p in written)
    log(f"{path} -> {', '.join(written)}: {n} weights int8, {bytes_in:,} -> {bytes_out:,} B, {time.time() - started:.0f} s")
    return written, bytes_in, bytes_out


def int8_variant(source, components, bytes_in, bytes_out):
    """The new variant's entry, as src/engine/convert/plan.ts deviceVariant() writes the device's copy."""
    req = source["requires"]
    # An fp16 source's dequantized weights and activations are float32 in the copy: twice the buffers.
    widen = 2 if req.get("shaderF16") or req.get("weights") == "float16" else 1
    backends = list(source["backends"]) + ([] if "wasm" in source["backends"] else ["wasm"])
    return {
        "id": "int8",
        "label": f"int8 copy of “{source['label']}” (models/realsize/int8_copy.py)",
        "default": True,
        "backends": backends,
        "requires": {
            "shaderF16": False,
            "weights": "int8",
            "maxStorageBufferBindingSize": req["maxStorageBufferBindingSize"] * widen,
            "maxBufferSize": req["maxBufferSize"] * widen,
            "memoryBytes": max(bytes_out, req["memoryBytes"] - (bytes_in - bytes_out)),
        },
        "components": components,
    }


def build(src, dst, layout):
    with open(os.path.join(src, "manifest.json")) as f:
        manifest = json.load(f)
    source = next((v for v in manifest["variants"] if v.get("default")), manifest["variants"][0])
    tmp = dst.rstrip("/") + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    new_paths, bytes_in, bytes_out, files = {}, 0, 0, []
    # Every ONNX model of the pack: the variant's components, then any other .onnx the manifest lists.
    models = list(dict.fromkeys([p for p in source["components"].values() if p] +
                                [f["path"] for f in manifest["files"] if f["path"].endswith(".onnx")]))
    for path in models:
        written, n_in, n_out = convert(src, tmp, manifest, path, layout)
        new_paths[path] = written[0]
        files += written
        if path in source["components"].values():
            bytes_in, bytes_out = bytes_in + n_in, bytes_out + n_out
    tokenizer = manifest["tokenizer"]
    for rel in (tokenizer["vocab"], tokenizer["merges"]):
        os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
        shutil.copyfile(os.path.join(src, rel), os.path.join(tmp, rel))
        files.append(rel)
    out = copy.deepcopy(manifest)
    components = {k: new_paths[v] for k, v in source["components"].items() if v}
    out["variants"] = [int8_variant(source, components, bytes_in, bytes_out)]
    out["files"] = [{"path": rel, "size": os.path.getsize(os.path.join(tmp, rel)),
                     "sha256": sha256_file(os.path.join(tmp, rel))} for rel in sorted(files)]
    with open(os.path.join(tmp, "manifest.json"), "w") as f:
        json.dump(out, f, indent=2, ensure_ascii=False)
        f.write("\n")
    total = sum(f["size"] for f in out["files"])
    log(f"variant int8: components {bytes_in:,} -> {bytes_out:,} B; all files {total:,} B")
    return tmp


def main(argv):
    layout = "source"
    if "--layout" in argv:
        i = argv.index("--layout")
        layout = argv[i + 1]
        del argv[i : i + 2]
    if len(argv) != 2 or layout not in LAYOUTS:
        raise SystemExit(__doc__)
    src, dst = (os.path.abspath(os.path.expanduser(a)) for a in argv)
    hashes = []
    for path in (os.path.join(src, "manifest.json"), os.path.abspath(__file__),
                 os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "quantize.py"),
                 os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "slice_attention.py")):
        hashes.append(sha256_file(path))
    stamp = f"{' '.join(hashes)} {layout}\n"
    stamp_path = os.path.join(dst, ".source")
    if os.path.exists(stamp_path) and open(stamp_path).read() == stamp:
        print(dst)
        return
    tmp = build(src, dst, layout)
    # The finished copy replaces any old one only now: a stopped run leaves no half-made pack at DST_DIR.
    shutil.rmtree(dst, ignore_errors=True)
    os.replace(tmp, dst)
    with open(stamp_path, "w") as f:
        f.write(stamp)
    print(dst)


if __name__ == "__main__":
    main(sys.argv[1:])
