"""Stage: export the components to ONNX (fp32), derive the fp16 and int8
variants, and write reference inputs/outputs from PyTorch for ort_check.mjs.
With a trained ControlNet (control.pt) also the ControlNet and the UNet that
takes its residuals, in the layout of the public SD 1.5 ControlNet exports."""
import json
import sys
from pathlib import Path

import torch

from autoencoder import Decoder, DecoderExport, Encoder, PreviewDecoder
from controlnet import ControlNet
from config import GUIDANCE_DIM, HIDDEN, IMAGE, LATENT_CH, MAX_LEN, DOWNSCALE, PACK_DIR, SEED, path, threads
from fp16 import convert_fp16
from quantize import quantize_file
from slice_attention import blocks_for
from tokenizer import Tokenizer
from train_teacher import build_models
from trainutil import log
from unet import guidance_embedding

OPSET = 17
L = IMAGE // DOWNSCALE
# The UNet takes any batch (as real exports do): the engine runs all regions' prompts in one call.
DYNAMIC_AXES = {"unet": {n: {0: "batch"} for n in ("sample", "encoder_hidden_states", "timestep_cond", "out_sample")}}
CONTROL_OUT = ["down_block_0", "down_block_1", "mid_block_res_sample"]
CONTROL_UNET_IN = ["down_block_0", "down_block_1", "mid_block_additional_residual"]
DYNAMIC_AXES["controlnet"] = {n: {0: "batch"} for n in ["sample", "encoder_hidden_states", "controlnet_cond"] + CONTROL_OUT}
DYNAMIC_AXES["unet_control"] = {n: {0: "batch"} for n in list(DYNAMIC_AXES["unet"]) + CONTROL_UNET_IN}


class UNetExport(torch.nn.Module):
    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states, timestep_cond):
        return self.unet(sample, timestep, encoder_hidden_states, timestep_cond)


class UNetControlExport(torch.nn.Module):
    """The UNet with the ControlNet's residuals as three more inputs."""

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states, timestep_cond, down_block_0, down_block_1,
                mid_block_additional_residual):
        return self.unet(sample, timestep, encoder_hidden_states, timestep_cond, [down_block_0, down_block_1],
                         mid_block_additional_residual)


def load_modules():
    ae = torch.load(path("ae.pt"))
    teacher = torch.load(path("teacher.pt"))
    student = torch.load(path("student.pt"))
    enc, dec = Encoder(), Decoder()
    enc.load_state_dict(ae["encoder"])
    dec.load_state_dict(ae["decoder"])
    te, unet = build_models(teacher["vocab_size"])
    te.load_state_dict(teacher["text_encoder"])
    unet.load_state_dict(student["target"])
    preview = PreviewDecoder()
    preview.load_state_dict(torch.load(path("preview.pt"))["decoder"])
    modules = {
        "text_encoder": (te, ["input_ids"], ["last_hidden_state"]),
        "unet": (UNetExport(unet), ["sample", "timestep", "encoder_hidden_states", "timestep_cond"], ["out_sample"]),
        "vae_decoder": (DecoderExport(dec), ["latent_sample"], ["sample"]),
        "vae_encoder": (enc, ["sample"], ["latent_sample"]),
        "preview_decoder": (preview, ["latent_sample"], ["sample"]),
    }
    if path("control.pt").exists():
        control = ControlNet(unet)
        control.load_state_dict(torch.load(path("control.pt"))["control"])
        modules["controlnet"] = (control, ["sample", "timestep", "encoder_hidden_states", "controlnet_cond",
                                           "conditioning_scale"], CONTROL_OUT)
        modules["unet_control"] = (UNetControlExport(unet), ["sample", "timestep", "encoder_hidden_states",
                                                             "timestep_cond"] + CONTROL_UNET_IN, ["out_sample"])
    return modules


def fixed_inputs(name):
    g = torch.Generator().manual_seed(SEED)
    if name == "text_encoder":
        return (torch.tensor([Tokenizer.load(path("tokenizer")).encode("red heart")], dtype=torch.int32),)
    if name == "unet":
        return (torch.randn(1, LATENT_CH, L, L, generator=g), torch.tensor([759], dtype=torch.int64),
                torch.randn(1, MAX_LEN, HIDDEN, generator=g), guidance_embedding(torch.tensor([4.0]), GUIDANCE_DIM))
    if name == "controlnet":
        outline = torch.zeros(1, 3, IMAGE, IMAGE)
        outline[:, :, 16:48, 16] = outline[:, :, 16:48, 47] = outline[:, :, 16, 16:48] = outline[:, :, 47, 16:48] = 1
        return (torch.randn(1, LATENT_CH, L, L, generator=g), torch.tensor([759], dtype=torch.int64),
                torch.randn(1, MAX_LEN, HIDDEN, generator=g), outline, torch.tensor(1.0))
    if name == "unet_control":
        return fixed_inputs("unet") + (torch.randn(1, 64, L, L, generator=g) * 0.3,
                                       torch.randn(1, 128, L // 2, L // 2, generator=g) * 0.3,
                                       torch.randn(1, 128, L // 2, L // 2, generator=g) * 0.3)
    if name in ("vae_decoder", "preview_decoder"):
        return (torch.randn(1, LATENT_CH, L, L, generator=g),)
    return (torch.rand(1, 3, IMAGE, IMAGE, generator=g) * 2 - 1,)


def export_all(out_dir: Path, only=None):
    """only: component directory names to export (the rest of `out_dir` is left as it is)."""
    threads()
    refs_path = path("ref", "reference.json")
    refs = json.load(open(refs_path)) if only and refs_path.exists() else {}
    for name, (module, inputs, outputs) in load_modules().items():
        if only and name not in only:
            continue
        module.eval()
        d = out_dir / name
        d.mkdir(parents=True, exist_ok=True)
        args = fixed_inputs(name)
        fp32 = d / "model.fp32.onnx"
        torch.onnx.export(module, args, str(fp32), input_names=inputs, output_names=outputs,
                          opset_version=OPSET, do_constant_folding=True, dynamic_axes=DYNAMIC_AXES.get(name))
        convert_fp16(fp32, d / "model.fp16.onnx")
        quantize_file(fp32, d / "model.int8.onnx", attention_blocks=blocks_for((IMAGE // DOWNSCALE) ** 2))
        with torch.no_grad():
            y = module(*args)
        if isinstance(y, tuple):  # the ControlNet: its first residual is checked
            y = y[0]
        refs[name] = {"inputs": {n: {"dtype": str(a.dtype).replace("torch.", ""), "dims": list(a.shape),
                                     "data": a.flatten().tolist()} for n, a in zip(inputs, args)},
                      "output": outputs[0], "expected": y.flatten().tolist()}
        log(f"export: {name} -> {', '.join(p.name for p in sorted(d.glob('*.onnx')))}")
    json.dump(refs, open(refs_path, "w"))


if __name__ == "__main__":
    # export.py [pack_dir] [--only controlnet,unet_control]
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        i = args.index("--only")
        only = set(args[i + 1].split(","))
        del args[i : i + 2]
    export_all(Path(args[0]) if args else PACK_DIR, only)
