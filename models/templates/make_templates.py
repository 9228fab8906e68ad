"""Gesso's weightless ONNX templates of SD 1.5 and SD 2.1 (UNet, VAE decoder,
VAE encoder, text encoder) and their name maps, for importing a checkpoint
on the device (docs/import.md).

  /usr/bin/python3 models/templates/make_templates.py --family sd15 --width reduced

Each component is the shape-true architecture of ../realsize exported the way
the realsize packs are (float32 export, float16 weights and compute, float32
I/O), with every parameter an external-data reference into `model.onnx_data`
at a fixed offset, and no data file: the import writes that file, tensor by
tensor, from the checkpoint. `map.json` gives each referenced initializer its
module name, diffusers key, ldm key, layouts and place in the data file.

Initializers are matched to parameters by value: before the export every
parameter is filled with distinct random numbers, and each initializer's
float32 values must equal exactly one parameter's, as stored or transposed.
Anything else (a parameter found twice or not at all, an initializer that
two parameters fit) stops the build.

Output: ${GESSO_TEMPLATE_CACHE:-~/.cache/gesso/templates}/<family>-<width>/ (printed on
stdout); rebuilt only when a source or option changes (.stamp).

The full-size templates the app serves are committed in public/templates/
(beside the app, downloaded on demand, never precached), with the CLIP
tokenizer they share (public/templates/tokenizer/merges.txt: the vocabulary
is derived from it on the device). `template.json` records the SHA-256 of
every source file, and a unit test refuses committed templates whose sources
have changed since (tests/unit/engine/import/committed-templates.test.ts):

  /usr/bin/python3 models/templates/make_templates.py --family all --width full --publish
  /usr/bin/python3 models/templates/make_templates.py --family all --width full --check
"""
import argparse
import filecmp
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto

HERE = Path(__file__).resolve().parent
REALSIZE = HERE.parent / "realsize"
sys.path.insert(0, str(REALSIZE))
sys.path.insert(0, str(HERE))

import arch  # noqa: E402
import configs  # noqa: E402
import names  # noqa: E402
import onnxio  # noqa: E402

warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)

FAMILIES = ("sd15", "sd21")
COMPONENTS = ("unet", "vae_decoder", "vae_encoder", "text_encoder")
SOURCES = [HERE / "make_templates.py", HERE / "names.py"] + [REALSIZE / f for f in
                                                              ("arch.py", "arch_clip.py", "arch_unet.py", "arch_vae.py", "configs.py", "onnxio.py")]
DATA = "model.onnx_data"
REPO = HERE.parent.parent
PUBLISHED = REPO / "public" / "templates"


def log(msg):
    print(f"[templates {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cache_root():
    return Path(os.environ.get("GESSO_TEMPLATE_CACHE") or Path.home() / ".cache" / "gesso" / "templates")


def configs_for(family, width):
    text = configs.text_config("vit-h" if family == "sd21" else "vit-l", width)
    unet = configs.unet_config("sd21" if family == "sd21" else "sd15", width)
    unet["cond_dim"] = None  # a plain SD UNet: no guidance embedding input
    return text, unet, configs.vae_config(width)


def specs(family, width):
    """component -> (factory, trace args, input names, output names, axes)."""
    tc, uc, vc = configs_for(family, width)
    ids = torch.zeros(1, 77, dtype=torch.int32)
    ids[0, :4] = torch.tensor([49406, 320, 1125, 49407], dtype=torch.int32)
    unet_axes = {"sample": {0: "batch_size", 1: "num_channels", 2: "height", 3: "width"},
                 "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"},
                 "out_sample": {0: "batch_size", 2: "height", 3: "width"}}
    dec_axes = {"latent_sample": {0: "batch_size", 1: "num_channels_latent", 2: "height_latent", 3: "width_latent"},
                "sample": {0: "batch_size", 2: "height", 3: "width"}}
    enc_axes = {"sample": {0: "batch_size", 1: "num_channels", 2: "height", 3: "width"},
                "latent_sample": {0: "batch_size", 2: "height_latent", 3: "width_latent"}}
    text_axes = {"input_ids": {0: "batch_size"}, "last_hidden_state": {0: "batch_size"}, "pooler_output": {0: "batch_size"}}
    return {
        "unet": (lambda: arch.UNet2DConditionModel(**uc),
                 (torch.randn(1, 4, 8, 8), torch.tensor([999], dtype=torch.int64), torch.randn(1, 77, uc["context_dim"])),
                 ["sample", "timestep", "encoder_hidden_states"], ["out_sample"], unet_axes, uc),
        "vae_decoder": (lambda: arch.VAEDecoder(**vc), (torch.randn(1, 4, 8, 8),), ["latent_sample"], ["sample"], dec_axes, vc),
        "vae_encoder": (lambda: arch.VAEEncoder(**vc), (torch.randn(1, 3, 64, 64),), ["sample"], ["latent_sample"], enc_axes, vc),
        "text_encoder": (lambda: arch.CLIPTextModel(**tc), (ids,), ["input_ids"], ["last_hidden_state", "pooler_output"],
                         text_axes, tc),
    }


