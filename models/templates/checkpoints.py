"""Test inputs for the import (tests/unit/engine/import): SD checkpoints and
LoRA files as .safetensors in the layouts people download, made from the
shape-true architectures with seeded random weights, plus PyTorch and numpy
reference results computed from those files by their original key names.

  checkpoint --family sd15 --width reduced --layout ldm|diffusers --dtype F16|F32|BF16 --init default|distinct OUT
  lora --family sd15 --width reduced --format kohya|ldm-kohya|peft --rank 4 [--conv] [--no-alpha]
       [--targets all|transformer|attention] OUT
  fused --checkpoint CKPT --lora LORA --strength S --family sd15 OUT_DIR    (numpy W + s*(alpha/r)*up@down:
        index.json {diffusers key: [first value, count]} and values.f32)
  unet-ref --checkpoint CKPT --family sd15 --width reduced OUT_DIR          (PyTorch UNet output from the ldm keys)

safetensors is written and read here by hand (8-byte little-endian header
length, JSON header, raw little-endian data), with no safetensors package.
"""
import argparse
import json
import re
import struct
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "realsize"))
sys.path.insert(0, str(HERE))

import make_templates  # noqa: E402
import names  # noqa: E402

DTYPES = {"F16": torch.float16, "F32": torch.float32, "BF16": torch.bfloat16}
NP = {"F16": np.float16, "F32": np.float32}


