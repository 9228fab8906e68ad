"""Stage: write the pack's tokenizer files, LICENSE.txt and manifest.json
(gesso-pack@1, docs/pack-manifest.md) with real sizes and SHA-256."""
import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

import config as C

COMPONENTS = {"textEncoder": "text_encoder", "unet": "unet", "vaeDecoder": "vae_decoder", "vaeEncoder": "vae_encoder",
              "previewDecoder": "preview_decoder", "controlNet": "controlnet", "controlUnet": "unet_control"}
OPTIONAL = {"controlNet", "controlUnet"}  # present when the ControlNet stage ran
CONTROL = {"kind": "outline", "defaultStrength": 1.0, "strengthRange": [0, 2]}
VARIANTS = [
    ("int8", "int8 weights (smallest, default)", True, ["wasm", "webgpu"], False),
    ("fp16", "fp16 weights and compute (GPUs with shader-f16)", False, ["webgpu"], True),
    ("fp32", "fp32 reference", False, ["wasm", "webgpu"], False),
]
ACTIVATION_MARGIN = 32 * 1024 * 1024  # runtime + activations: tiny at 64x64, generous on purpose

LICENSE = """Gesso demo pack (demo-emoji)

Weights, tokenizer and build code: MIT License, Copyright (c) the Gesso authors.

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of
the Software, and to permit persons to whom the Software is furnished to do so,
subject to the following conditions: The above copyright notice and this
permission notice shall be included in all copies or substantial portions of
the Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
EXPRESS OR IMPLIED.

Training images: rendered from Noto Color Emoji (Debian fonts-noto-color-emoji),
Copyright 2013 Google LLC, licensed under the SIL Open Font License, Version 1.1
(https://openfontlicense.org/open-font-license-official-text/). The weights were
trained on images rendered from this font; we ship them under OFL-1.1 AND MIT.

Captions: CLDR emoji short names from emoji-test.txt (Debian unicode-data),
Copyright Unicode, Inc., Unicode License (https://www.unicode.org/license.txt).
"""


def sha256(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def weight_stats(onnx_path):
    """(largest initializer bytes, bytes of all weights once dequantized to fp32)."""
    m = onnx.load(str(onnx_path))
    sizes = [numpy_helper.to_array(i).nbytes for i in m.graph.initializer]
    fp32 = sum(int(np.prod(i.dims)) * 4 for i in m.graph.initializer)
    return max(sizes), fp32


def write(pack: Path, version=C.PACK_VERSION):
    import torch

    ae = torch.load(C.path("ae.pt"))
    shutil.copytree(C.path("tokenizer"), pack / "tokenizer", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("examples.json"))
    (pack / "LICENSE.txt").write_text(LICENSE)
    vocab = json.load(open(pack / "tokenizer" / "vocab.json", encoding="utf-8"))
    variants = []
    components = {k: d for k, d in COMPONENTS.items() if k not in OPTIONAL or (pack / d).is_dir()}
    for vid, label, default, backends, f16 in VARIANTS:
        comps = {k: f"{d}/model.{vid}.onnx" for k, d in components.items()}
        stats = [weight_stats(pack / f) for f in comps.values()]
        largest = max(s[0] for s in stats)
        files = sum((pack / f).stat().st_size for f in comps.values())
        variants.append({"id": vid, "label": label, "default": default, "backends": backends,
                         "requires": {"shaderF16": f16, "maxStorageBufferBindingSize": largest, "maxBufferSize": largest,
                                      "memoryBytes": files + sum(s[1] for s in stats) + ACTIVATION_MARGIN},
                         "components": comps})
    paths = ["tokenizer/vocab.json", "tokenizer/merges.txt"] + [f"{d}/model.{v[0]}.onnx" for v in VARIANTS for d in components.values()]
    manifest = {
        "format": "gesso-pack@1",
        "id": "demo-emoji",
        "name": "Gesso demo: emoji",
        "version": version,
        "description": "A tiny built-in model that draws emoji-style pictures from short names like \"red heart\" or \"cat face\".",
        "pipeline": "demo",
        "image": {"width": C.IMAGE, "height": C.IMAGE},
        "latent": {"channels": C.LATENT_CH, "downscale": C.DOWNSCALE, "scalingFactor": round(ae["scaling"], 6),
                   "decoderOutput": "minus-one-to-one"},
        "defaults": {"steps": C.DEFAULT_STEPS, "guidance": C.DEFAULT_GUIDANCE,
                     "startStrength": C.DEFAULT_START_STRENGTH},
        "ranges": {"steps": [1, 8], "guidance": [1, 8]},
        "scheduler": {"kind": "lcm", "trainTimesteps": C.TRAIN_T, "betaStart": C.BETA_START, "betaEnd": C.BETA_END,
                      "betaSchedule": "scaled_linear", "originalSteps": C.ORIGINAL_STEPS,
                      "timestepScaling": C.TIMESTEP_SCALING},
        "guidanceEmbedding": {"dim": C.GUIDANCE_DIM, "scale": C.GUIDANCE_SCALE},
        **({"control": CONTROL} if "controlNet" in components else {}),
        "tokenizer": {"kind": "clip-bpe", "vocab": "tokenizer/vocab.json", "merges": "tokenizer/merges.txt",
                      "maxLength": C.MAX_LEN, "bosTokenId": vocab["<|startoftext|>"],
                      "eosTokenId": vocab["<|endoftext|>"], "padTokenId": vocab["<|endoftext|>"]},
        "variants": variants,
        "files": [{"path": p, "size": (pack / p).stat().st_size, "sha256": sha256(pack / p)} for p in paths],
        "license": {"spdx": "OFL-1.1 AND MIT",
                    "name": "SIL Open Font License 1.1 (emoji training images) and MIT (weights and code)",
                    "url": "https://openfontlicense.org/open-font-license-official-text/",
                    "restricted": False,
                    "summary": "Free to use, share and modify. Trained on Noto Color Emoji (OFL-1.1); weights and code are MIT."},
        "attribution": "Trained from scratch by the Gesso project on images rendered from Google's Noto Color Emoji "
                       "(OFL-1.1), captioned with Unicode CLDR emoji names.",
    }
    (pack / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    size = sum((pack / f).stat().st_size for f in set(variants[0]["components"].values())) + \
        sum((pack / p).stat().st_size for p in paths[:2])
    print(f"manifest: default variant download {size} bytes", file=sys.stderr)
    return manifest


if __name__ == "__main__":
    args = sys.argv[1:]
    write(Path(args[0]) if args else C.PACK_DIR, *(args[1:2] or []))