def distinct_fill(module, seed):
    """Every parameter gets its own random values, so values identify it."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in module.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.05)


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.float32).tobytes()).hexdigest()


def build_component(family, width, component, out, scratch_root):
    make, args, inputs, outputs, axes, _ = specs(family, width)[component]
    torch.manual_seed(1)
    module = make().eval()
    distinct_fill(module, 1)
    params = {n: p.detach().numpy().copy() for n, p in module.named_parameters()}
    index = {}
    for n, a in params.items():
        for transposed, values in ((False, a), (True, a.T if a.ndim == 2 else None)):
            if values is None:
                continue
            index.setdefault(digest(values), []).append((n, transposed))
    os.makedirs(scratch_root, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="template-", dir=scratch_root)
    try:
        src = onnxio.export_fp32(module, args, inputs, outputs, axes, scratch)
        del module
        model = onnxio.load_lazy(src)
        found = {}
        for t in model.graph.initializer:
            if t.data_type != TensorProto.FLOAT:
                continue
            hits = index.get(digest(onnxio.tensor_array(t, scratch)), [])
            if len(hits) > 1:
                raise SystemExit(f"{component}: initializer {t.name} fits {hits}")
            if hits:
                n, transposed = hits[0]
                if n in found.values() and not transposed:
                    raise SystemExit(f"{component}: parameter {n} appears twice")
                found[t.name] = (n, transposed)
        missing = set(params) - {n for n, _ in found.values()}
        if missing:
            raise SystemExit(f"{component}: parameters not in the graph: {sorted(missing)[:5]}")
        onnxio.convert_fp16(model, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    # Every weight is named after its module ("onnx::MatMul_1166" becomes "layers.0.self_attn.q_proj.weight").
    taken = {t.name for t in model.graph.initializer} | {i.name for i in model.graph.input}
    renames = {}
    for t in model.graph.initializer:
        if t.name in found and t.name != found[t.name][0] and found[t.name][0] not in taken:
            renames[t.name] = found[t.name][0]
    for t in model.graph.initializer:
        if t.name in renames:
            found[renames[t.name]] = found.pop(t.name)
            t.name = renames[t.name]
    for node in model.graph.node:
        for k, i in enumerate(node.input):
            if i in renames:
                node.input[k] = renames[i]
    if len({n for n, _ in found.values()}) != len(found):
        raise SystemExit(f"{component}: a parameter is used by two initializers")
    entries, offset = [], 0
    for t in model.graph.initializer:
        if t.name not in found:
            continue
        n, transposed = found[t.name]
        raw = t.raw_data
        diff, ldm, third = names.keys(family, component, n)
        shape = list(params[n].shape)
        ldm_shape = names.ldm_shape(component, n, shape)
        if third is not None:
            ldm_shape = [shape[0] * 3] + shape[1:]
        entries.append({"onnx": t.name, "dims": list(t.dims), "dataType": t.data_type, "offset": offset,
                        "length": len(raw), "transpose": transposed, "module": n, "shape": shape,
                        "diffusers": diff, "ldm": ldm, "ldmShape": ldm_shape, "ldmThird": third})
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        del t.external_data[:]
        for key, value in (("location", DATA), ("offset", str(offset)), ("length", str(len(raw)))):
            e = t.external_data.add()
            e.key, e.value = key, value
        offset += len(raw)
    model.producer_name = "gesso-template"
    dest = out / component
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "model.onnx").write_bytes(model.SerializeToString())
    body = {"family": family, "width": width, "component": component, "graph": f"{component}/model.onnx",
            "data": f"{component}/{DATA}", "dataBytes": offset, "entries": entries}
    (dest / "map.json").write_text(json.dumps(body, indent=1) + "\n")
    log(f"{family}-{width} {component}: {len(entries)} weights, {offset:,} bytes of data")
    return body


def source_key(family, width):
    h = hashlib.sha256(f"{family}/{width}/{torch.__version__}/{onnx.__version__}/{np.__version__}".encode())
    for f in SOURCES:
        h.update(f.read_bytes())
    return h.hexdigest()


def sources():
    """Each source file's SHA-256, by its path in the repository: what made a template."""
    return {f.relative_to(REPO).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest() for f in SOURCES}


