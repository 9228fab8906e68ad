"""Reference end-to-end runs of the SD-Turbo and LCM pipelines on the fixture
models (tests/fixtures/models/sd-turbo, lcm), independent of the TypeScript
engine and of onnxruntime:

- the graphs run in numpy, in float64 (models/reference/onnx_numpy.py);
- sampling uses models/reference/schedulers.py (from the papers);
- noise comes from models/reference/gesso_random.py, Gesso's documented
  PRNG re-implemented in Python (xoshiro128** + SplitMix32 + Box-Muller), in
  the order the pipeline draws it: the initial latents first (N(0,1) in
  [1, C, h, w] order), then one draw of the latent size before each step but
  the last. The drawn arrays are also written to the fixture, so a test can
  tell a noise mismatch from a maths mismatch;
- token ids are inputs: looked up here in the fixture vocabulary (each
  prompt word is a single token there: BOS, words, EOS, then padding to 77),
  and the test checks that the TypeScript tokenizer gives the same ids;
- the pipeline itself follows diffusers: StableDiffusionPipeline with
  EulerAncestralDiscreteScheduler (trailing) and no classifier-free guidance
  (SD-Turbo runs at guidance 0/1), LatentConsistencyModelPipeline (guidance
  as the timestep_cond embedding of w = guidance - 1, get_guidance_scale_embedding),
  img2img as StableDiffusionImg2ImgPipeline (start from init latents noised
  to the first kept timestep); decode latents / scaling_factor, then
  RGBA = round((clamp(v, -1, 1) + 1) * 127.5) (half up), alpha 255.

Run from the repository root:  /usr/bin/python3 models/reference/pipeline.py
Writes tests/fixtures/reference/sd-turbo.json and lcm.json (deterministic).
"""
import base64
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import schedulers as S  # noqa: E402
from gesso_random import Random  # noqa: E402
from onnx_numpy import Graph  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "models")
OUT = os.path.join(ROOT, "tests", "fixtures", "reference")


def token_ids(pack_dir, manifest, prompt):
    with open(os.path.join(pack_dir, manifest["tokenizer"]["vocab"]), encoding="utf-8") as f:
        vocab = json.load(f)
    tok = manifest["tokenizer"]
    words = prompt.lower().split()
    ids = [tok["bosTokenId"]] + [vocab[w + "</w>"] for w in words] + [tok["eosTokenId"]]
    return ids + [tok["padTokenId"]] * (tok["maxLength"] - len(ids))


def guidance_embedding(guidance, dim, scale):
    """diffusers' get_guidance_scale_embedding in float32 as PyTorch computes it (w = guidance - 1),
    with exp correctly rounded to float32."""
    f = np.float32
    w = f(f(guidance - 1) * f(scale))
    half = dim // 2
    step = f(f(math.log(10000.0)) / f(half - 1))
    freqs = np.array([f(math.exp(f(f(i) * -step))) for i in range(half)], dtype=np.float32)
    angles = (w * freqs).astype(np.float32)
    out = np.zeros(dim)
    out[:half] = np.sin(angles.astype(np.float64))
    out[half : 2 * half] = np.cos(angles.astype(np.float64))
    return out.reshape(1, dim)


def to_rgba(chw):
    c, h, w = chw.shape
    rgb = np.floor((np.clip(chw[:3], -1, 1) + 1) * 127.5 + 0.5).astype(np.uint8)
    rgba = np.full((h, w, 4), 255, np.uint8)
    rgba[:, :, :3] = rgb.transpose(1, 2, 0)
    return rgba


def run(pack, variant_id, prompt, steps, seed, guidance=1.0, width=None, height=None, init=None):
    pack_dir = os.path.join(FIXTURES, pack)
    with open(os.path.join(pack_dir, "manifest.json")) as f:
        manifest = json.load(f)
    variant = next(v for v in manifest["variants"] if v["id"] == variant_id)
    comp = variant["components"]
    te, unet, vae = (Graph(os.path.join(pack_dir, comp[k])) for k in ("textEncoder", "unet", "vaeDecoder"))

    ids = token_ids(pack_dir, manifest, prompt)
    hidden = te.run({"input_ids": np.array([ids], dtype=np.int32)})["last_hidden_state"]

    latent = manifest["latent"]
    h = (height or manifest["image"]["height"]) // latent["downscale"]
    w = (width or manifest["image"]["width"]) // latent["downscale"]
    dims = [1, latent["channels"], h, w]
    count = int(np.prod(dims))

    strength = init["strength"] if init else 1.0
    sched = S.make(manifest["scheduler"], steps, strength)
    random = Random(seed)
    initial = random.gaussians(count).astype(np.float64)
    if init:
        x = sched.add_noise(np.asarray(init["latents"], dtype=np.float64), initial)
    else:
        x = initial * sched.init_noise_sigma
    feeds_extra = {}
    timestep_type = next(i for i in unet.model.graph.input if i.name == "timestep").type.tensor_type.elem_type
    if manifest.get("guidanceEmbedding") and "timestep_cond" in unet.inputs:
        g = manifest["guidanceEmbedding"]
        feeds_extra["timestep_cond"] = guidance_embedding(guidance, g["dim"], g["scale"])
    ancestral = []
    records = []

    def draw():
        z = random.gaussians(count).astype(np.float64)
        ancestral.append(z)
        return z

    denoised = x
    for i, t in enumerate(sched.timesteps):
        x_in = x * sched.model_input_scale(i)
        timestep = np.array([t], dtype=np.int64 if timestep_type == 7 else np.float64)
        eps = unet.run({"sample": x_in.reshape(dims), "timestep": timestep,
                        "encoder_hidden_states": hidden, **feeds_extra})["out_sample"].ravel()
        x, denoised = sched.step(i, x, eps, draw)
        records.append({"t": t, "eps": eps, "denoised": denoised})
    image = vae.run({"latent_sample": (denoised / latent["scalingFactor"]).reshape(dims)})["sample"][0]
    hashes = {f["path"]: f["sha256"] for f in manifest["files"]}
    return {
        "models": {comp[k]: hashes[comp[k]] for k in ("textEncoder", "unet", "vaeDecoder")},
        "ids": ids,
        "dims": dims,
        "timesteps": sched.timesteps,
        "initial": initial,
        "ancestral": ancestral,
        "records": records,
        "image": image,
        "rgba": to_rgba(image),
    }


