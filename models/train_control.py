"""Stage: train the ControlNet (controlnet.py) beside the frozen LCM student.

Data: each emoji glyph at a random size (35-100% of the image) and place on
white, encoded by the frozen VAE encoder, with its outline (outline.py) as
the condition and its caption as the prompt; plain shapes 4x as often.
Objective: the student's one-step clean estimate at an LCM timestep, with a
random guidance embedding, pulled to the placed glyph's latent (pseudo-Huber),
gradients flowing only into the ControlNet."""
import sys

import numpy as np
import torch

from autoencoder import Encoder
from config import GUIDANCE_DIM, SEED, SKIP_K, SMOKE, path, seed_all, threads
from controlnet import ControlNet
from data import glyphs, rgba
from outline import as_cond, random_sample
from pack_data import load
from schedule import abar, boundary, x0_from_eps
from train_teacher import build_models
from trainutil import Budget, log, lr_at, params, pseudo_huber, set_lr
from unet import guidance_embedding

LR, HUBER_C, SHAPE_WEIGHT = 2e-4, 0.001, 4.0
SAMPLES = 400 if SMOKE else 16000


def make_data(captions, weights):
    """Placed glyphs: (caption index, latent, outline) for SAMPLES draws, cached."""
    out = path("control_data.npz")
    if out.exists():
        d = np.load(out)
        return torch.from_numpy(d["idx"]), torch.from_numpy(d["latents"]), torch.from_numpy(d["outlines"])
    by_name = {name: bm for name, bm in glyphs()}
    images = [rgba(by_name[c]) for c in captions]
    ae = torch.load(path("ae.pt"))
    enc = Encoder()
    enc.load_state_dict(ae["encoder"])
    enc.eval()
    rng = np.random.default_rng(SEED)
    idx = torch.multinomial(weights, SAMPLES, replacement=True, generator=torch.Generator().manual_seed(SEED))
    rgbs, outlines = [], []
    for i in idx.tolist():
        rgb, outline = random_sample(images[i], rng)
        rgbs.append(rgb)
        outlines.append(outline)
    x = torch.from_numpy(np.stack(rgbs)).permute(0, 3, 1, 2).float() / 127.5 - 1
    with torch.no_grad():
        z = torch.cat([enc(x[i : i + 256]) for i in range(0, len(x), 256)]) * ae["scaling"]
    outlines = np.stack(outlines)
    np.savez_compressed(out, idx=idx.numpy(), latents=z.numpy(), outlines=outlines)
    log(f"control: {SAMPLES} placed glyphs, outline coverage {outlines.mean():.3f}")
    return idx, z, torch.from_numpy(outlines)


def main(steps, batch=32):
    out = path("control.pt")
    if out.exists():
        log("control: cached")
        return
    seed_all(SEED)
    threads()
    captions, tok, ids, empty, latents, weights = load(SHAPE_WEIGHT)
    ckpt = torch.load(path("teacher.pt"))
    te, unet = build_models(ckpt["vocab_size"])
    te.load_state_dict(ckpt["text_encoder"])
    unet.load_state_dict(torch.load(path("student.pt"))["target"])
    for p in list(te.parameters()) + list(unet.parameters()):
        p.requires_grad_(False)
    with torch.no_grad():
        states = torch.cat([te(ids[i : i + 256]) for i in range(0, len(ids), 256)])
    cap_idx, x0s, outlines = make_data(captions, weights)
    control = ControlNet(unet)
    log(f"control: ControlNet {params(control)} params, UNet {params(unet)} (frozen)")
    done, prior_s = 0, 0.0
    if path("control.partial.pt").exists():  # resume an interrupted run (optimizer state restarts)
        partial = torch.load(path("control.partial.pt"))
        control.load_state_dict(partial["control"])
        done, prior_s = partial["steps"], partial.get("seconds", 0.0)
        log(f"control: resuming from step {done}")
    opt = torch.optim.AdamW(control.parameters(), lr=LR, weight_decay=0.0)
    budget, step, avg = Budget("control", steps - done), 0, 0.0
    grid = torch.arange(SKIP_K - 1, 1000, SKIP_K)
    one = torch.tensor(1.0)
    while budget.progress(step) < 1:
        set_lr(opt, lr_at(LR, budget.progress(step)))
        pick = torch.randint(0, len(x0s), (batch,))
        x0, ctx = x0s[pick], states[cap_idx[pick]]
        cond = outlines[pick].float()[:, None].expand(-1, 3, -1, -1)
        t = grid[torch.randint(0, len(grid), (batch,))]
        g = 1.0 + 7.0 * torch.rand(batch)
        a_t = abar(t).view(-1, 1, 1, 1)
        xt = a_t.sqrt() * x0 + (1 - a_t).sqrt() * torch.randn_like(x0)
        *down, mid = control(xt, t, ctx, cond, one)
        eps = unet(xt, t, ctx, guidance_embedding(g, GUIDANCE_DIM), down, mid)
        c_skip, c_out = (v.view(-1, 1, 1, 1) for v in boundary(t))
        pred = c_skip * xt + c_out * x0_from_eps(xt, eps, t)
        loss = pseudo_huber(pred, x0, HUBER_C)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(control.parameters(), 1.0)
        opt.step()
        step += 1
        avg = 0.98 * avg + 0.02 * loss.item()
        if step % 50 == 0:
            log(f"control step {step} loss {avg / (1 - 0.98**step):.5f} {budget.elapsed() / step:.2f}s/step")
        if step % 500 == 0:
            torch.save({"control": control.state_dict(), "steps": done + step,
                        "seconds": prior_s + budget.elapsed()}, path("control.partial.pt"))
    log(f"control: {step} steps in {budget.elapsed():.0f}s")
    torch.save({"control": control.state_dict(), "steps": done + step, "seconds": prior_s + budget.elapsed(),
                "batch": batch}, out)


if __name__ == "__main__":
    main(int(sys.argv[1]))
