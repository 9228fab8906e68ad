"""Stage check: do the student's cross-attention maps point at what it paints?

The pointing game on the PyTorch student: for the 18 "<colour> <shape>"
prompts over 3 seeds (4 LCM steps, the pack's default guidance), is the
brightest point of the word's map (attention.py, made as the app's Explain
mode makes it) on the generated object (saturated pixels)? Reported beside
the object's share of the image (what a uniform map scores) and the mean
map inside and outside the object. With the first student kept by the
attention stage (student.first.pt), also how much the pictures moved: PSNR
of the same prompts and noise against it, and the colour score of both.
The demo's objects are centred, so a map that merely peaks at the centre
would also win that game. With the ControlNet (control.pt) the same game is
played on the 16 off-centre drawn shapes of evaluate_control.py x 2 seeds:
is the shape word's brightest point inside the drawn shape, against how
often the image's centre is?
Writes models/attention_results.json (a smoke build: into its cache); exits
non-zero when the shape word hits under TARGET (full build).
The app's own figure, on the exported ONNX files, comes from
tests/bench/explain.mjs and tests/unit/engine/explain/demo-explain.test.ts.

  /usr/bin/python3 models/evaluate_attention.py [student.pt]"""
import colorsys
import json
import sys

import numpy as np
import torch

import config as C
from attention import grid_maps, pointing_hit, recording
from autoencoder import Decoder
from evaluate import COLOURS, SHAPES, dominant_colour, psnr, to_uint8
from pack_data import load
from schedule import lcm_sample
from train_teacher import build_models
from unet import guidance_embedding

SEEDS = (1, 2, 3)
TARGET = 0.8  # of the shape word's cases
PROMPTS = [f"{c} {s}" for c in COLOURS for s in SHAPES]


class Student:
    """The text encoder, a student UNet (its EMA target) and the VAE decoder, from the cache."""

    def __init__(self, checkpoint):
        teacher = torch.load(C.path("teacher.pt"))
        self.te, self.unet = (m.eval() for m in build_models(teacher["vocab_size"]))
        self.te.load_state_dict(teacher["text_encoder"])
        self.unet.load_state_dict(torch.load(checkpoint)["target"])
        ae = torch.load(C.path("ae.pt"))
        self.dec, self.scaling = Decoder().eval(), ae["scaling"]
        self.dec.load_state_dict(ae["decoder"])

    @torch.no_grad()
    def explained(self, tok, prompts, seed, steps=4, guidance=C.DEFAULT_GUIDANCE):
        """uint8 images and per-token maps [B, L, 8, 8], averaged over layers and steps."""
        ctx = self.te(torch.tensor([tok.encode(p) for p in prompts]))
        cond = guidance_embedding(torch.full((len(prompts),), float(guidance)), C.GUIDANCE_DIM)
        g = torch.Generator().manual_seed(seed)
        noise = torch.randn(len(prompts), C.LATENT_CH, 8, 8, generator=g)
        with recording(self.unet) as records:
            z = lcm_sample(lambda x, t: self.unet(x, torch.tensor([t]), ctx, cond), noise, steps, g)
            maps = torch.stack([grid_maps(p, 8) for p in records]).mean(0)
        return to_uint8(self.dec(z / self.scaling)), maps


def saturated(img):
    hsv = np.array([colorsys.rgb_to_hsv(*p) for p in img.reshape(-1, 3) / 255.0])
    return torch.from_numpy(((hsv[:, 1] > 0.35) & (hsv[:, 2] > 0.25)).reshape(img.shape[:2]))