def tensor_bytes(t, dtype):
    t = t.detach().to(DTYPES[dtype]).contiguous()
    if dtype == "BF16":
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (key, dtype, shape, bytes) in file order."""
    header, offset = {}, 0
    if metadata:
        header["__metadata__"] = metadata
    for key, dtype, shape, raw in tensors:
        header[key] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for *_, raw in tensors:
            f.write(raw)


def read_safetensors(path):
    """key -> float32 numpy array (F16, F32, BF16), and the metadata."""
    data = Path(path).read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for key, info in header.items():
        b, e = info["data_offsets"]
        raw = data[base + b:base + e]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = bits.view(np.float32)
        elif info["dtype"] in NP:
            arr = np.frombuffer(raw, dtype=NP[info["dtype"]]).astype(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=np.int64)
        out[key] = arr.reshape(info["shape"])
    return out, meta


def modules(family, width, init, seed=20240611):
    out = {}
    for k, c in enumerate(make_templates.COMPONENTS):
        make = make_templates.specs(family, width)[c][0]
        torch.manual_seed(seed + k)
        m = make().eval()
        if init == "distinct":
            make_templates.distinct_fill(m, seed + 100 + k)
        out[c] = m
    return out


def checkpoint(a):
    mods = modules(a.family, a.width, a.init)
    tensors = []
    for c, m in mods.items():
        sd = {n: p for n, p in m.named_parameters()}
        if a.layout == "diffusers":
            for n, p in sd.items():
                tensors.append((names.keys(a.family, c, n)[0], a.dtype, p.shape, tensor_bytes(p, a.dtype)))
            continue
        stacked = {}
        for n, p in sd.items():
            _, ldm, third = names.keys(a.family, c, n)
            if third is not None:
                stacked.setdefault(ldm, [None, None, None])[third] = p
                if all(x is not None for x in stacked[ldm]):
                    t = torch.cat(stacked[ldm], 0)
                    tensors.append((ldm, a.dtype, t.shape, tensor_bytes(t, a.dtype)))
                continue
            shape = names.ldm_shape(c, n, list(p.shape))
            tensors.append((ldm, a.dtype, shape, tensor_bytes(p.reshape(shape), a.dtype)))
        if c == "text_encoder" and a.family == "sd21":  # OpenCLIP's 24th layer and heads SD 2.x does not use
            g = torch.Generator().manual_seed(5)
            d = make_templates.configs_for(a.family, a.width)[0]["dim"]
            for key, shape in ((names.CLIP_H_LDM + "text_projection", [d, d]), (names.CLIP_H_LDM + "logit_scale", [])):
                tensors.append((key, a.dtype, shape, tensor_bytes(torch.randn(shape, generator=g), a.dtype)))
    if a.extra:
        g = torch.Generator().manual_seed(6)
        for k in range(a.extra):  # EMA copies and other keys the import ignores
            tensors.append((f"model_ema.extra{k}", a.dtype, [4], tensor_bytes(torch.randn(4, generator=g), a.dtype)))
    if a.shuffle:
        rng = np.random.default_rng(7)
        tensors = [tensors[i] for i in rng.permutation(len(tensors))]
    meta = {"format": "pt"}
    if a.v_prediction:
        meta["prediction_type"] = "v_prediction"
    write_safetensors(a.out, tensors, meta)


def lora_targets(family, width):
    """(component, module path, weight shape) of every module a LoRA can touch: the
    UNet's linears and convs except conv_in/conv_out and norms, and the text encoder's linears."""
    out = []
    for c in ("unet", "text_encoder"):
        m = make_templates.specs(family, width)[c][0]()
        for n, p in m.named_parameters():
            if not n.endswith(".weight") or p.ndim < 2 or "embedding" in n or n.startswith("conv_in") or n.startswith("conv_out"):
                continue
            out.append((c, n[: -len(".weight")], list(p.shape)))
    return out


def kohya_name(c, family, module, ldm):
    if c == "unet":
        if ldm:
            key = names.unet_keys(module + ".weight")[1][len(names.UNET_LDM):-len(".weight")]
            return "lora_unet_" + key.replace(".", "_")
        return "lora_unet_" + module.replace(".", "_")
    diff = names.keys(family, c, module + ".weight")[0][len("text_encoder."):-len(".weight")]
    return "lora_te_" + diff.replace(".", "_")


def lora_wanted(c, module, targets):
    """all: every linear and conv; transformer: kohya's default (the UNet's transformer
    blocks with proj_in/proj_out, every text-encoder linear); attention: q, k, v and out only."""
    if targets == "all":
        return True
    if targets == "transformer":
        return c == "text_encoder" or ".attentions." in "." + module
    return bool(re.search(r"\.(attn[12]\.to_(q|k|v|out\.0)|self_attn\.(q|k|v|out)_proj)$", module))


def lora(a):
    g = torch.Generator().manual_seed(a.seed)
    tensors = []
    for c, module, shape in lora_targets(a.family, a.width):
        if len(shape) == 4 and shape[2] == 3 and not a.conv:
            continue
        if not lora_wanted(c, module, a.targets):
            continue
        r = a.rank
        down_shape = [r, shape[1]] + ([shape[2], shape[3]] if len(shape) == 4 else [])
        up_shape = [shape[0], r] + ([1, 1] if len(shape) == 4 else [])
        down = torch.randn(down_shape, generator=g) * 0.1
        up = torch.randn(up_shape, generator=g) * 0.1
        alpha = torch.tensor(float(r) / 2)
        if a.format == "peft":
            base = names.keys(a.family, c, module + ".weight")[0][:-len(".weight")]
            tensors.append((base + ".lora_A.weight", "F16", down_shape, tensor_bytes(down, "F16")))
            tensors.append((base + ".lora_B.weight", "F16", up_shape, tensor_bytes(up, "F16")))
        else:
            base = kohya_name(c, a.family, module, a.format == "ldm-kohya")
            tensors.append((base + ".lora_down.weight", "F16", down_shape, tensor_bytes(down, "F16")))
            tensors.append((base + ".lora_up.weight", "F16", up_shape, tensor_bytes(up, "F16")))
        if not a.no_alpha:
            tensors.append((base + ".alpha", "F16", [], tensor_bytes(alpha, "F16")))
    write_safetensors(a.out, tensors, {"ss_network_module": "networks.lora"} if a.format != "peft" else None)


def fused(a):
    """Expected fused weights (float32, diffusers order), computed only from the two files."""
    ckpt, _ = read_safetensors(a.checkpoint)
    lo, _ = read_safetensors(a.lora)
    out = {}
    for c, module, shape in lora_targets(a.family, a.width):
        diff = names.keys(a.family, c, module + ".weight")[0]
        candidates = [diff[:-len(".weight")] + ".lora_A.weight", kohya_name(c, a.family, module, False) + ".lora_down.weight",
                      kohya_name(c, a.family, module, True) + ".lora_down.weight"]
        down_key = next((k for k in candidates if k in lo), None)
        if down_key is None:
            continue
        up_key = down_key.replace("lora_A", "lora_B").replace("lora_down", "lora_up")
        alpha_key = re.sub(r"\.(lora_A|lora_down)\.weight$", ".alpha", down_key)
        down, up = lo[down_key], lo[up_key]
        r = down.shape[0]
        alpha = float(lo[alpha_key]) if alpha_key in lo else float(r)
        ldm = names.keys(a.family, c, module + ".weight")[1]
        w = (ckpt[diff] if diff in ckpt else ckpt[ldm]).astype(np.float32).reshape(shape)
        delta = (up.reshape(up.shape[0], r) @ down.reshape(r, -1)).reshape(w.shape)
        out[diff] = (w + a.strength * (alpha / r) * delta).astype(np.float32).ravel()
    d = Path(a.out)
    d.mkdir(parents=True, exist_ok=True)
    index, at = {}, 0
    with open(d / "values.f32", "wb") as f:
        for key, values in out.items():
            f.write(values.tobytes())
            index[key] = [at, values.size]
            at += values.size
    (d / "index.json").write_text(json.dumps(index) + "\n")


def unet_ref(a):
    """A PyTorch UNet loaded from the checkpoint by its ldm key names; its output at fixed inputs."""
    ckpt, _ = read_safetensors(a.checkpoint)
    _, uc, _ = make_templates.configs_for(a.family, a.width)
    import arch
    m = arch.UNet2DConditionModel(**uc).eval()
    state = {}
    for n, p in m.named_parameters():
        ldm = names.unet_keys(n)[1]
        state[n] = torch.from_numpy(ckpt[ldm].copy()).reshape(p.shape)
    m.load_state_dict(state)
    g = torch.Generator().manual_seed(11)
    sample = torch.randn(1, 4, a.size // 8, a.size // 8, generator=g)
    context = torch.randn(1, 77, uc["context_dim"], generator=g)
    t = torch.tensor([a.timestep], dtype=torch.int64)
    with torch.no_grad():
        out = m(sample, t, context)
    d = Path(a.out)
    d.mkdir(parents=True, exist_ok=True)
    for name, v in (("sample", sample), ("context", context), ("out", out)):
        (d / f"{name}.f32").write_bytes(v.numpy().astype(np.float32).tobytes())
    (d / "ref.json").write_text(json.dumps({"sample": list(sample.shape), "context": list(context.shape),
                                            "timestep": a.timestep, "out": list(out.shape)}) + "\n")


def check_pack(a):
    """Reads an imported pack's ONNX files with onnx itself (external data included) and compares
    every weight named after a module with that module's parameter, as the checkpoint generator
    made it, in float16: as stored, transposed, or with the same elements in another shape."""
    from onnx import numpy_helper
    import onnx
    mods = modules(a.family, a.width, a.init)
    report = {"checked": 0, "params": 0, "mismatched": [], "unchecked": []}
    for c, m in mods.items():
        model = onnx.load(str(Path(a.pack) / c / "model.onnx"), load_external_data=True)
        inits = {t.name: t for t in model.graph.initializer}
        for n, p in m.named_parameters():
            report["params"] += 1
            want = p.detach().numpy().astype(np.float16)
            if n not in inits:
                report["unchecked"].append(f"{c}:{n}")
                continue
            got = numpy_helper.to_array(inits[n])
            if want.ndim == 2 and got.shape == want.T.shape and np.array_equal(got, want.T):
                same = True  # a MatMul weight (square ones too: the values are distinct, so only one order fits)
            elif got.shape == want.shape:
                same = np.array_equal(got, want)
            else:
                same = got.size == want.size and np.array_equal(got.ravel(), want.ravel())
            report["checked"] += 1
            if not same:
                report["mismatched"].append(f"{c}:{n}")
    print(json.dumps(report))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("checkpoint")
    c.add_argument("--family", default="sd15")
    c.add_argument("--width", default="reduced")
    c.add_argument("--layout", choices=("ldm", "diffusers"), default="ldm")
    c.add_argument("--dtype", choices=tuple(DTYPES), default="F16")
    c.add_argument("--init", choices=("default", "distinct"), default="default")
    c.add_argument("--extra", type=int, default=0)
    c.add_argument("--shuffle", action="store_true")
    c.add_argument("--v-prediction", action="store_true")
    c.add_argument("out")
    lo = sub.add_parser("lora")
    lo.add_argument("--family", default="sd15")
    lo.add_argument("--width", default="reduced")
    lo.add_argument("--format", choices=("kohya", "ldm-kohya", "peft"), default="kohya")
    lo.add_argument("--rank", type=int, default=4)
    lo.add_argument("--seed", type=int, default=3)
    lo.add_argument("--conv", action="store_true")
    lo.add_argument("--no-alpha", action="store_true")
    lo.add_argument("--targets", choices=("all", "transformer", "attention"), default="all")
    lo.add_argument("out")
    f = sub.add_parser("fused")
    f.add_argument("--checkpoint", required=True)
    f.add_argument("--lora", required=True)
    f.add_argument("--strength", type=float, default=1.0)
    f.add_argument("--family", default="sd15")
    f.add_argument("--width", default="reduced")
    f.add_argument("out")
    u = sub.add_parser("unet-ref")
    u.add_argument("--checkpoint", required=True)
    u.add_argument("--family", default="sd15")
    u.add_argument("--width", default="reduced")
    u.add_argument("--size", type=int, default=256)
    u.add_argument("--timestep", type=int, default=499)
    u.add_argument("out")
    k = sub.add_parser("check-pack")
    k.add_argument("--family", default="sd15")
    k.add_argument("--width", default="reduced")
    k.add_argument("--init", choices=("default", "distinct"), default="distinct")
    k.add_argument("pack")
    a = p.parse_args()
    {"check-pack": check_pack, "checkpoint": checkpoint, "lora": lora, "fused": fused, "unet-ref": unet_ref}[a.cmd](a)


if __name__ == "__main__":
    main()
