"""Rebuild the training cache's checkpoints (ae.pt, teacher.pt's text encoder,
student.pt, preview.pt) from the shipped fp32 ONNX files, so a later stage
(the ControlNet) can be trained without re-running the two-hour build.

torch.onnx.export keeps most parameters under their own names but folds
some (Linear weights become transposed `onnx::MatMul_N` constants). So each
module is exported once more with random weights, by the same call, and
every parameter is found in that export by value (as is, or transposed);
the shipped file's initializer of the same name then gives its weights.
The recovered modules are exported again and must reproduce every shipped
initializer exactly, or nothing is written.

  /usr/bin/python3 models/recover.py            (needs data.py and tokenizer.py run first)
"""
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from autoencoder import Decoder, DecoderExport, Encoder, PreviewDecoder
from config import PACK_DIR, path, threads
from export import DYNAMIC_AXES, OPSET, UNetExport, fixed_inputs
from tokenizer import Tokenizer
from train_teacher import build_models
from trainutil import log


def initializers(onnx_path):
    return {i.name: numpy_helper.to_array(i) for i in onnx.load(str(onnx_path)).graph.initializer}


def export(module, name, inputs, outputs, out_path):
    torch.onnx.export(module, fixed_inputs(name), str(out_path), input_names=inputs, output_names=outputs,
                      opset_version=OPSET, do_constant_folding=True, dynamic_axes=DYNAMIC_AXES.get(name))


def recover(module, name, inputs, outputs, shipped_path, tmp):
    """Loads the shipped file's weights into `module` (in place) and checks them by re-export."""
    module.eval()
    with torch.no_grad():  # distinct values everywhere (a fresh LayerNorm is all ones): no two params alike
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * 0.1)
    probe = tmp / f"{name}.probe.onnx"
    export(module, name, inputs, outputs, probe)
    fresh, shipped = initializers(probe), initializers(shipped_path)
    state = {}
    for key, param in module.state_dict().items():
        value = param.detach().numpy()
        for init_name, init in fresh.items():
            if init.size != value.size:
                continue
            if np.array_equal(init.reshape(value.shape), value):
                state[key] = shipped[init_name].reshape(value.shape)
                break
            if value.ndim == 2 and init.shape == value.T.shape and np.array_equal(init, value.T):
                state[key] = shipped[init_name].T
                break
        else:
            raise SystemExit(f"recover: {name}: no initializer holds {key}")
    module.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
    check = tmp / f"{name}.check.onnx"
    export(module, name, inputs, outputs, check)
    again = initializers(check)
    bad = [k for k in shipped if k not in again or not np.array_equal(again[k], shipped[k])]
    if bad:
        raise SystemExit(f"recover: {name}: re-export differs in {len(bad)} initializers, e.g. {bad[:3]}")
    log(f"recover: {name}: {len(state)} tensors, re-export identical ({len(shipped)} initializers)")
    return module


def main(pack=PACK_DIR):
    threads()
    torch.manual_seed(0)
    tok = Tokenizer.load(path("tokenizer"))
    te, unet = build_models(len(tok.vocab))
    enc, dec, preview = Encoder(), Decoder(), PreviewDecoder()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        f = lambda n: pack / n / "model.fp32.onnx"  # noqa: E731
        recover(te, "text_encoder", ["input_ids"], ["last_hidden_state"], f("text_encoder"), tmp)
        recover(UNetExport(unet), "unet", ["sample", "timestep", "encoder_hidden_states", "timestep_cond"],
                ["out_sample"], f("unet"), tmp)
        recover(DecoderExport(dec), "vae_decoder", ["latent_sample"], ["sample"], f("vae_decoder"), tmp)
        recover(enc, "vae_encoder", ["sample"], ["latent_sample"], f("vae_encoder"), tmp)
        recover(preview, "preview_decoder", ["latent_sample"], ["sample"], f("preview_decoder"), tmp)
    scaling = json.load(open(pack / "manifest.json"))["latent"]["scalingFactor"]
    torch.save({"encoder": enc.state_dict(), "decoder": dec.state_dict(), "scaling": scaling,
                "recovered": True}, path("ae.pt"))
    torch.save({"vocab_size": len(tok.vocab), "text_encoder": te.state_dict(), "recovered": True}, path("teacher.pt"))
    torch.save({"target": unet.state_dict(), "unet": unet.state_dict(), "recovered": True}, path("student.pt"))
    torch.save({"decoder": preview.state_dict(), "recovered": True}, path("preview.pt"))
    images = np.load(path("data", "images.npy"))
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1
    with torch.no_grad():
        z = torch.cat([enc(x[i : i + 256]) for i in range(0, len(x), 256)])
    np.save(path("latents.npy"), (z * scaling).numpy())
    log(f"recover: checkpoints and latents.npy written to {path('')}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else PACK_DIR)