def pointing_game(m, tok):
    tally = {w: {"hits": 0, "share": 0.0, "inside": 0.0, "outside": 0.0} for w in ("colour", "shape")}
    images = {}
    for seed in SEEDS:
        images[seed], maps = m.explained(tok, PROMPTS, seed)
        for i, _ in enumerate(PROMPTS):
            mask = saturated(images[seed][i])
            for word, index in (("colour", 1), ("shape", 2)):  # "<colour> <shape>": one token each
                hit, up = pointing_hit(maps[i, index], mask)
                up = (up - up.min()) / (up.max() - up.min() + 1e-12)
                t = tally[word]
                t["hits"] += hit
                t["share"] += float(mask.float().mean())
                t["inside"] += float(up[mask].mean()) if mask.any() else 0.0
                t["outside"] += float(up[~mask].mean()) if (~mask).any() else 0.0
    cases = len(PROMPTS) * len(SEEDS)
    scores = {w: {"hits": t["hits"], "cases": cases, "object_share": round(t["share"] / cases, 3),
                  "inside": round(t["inside"] / cases, 3), "outside": round(t["outside"] / cases, 3)}
              for w, t in tally.items()}
    return scores, images


def off_centre_game(checkpoint):
    from evaluate_control import PLACES, PROMPTS, SEEDS as CONTROL_SEEDS, Control
    from outline import drawn_shape

    m = Control(C.path("control.pt"))
    m.unet.load_state_dict(torch.load(checkpoint)["target"])
    shapes = [(kind, place) for kind in PROMPTS for place in PLACES if place[:2] != (32, 32)]
    drawn = [drawn_shape(kind, *place) for kind, place in shapes]
    prompts = [PROMPTS[kind] for kind, _ in shapes]
    hits = centre = 0
    for seed in CONTROL_SEEDS:
        with recording(m.unet) as records:  # the UNet's own layers; the ControlNet's copy is not recorded
            m.images(prompts, [line for line, _ in drawn], seed)
            maps = torch.stack([grid_maps(p, 8) for p in records]).mean(0)
        for i, prompt in enumerate(prompts):
            inside = torch.from_numpy(drawn[i][1].astype(bool))
            hits += pointing_hit(maps[i, len(prompt.split())], inside)[0]  # the last word (BOS is token 0)
            centre += bool(inside[32, 32])
    return {"hits": hits, "centre_inside": centre, "cases": len(prompts) * len(CONTROL_SEEDS)}


def colour_hits(images):
    return sum(dominant_colour(imgs[i]) == p.split()[0] for imgs in images.values() for i, p in enumerate(PROMPTS))


def main():
    C.threads()
    _, tok, _, _, _, _ = load()
    checkpoint = sys.argv[1] if len(sys.argv) > 1 else C.path("student.pt")
    res = {"student": {}}
    res["student"]["pointing"], images = pointing_game(Student(checkpoint), tok)
    res["student"]["colour_hits"] = colour_hits(images)
    if C.path("student.first.pt").exists():
        res["first_student"] = {}
        res["first_student"]["pointing"], before = pointing_game(Student(C.path("student.first.pt")), tok)
        res["first_student"]["colour_hits"] = colour_hits(before)
        res["psnr_vs_first_student_db"] = round(float(np.mean([psnr(images[s], before[s]) for s in SEEDS])), 2)
    res["cases"] = len(PROMPTS) * len(SEEDS)
    if C.path("control.pt").exists():
        res["off_centre"] = {"student": off_centre_game(checkpoint)}
        if C.path("student.first.pt").exists():
            res["off_centre"]["first_student"] = off_centre_game(C.path("student.first.pt"))
    json.dump(res, open(C.MODELS / "attention_results.json" if not C.SMOKE else C.path("attention_results.json"),
                        "w"), indent=1)
    print(json.dumps(res, indent=1))
    shape = res["student"]["pointing"]["shape"]
    ok = C.SMOKE or shape["hits"] >= TARGET * shape["cases"]
    print(f"pointing game, shape word: {shape['hits']}/{shape['cases']}, threshold {TARGET:.0%}"
          f"{' (not held in --smoke)' if C.SMOKE else ''}: {'ok' if ok else 'FAIL'}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
