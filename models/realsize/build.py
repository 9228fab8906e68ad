"""Builds a shape-true pack: the real architectures of the public SD-Turbo or
LCM browser exports with seeded random weights, as ONNX files laid out like
those exports, plus a gesso-pack@1 manifest. See README.md.

  /usr/bin/python3 models/realsize/build.py --pack sd-turbo --width reduced
  /usr/bin/python3 models/realsize/build.py --pack lcm --width full

Output: ${GESSO_REALSIZE_CACHE:-~/.cache/gesso/realsize}/<pack>-<width>/ (printed on
stdout, the only thing printed there; progress goes to stderr). A component is
rebuilt only when the generator's sources, the options or the torch/onnx
versions change (its key is stored in .stamps/); a finished pack is a no-op.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import arch  # noqa: E402
import configs  # noqa: E402
import onnxio  # noqa: E402

# torch.onnx's tracer warns about every shape it computes at run time; that is the point here.
warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)

REPO = HERE.parent.parent
FIXTURE_TOKENIZER = REPO / "tests" / "fixtures" / "models" / "sd-turbo" / "tokenizer"
SOURCES = ["arch.py", "arch_clip.py", "arch_unet.py", "arch_vae.py", "configs.py", "onnxio.py", "build.py"]
PACKS = ("sd-turbo", "lcm")
SEED = 20240611


def log(msg):
    print(f"[realsize {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cache_root():
    return Path(os.environ.get("GESSO_REALSIZE_CACHE") or Path.home() / ".cache" / "gesso" / "realsize")


# ----------------------------------------------------------------------------- components


def _seeded(name, seed, make):
    def factory():
        torch.manual_seed(seed + int(hashlib.sha256(name.encode()).hexdigest()[:6], 16))
        return make()
    return factory


TEXT_AXES = {"input_ids": {0: "batch_size"}, "last_hidden_state": {0: "batch_size"}, "pooler_output": {0: "batch_size"}}
UNET_AXES = {
    "sample": {0: "batch_size", 1: "num_channels", 2: "height", 3: "width"},
    "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"},
    "timestep_cond": {0: "batch_size"},
    "out_sample": {0: "batch_size", 2: "height", 3: "width"},
}
DEC_AXES = {"latent_sample": {0: "batch_size", 1: "num_channels_latent", 2: "height_latent", 3: "width_latent"},
            "sample": {0: "batch_size", 2: "height", 3: "width"}}
ENC_AXES = {"sample": {0: "batch_size", 1: "num_channels", 2: "height", 3: "width"},
            "latent_sample": {0: "batch_size", 2: "height_latent", 3: "width_latent"}}


def _trace_ids():
    ids = torch.zeros(1, 77, dtype=torch.int32)  # SD 2.x pads with 0
    ids[0, :4] = torch.tensor([49406, 320, 1125, 49407], dtype=torch.int32)
    return ids


# Which tensors stay inside model.onnx for the external-data (LCM) exports. The public
# LCM export keeps ~93.7 MB of its UNet and ~2.11 MB of its VAE decoder inline; which
# tensors is not published. These rules reproduce those sizes (README.md, "Caveats").
UNET_INLINE = re.compile(r"time_embedding|time_emb_proj|attn2[./]to_[kv][./]")
VAE_INLINE = re.compile(r"attentions\.0[./]to_(q|k|v|out)[./]")


def components(pack, width, seed):
    """name -> spec: path in the pack, factory, trace inputs, I/O names, axes, options."""
    text_kind, unet_kind = ("vit-h", "sd21") if pack == "sd-turbo" else ("vit-l", "sd15")
    tc, uc, vc, ac = (configs.text_config(text_kind, width), configs.unet_config(unet_kind, width),
                      configs.vae_config(width), configs.taesd_config(width))
    external = pack == "lcm"
    unet_args = [torch.randn(1, 4, 8, 8), torch.tensor([999], dtype=torch.int64), torch.randn(1, 77, uc["context_dim"])]
    unet_inputs = ["sample", "timestep", "encoder_hidden_states"]
    if uc["cond_dim"]:
        unet_args.append(torch.randn(1, uc["cond_dim"]))
        unet_inputs.append("timestep_cond")
    unet_axes = {k: v for k, v in UNET_AXES.items() if k in unet_inputs or k == "out_sample"}
    return {
        "text_encoder": dict(path="text_encoder/model.onnx", make=lambda: arch.CLIPTextModel(**tc),
                             args=(_trace_ids(),), inputs=["input_ids"], outputs=["last_hidden_state", "pooler_output"],
                             axes=TEXT_AXES, fp16=True, external=False, config=tc,
                             output_dims={"last_hidden_state": ["batch_size", 77, tc["dim"]], "pooler_output": ["batch_size", tc["dim"]]}),
        "unet": dict(path="unet/model.onnx", make=lambda: arch.UNet2DConditionModel(**uc), args=tuple(unet_args),
                     inputs=unet_inputs, outputs=["out_sample"], axes=unet_axes, fp16=True, external=external,
                     inline=UNET_INLINE, config=uc),
        "vae_decoder": dict(path="vae_decoder/model.onnx", make=lambda: arch.VAEDecoder(**vc), args=(torch.randn(1, 4, 8, 8),),
                            inputs=["latent_sample"], outputs=["sample"], axes=DEC_AXES, fp16=True, external=external,
                            inline=VAE_INLINE, config=vc),
        "vae_encoder": dict(path="vae_encoder/model.onnx", make=lambda: arch.VAEEncoder(**vc), args=(torch.randn(1, 3, 64, 64),),
                            inputs=["sample"], outputs=["latent_sample"], axes=ENC_AXES, fp16=True, external=external,
                            inline=VAE_INLINE, config=vc),
        # TAESD: the public ONNX exports are float32 single files.
        "taesd_decoder": dict(path="taesd/vae_decoder/model.onnx", make=lambda: arch.TAESDDecoder(**ac),
                              args=(torch.randn(1, 4, 8, 8),), inputs=["latent_sample"], outputs=["sample"], axes=DEC_AXES,
                              fp16=False, external=False, config=ac),
        "taesd_encoder": dict(path="taesd/vae_encoder/model.onnx", make=lambda: arch.TAESDEncoder(**ac),
                              args=(torch.rand(1, 3, 64, 64) * 2 - 1,), inputs=["sample"], outputs=["latent_sample"],
                              axes=ENC_AXES, fp16=False, external=False, config=ac),
    }


# ----------------------------------------------------------------------------- keys and stamps


def source_hash():
    h = hashlib.sha256()
    for name in SOURCES:
        h.update(name.encode() + b"\0" + (HERE / name).read_bytes())
    for f in sorted(FIXTURE_TOKENIZER.iterdir()):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def component_key(pack, width, seed, name):
    body = json.dumps({"sources": source_hash(), "pack": pack, "width": width, "seed": seed, "component": name,
                       "torch": torch.__version__, "onnx": onnx.__version__, "numpy": np.__version__}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def file_entry(out, rel):
    h = hashlib.sha256()
    with open(out / rel, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            h.update(chunk)
    return {"path": rel, "size": (out / rel).stat().st_size, "sha256": h.hexdigest()}


# ----------------------------------------------------------------------------- build


def build_component(out, name, spec, stamp_dir, key):
    stamp = stamp_dir / f"{name}.json"
    if stamp.exists():
        info = json.loads(stamp.read_text())
        if info.get("key") == key and all((out / p).exists() for p in info["files"]):
            log(f"{name}: cached")
            return info
    started = time.time()
    log(f"{name}: exporting ({'fp16' if spec['fp16'] else 'fp32'}{', external data' if spec['external'] else ''})")
    written, params, largest = onnxio.export(
        spec["make"], spec["args"], spec["inputs"], spec["outputs"], spec["axes"], str(out / spec["path"]),
        str(out.parent / ".scratch"), fp16=spec["fp16"], external=spec["external"], inline=spec.get("inline"),
        output_dims=spec.get("output_dims"), log=lambda msg: log(f"{name}: {msg}"))
    files = [os.path.relpath(p, out) for p in written]
    info = {"key": key, "component": name, "files": files, "params": params, "largestInitializerBytes": largest,
            "bytes": {f: (out / f).stat().st_size for f in files}, "seconds": round(time.time() - started, 1),
            "config": spec["config"], "dtype": "float16 weights, float32 I/O" if spec["fp16"] else "float32"}
    stamp.write_text(json.dumps(info, indent=2) + "\n")
    log(f"{name}: {params:,} parameters, {sum(info['bytes'].values()):,} bytes in {info['seconds']} s")
    return info


def tokenizer_files(out):
    dst = out / "tokenizer"
    dst.mkdir(parents=True, exist_ok=True)
    for f in ("vocab.json", "merges.txt"):
        shutil.copyfile(FIXTURE_TOKENIZER / f, dst / f)
    return ["tokenizer/vocab.json", "tokenizer/merges.txt"]


def manifest(pack, width, out, infos, extra):
    model_files = sorted({f for i in infos.values() for f in i["files"]})
    comps = {"textEncoder": "text_encoder/model.onnx", "unet": "unet/model.onnx", "vaeDecoder": "vae_decoder/model.onnx",
             "vaeEncoder": "vae_encoder/model.onnx", "previewDecoder": "taesd/vae_decoder/model.onnx"}
    used = ["text_encoder", "unet", "vae_decoder", "vae_encoder", "taesd_decoder"]
    largest = max(infos[c]["largestInitializerBytes"] for c in used)
    weights = sum(sum(infos[c]["bytes"].values()) for c in used)
    files = [file_entry(out, p) for p in sorted(set(model_files) | set(extra))]
    label = "full size" if width == "full" else "width / 8"
    lcm = pack == "lcm"
    body = {
        "format": "gesso-pack@1",
        "id": f"realsize-{pack}-{width}",
        "name": f"Shape-true {'LCM (SD 1.5)' if lcm else 'SD-Turbo'}, {label}",
        "version": "1.0.0",
        "description": (f"Random weights in the real {'LCM-Dreamshaper-v7' if lcm else 'SD-Turbo'} architecture"
                        f"{'' if width == 'full' else ' with every width divided by 8'}; the images are noise. For tests."),
        "pipeline": "lcm" if lcm else "sd-turbo",
        "image": {"width": 512, "height": 512},
        "latent": {"channels": 4, "downscale": 8, "scalingFactor": 0.18215, "decoderOutput": "minus-one-to-one"},
        "defaults": {"steps": 4 if lcm else 1, "guidance": 8 if lcm else 1},
        "ranges": {"steps": [1, 8] if lcm else [1, 4], "guidance": [1, 12] if lcm else [1, 1]},
        "scheduler": ({"kind": "lcm", "trainTimesteps": 1000, "betaStart": 0.00085, "betaEnd": 0.012,
                       "betaSchedule": "scaled_linear", "originalSteps": 50, "timestepScaling": 10} if lcm else
                      {"kind": "euler-ancestral-trailing", "trainTimesteps": 1000, "betaStart": 0.00085, "betaEnd": 0.012,
                       "betaSchedule": "scaled_linear"}),
    }
    if lcm:
        body["guidanceEmbedding"] = {"dim": 256, "scale": 1000}
    body.update({
        "tokenizer": {"kind": "clip-bpe", "vocab": "tokenizer/vocab.json", "merges": "tokenizer/merges.txt", "maxLength": 77,
                      "bosTokenId": 49406, "eosTokenId": 49407, "padTokenId": 49407 if lcm else 0},
        "variants": [{
            "id": "fp16",
            "label": "fp16 weights, float32 I/O (as the public export)",
            "default": True,
            "backends": ["webgpu", "wasm"],
            "requires": {"shaderF16": True, "maxStorageBufferBindingSize": largest, "maxBufferSize": largest,
                         "memoryBytes": weights},
            "components": comps,
        }],
        "files": files,
        "license": {"spdx": "MIT", "name": "MIT License", "url": "https://opensource.org/license/mit", "restricted": False,
                    "summary": "Random weights generated by Gesso's models/realsize; no trained model is included."},
        "attribution": ("Generated by Gesso's models/realsize from the published architecture configurations; "
                        "random weights. Tokenizer files are Gesso's test fixture (a few merges), not CLIP's."),
    })
    (out / "manifest.json").write_text(json.dumps(body, indent=2) + "\n")
    return body


def build(pack, width, seed=SEED, root=None, only=None):
    root = Path(root) if root else cache_root()
    out = root / f"{pack}-{width}"
    stamp_dir = out / ".stamps"
    stamp_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(int(os.environ.get("GESSO_THREADS", "2")))
    started = time.time()
    specs = components(pack, width, seed)
    infos = {}
    for name, spec in specs.items():
        if only and name not in only:
            continue
        spec["make"] = _seeded(f"{pack}/{name}", seed, spec["make"])
        infos[name] = build_component(out, name, spec, stamp_dir, component_key(pack, width, seed, name))
    if only:
        return out
    pack_key = hashlib.sha256("".join(i["key"] for i in infos.values()).encode()).hexdigest()
    pack_stamp = stamp_dir / "pack.json"
    if (out / "manifest.json").exists() and pack_stamp.exists() and json.loads(pack_stamp.read_text()).get("key") == pack_key:
        log("manifest: cached")
        size_table(pack, width, infos)
        return out
    extra = tokenizer_files(out)
    manifest(pack, width, out, infos, extra)
    pack_stamp.write_text(json.dumps({"key": pack_key}) + "\n")
    info = {"pack": pack, "width": width, "seed": seed, "seconds": round(time.time() - started, 1),
            "components": {k: {kk: v[kk] for kk in ("files", "params", "bytes", "largestInitializerBytes", "seconds", "dtype")}
                           for k, v in infos.items()}}
    (out / "build-info.json").write_text(json.dumps(info, indent=2) + "\n")
    size_table(pack, width, infos)
    return out


def size_table(pack, width, infos):
    public = configs.PUBLIC_BYTES[pack]
    rows = [("component", "params", "file", "bytes", "public bytes", "diff %")]
    for name, info in infos.items():
        for f, size in info["bytes"].items():
            pub = public.get(f) if width == "full" else None
            diff = f"{(size - pub) / pub * 100:+.2f}" if pub else "-"
            rows.append((name, f"{info['params']:,}", f, f"{size:,}", f"{pub:,}" if pub else "-", diff))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) if i in (0, 2) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))), file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pack", choices=PACKS + ("all",), required=True)
    p.add_argument("--width", choices=configs.WIDTHS + ("both",), default="reduced")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--cache", help="cache root (default $GESSO_REALSIZE_CACHE or ~/.cache/gesso/realsize)")
    p.add_argument("--only", nargs="*", help="build only these components (no manifest)")
    a = p.parse_args()
    packs = PACKS if a.pack == "all" else (a.pack,)
    widths = configs.WIDTHS if a.width == "both" else (a.width,)
    for pack in packs:
        for width in widths:
            print(build(pack, width, a.seed, a.cache, a.only), flush=True)


if __name__ == "__main__":
    main()