def b64_f32(a):
    return base64.b64encode(np.asarray(a, dtype="<f4").tobytes()).decode()


def b64_u8(a):
    return base64.b64encode(np.asarray(a, dtype=np.uint8).tobytes()).decode()


def write(name, cases):
    out = {
        "about": "Written by models/reference/pipeline.py (numpy float64 graphs, schedulers from the papers, "
                 "Gesso's PRNG re-implemented); do not edit by hand. Arrays *B64 are little-endian float32 "
                 "(or uint8 for rgba) in base64.",
        "runs": [],
    }
    for case in cases:
        r = run(**case["args"])
        out["runs"].append({
            "name": case["name"],
            "request": case["request"],
            "init": case["args"].get("init"),
            "variant": case["args"]["variant_id"],
            "models": r["models"],
            "ids": r["ids"],
            "dims": r["dims"],
            "timesteps": r["timesteps"],
            "initialB64": b64_f32(r["initial"]),
            "ancestralB64": [b64_f32(z) for z in r["ancestral"]],
            "steps": [{"t": rec["t"], "epsB64": b64_f32(rec["eps"]), "denoisedB64": b64_f32(rec["denoised"])}
                      for rec in r["records"]],
            "imageDims": list(r["image"].shape),
            "imageB64": b64_f32(r["image"]),
            "rgbaB64": b64_u8(r["rgba"]),
        })
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(path, ROOT), os.path.getsize(path), "bytes")


def init_latents(dims, seed):
    """A stand-in for VAE-encoded image latents (img2img): smooth and fixed."""
    c, h, w = dims[1:]
    y, x = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return np.stack([np.sin(0.7 * x + 0.3 * k + seed) * np.cos(0.5 * y - 0.2 * k) for k in range(c)]).ravel()


def case(name, pack, variant, prompt, steps, seed, guidance=1.0, width=None, height=None, strength=None):
    request = {"prompt": prompt, "steps": steps, "guidance": guidance, "seed": seed}
    args = {"pack": pack, "variant_id": variant, "prompt": prompt, "steps": steps, "seed": seed, "guidance": guidance}
    if width:
        request.update(width=width, height=height)
        args.update(width=width, height=height)
    if strength is not None:
        dims = [1, 4, (height or 64) // 8, (width or 64) // 8]
        latents = [float(v) for v in np.asarray(init_latents(dims, seed), dtype=np.float32)]
        args["init"] = {"latents": latents, "strength": strength}
    return {"name": name, "request": request, "args": args}


def main():
    write("sd-turbo.json", [
        case("1 step, seed 1", "sd-turbo", "fp32", "red heart", 1, 1),
        case("2 steps, seed 7", "sd-turbo", "fp32", "red heart", 2, 7),
        case("4 steps, seed 3", "sd-turbo", "fp32", "cat", 4, 3),
        case("3 steps, 48x32 (latents 6 wide, 4 high), seed 42", "sd-turbo", "fp32", "red cat", 3, 42,
             width=48, height=32),
        case("img2img, 4 steps at strength 0.5, seed 5", "sd-turbo", "fp32", "heart", 4, 5, strength=0.5),
    ])
    write("lcm.json", [
        case("4 steps, guidance 8.5, int64 timestep, seed 1", "lcm", "int64", "cat", 4, 1, guidance=8.5),
        case("2 steps, guidance 3, float timestep, seed 9", "lcm", "float", "red heart", 2, 9, guidance=3.0),
        case("img2img, 3 steps at strength 0.6, guidance 5, seed 4", "lcm", "int64", "heart", 3, 4, guidance=5.0,
             strength=0.6),
    ])


if __name__ == "__main__":
    main()
