"""Stage check: does the ControlNet make the demo pack follow a drawn outline?

20 drawn shapes (circles, squares, triangles, hearts; 5 sizes and places
each) drawn as 2-px closed strokes; each generated with its own prompt (4
LCM steps, guidance 4) with and without the ControlNet, over SEEDS seeds.
Score: intersection-over-union between the filled outline and the generated
object's mask (pixels at least 64/255 from white in some channel).
Writes models/control_results.json and control_samples.png (a smoke build:
into its cache); exits non-zero when the
mean IoU with control is under TARGET (full build) or the gap to without
control is under GAP.

  /usr/bin/python3 models/evaluate_control.py [checkpoint.pt]"""
import json
import sys

import numpy as np
import torch
from PIL import Image

import config as C
from autoencoder import Decoder
from controlnet import ControlNet
from outline import as_cond, drawn_shape
from schedule import lcm_sample
from tokenizer import Tokenizer
from train_teacher import build_models
from unet import guidance_embedding

# "warning" is the yellow warning-sign triangle; "red triangle pointed up" draws a few pixels.
PROMPTS = {"circle": "blue circle", "square": "green square", "triangle": "warning",
           "heart": "red heart"}
PLACES = [(32, 32, 22), (21, 21, 12), (43, 23, 14), (24, 42, 13), (40, 40, 17)]  # centre x, y and half-size
SEEDS = (1, 2)
STEPS, GUIDANCE, TARGET, GAP = 4, 4.0, 0.6, 0.15
FROM_WHITE = 64


def object_mask(img):
    return (255 - img.astype(np.int16)).max(-1) >= FROM_WHITE


def iou(a, b):
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


class Control:
    def __init__(self, checkpoint):
        teacher = torch.load(C.path("teacher.pt"))
        self.te, self.unet = (m.eval() for m in build_models(teacher["vocab_size"]))
        self.te.load_state_dict(teacher["text_encoder"])
        self.unet.load_state_dict(torch.load(C.path("student.pt"))["target"])
        self.net = ControlNet(self.unet).eval()
        ckpt = torch.load(checkpoint)
        self.net.load_state_dict(ckpt["control"])
        self.steps = ckpt.get("steps")
        ae = torch.load(C.path("ae.pt"))
        self.dec, self.scaling = Decoder().eval(), ae["scaling"]
        self.dec.load_state_dict(ae["decoder"])
        self.tok = Tokenizer.load(C.path("tokenizer"))

    @torch.no_grad()
    def images(self, prompts, outlines, seed, strength=1.0):
        """uint8 [N, 64, 64, 3]; outlines None: no control."""
        ctx = self.te(torch.tensor([self.tok.encode(p) for p in prompts]))
        cond = guidance_embedding(torch.full((len(prompts),), GUIDANCE), C.GUIDANCE_DIM)
        g = torch.Generator().manual_seed(seed)
        noise = torch.randn(len(prompts), C.LATENT_CH, 8, 8, generator=g)
        hint = None if outlines is None else torch.from_numpy(np.stack([as_cond(o) for o in outlines]))

        def eps(x, t):
            t = torch.tensor([t])
            if hint is None:
                return self.unet(x, t, ctx, cond)
            *down, mid = self.net(x, t, ctx, hint, torch.tensor(strength))
            return self.unet(x, t, ctx, cond, down, mid)

        z = lcm_sample(eps, noise, STEPS, g)
        img = self.dec(z / self.scaling).clamp(-1, 1)
        return ((img + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


def main(checkpoint=None):
    C.threads()
    model = Control(checkpoint or C.path("control.pt"))
    shapes = [(kind, place) for kind in PROMPTS for place in PLACES]
    drawn = [drawn_shape(kind, *place) for kind, place in shapes]
    prompts = [PROMPTS[kind] for kind, _ in shapes]
    outlines = [line for line, _ in drawn]
    scores = {"with": [], "without": []}
    sample_rows = []
    for seed in SEEDS:
        with_c = model.images(prompts, outlines, seed)
        without = model.images(prompts, None, seed)
        for i, (_, fill) in enumerate(drawn):
            scores["with"].append(iou(object_mask(with_c[i]), fill))
            scores["without"].append(iou(object_mask(without[i]), fill))
        if seed == SEEDS[0]:
            lines = np.stack([np.repeat((o * 255).astype(np.uint8)[..., None], 3, -1) for o in outlines])
            sample_rows = [np.concatenate(list(lines), 1), np.concatenate(list(with_c), 1),
                           np.concatenate(list(without), 1)]
    res = {"shapes": len(shapes), "seeds": list(SEEDS), "steps": STEPS, "guidance": GUIDANCE,
           "control_steps": model.steps,
           "iou_with_control": round(float(np.mean(scores["with"])), 4),
           "iou_without_control": round(float(np.mean(scores["without"])), 4),
           "iou_with_control_by_shape": {k: round(float(np.mean(scores["with"][i * 5:(i + 1) * 5] +
                                                               scores["with"][20 + i * 5:20 + (i + 1) * 5])), 4)
                                         for i, k in enumerate(PROMPTS)},
           "share_with_iou_over_0_6": round(float(np.mean(np.array(scores["with"]) >= 0.6)), 4)}
    print(json.dumps(res, indent=1))
    if not checkpoint:  # a smoke build's figures stay in its cache
        out = C.path("") if C.SMOKE else C.MODELS
        json.dump(res, open(out / "control_results.json", "w"), indent=1)
        Image.fromarray(np.concatenate(sample_rows, 0)).save(out / "control_samples.png")
    gap = res["iou_with_control"] - res["iou_without_control"]
    if not C.SMOKE and not checkpoint and (res["iou_with_control"] < TARGET or gap < GAP):
        print(f"evaluate_control: IoU {res['iou_with_control']} (target {TARGET}), gap {gap:.3f} (target {GAP})",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