def build(family, width, root=None, stamped=True):
    out = (Path(root) if root else cache_root()) / f"{family}-{width}"
    key = source_key(family, width)
    stamp = out / ".stamp"
    if stamped and stamp.exists() and stamp.read_text().strip() == key:
        return out
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(int(os.environ.get("GESSO_THREADS", "2")))
    for c in COMPONENTS:
        build_component(family, width, c, out, str(cache_root() / ".scratch"))
    text, _, _ = configs_for(family, width)
    # No tokenizer here: every template uses CLIP's, public/templates/tokenizer/merges.txt.
    shutil.rmtree(out / "tokenizer", ignore_errors=True)
    (out / "template.json").write_text(json.dumps({
        "format": "gesso-template@1", "family": family, "width": width,
        "textDim": text["dim"], "contextDim": text["dim"],
        "components": {c: {"graph": f"{c}/model.onnx", "map": f"{c}/map.json", "data": f"{c}/{DATA}"} for c in COMPONENTS},
        "sources": sources(),
    }, indent=1) + "\n")
    if stamped:
        stamp.write_text(key + "\n")
    return out


def template_files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != ".stamp")


def check(family, width):
    """Builds afresh into a temporary folder and compares with the published template, file by file."""
    published = PUBLISHED / f"{family}-{width}"
    with tempfile.TemporaryDirectory(dir=cache_root()) as tmp:
        fresh = build(family, width, tmp, stamped=False)
        names_ = sorted(set(template_files(fresh)) | set(template_files(published)))
        differ = [n for n in names_ if not ((fresh / n).is_file() and (published / n).is_file()
                                            and filecmp.cmp(fresh / n, published / n, shallow=False))]
    for n in differ:
        log(f"{family}-{width}: {n} differs from a fresh build")
    return not differ


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--family", choices=FAMILIES + ("all",), default="sd15")
    p.add_argument("--width", choices=configs.WIDTHS, default="reduced")
    p.add_argument("--cache")
    p.add_argument("--publish", action="store_true", help="write into public/templates/ (committed, no .stamp)")
    p.add_argument("--check", action="store_true", help="build afresh and compare with public/templates/")
    a = p.parse_args()
    cache_root().mkdir(parents=True, exist_ok=True)
    ok = True
    for family in FAMILIES if a.family == "all" else (a.family,):
        if a.check:
            ok = check(family, a.width) and ok
        else:
            print(build(family, a.width, PUBLISHED if a.publish else a.cache, stamped=not a.publish), flush=True)
    if not ok:
        raise SystemExit("published templates differ from a fresh build: run with --publish and commit")


if __name__ == "__main__":
    main()
