"""Stage: teach the LCM student's cross-attention to point at what it paints,
so Explain's maps (attention.py, DAAM) show where each word acted.

The first student drew the right pictures but its cross-attention did not
localise: the mean of the text states also enters the time embedding, so the
words' attention was free to land anywhere (in the pointing game the shape
word's brightest point was on the object for 37% of 54 cases, below the 63% a
uniform map scores). This stage fine-tunes it with two terms:
- keep: its one-step estimate at a noisy training latent stays the frozen
  first student's (pseudo-Huber), so the pictures stay what they were;
- point: for every cross-attention layer and caption word, the share of the
  word's attention that falls on the training image's object (non-white
  pixels, averaged to the layer's grid) is pulled up (-log share), ATTN_W.
Batches are drawn as in the LCM stage (the plain coloured shapes 10x as often),
at LCM timesteps with guidance g ~ U[1, 8]. Saves student.pt (the fine-tuned
weights' EMA as "target"), keeping the first student as student.first.pt."""
import copy
import shutil
import sys

import numpy as np
import torch

from attention import localisation_loss, object_masks, recording, word_tokens
from config import GUIDANCE_DIM, SEED, SKIP_K, path, seed_all, threads
from pack_data import load
from schedule import abar
from train_lcm import SHAPE_WEIGHT, denoise
from train_teacher import build_models
from trainutil import Budget, ema_update, log, lr_at, pseudo_huber, set_lr
from unet import guidance_embedding

LR, ATTN_W, HUBER_C, EMA = 1e-4, 0.05, 0.001, 0.99


def main(steps, batch=32):
    first = path("student.first.pt")
    if first.exists():
        log("attention: cached")
        return
    seed_all(SEED)
    threads()
    captions, tok, ids, _, latents, weights = load(SHAPE_WEIGHT)
    masks = object_masks(np.load(path("data", "images.npy")), latents.shape[-1])
    words = word_tokens(ids, tok.encode("")[0], tok.encode("")[-1])
    ckpt = torch.load(path("teacher.pt"))
    te, frozen = build_models(ckpt["vocab_size"])
    te.load_state_dict(ckpt["text_encoder"])
    frozen.load_state_dict(torch.load(path("student.pt"))["target"])
    for p in list(te.parameters()) + list(frozen.parameters()):
        p.requires_grad_(False)
    with torch.no_grad():
        states = torch.cat([te(ids[i : i + 256]) for i in range(0, len(ids), 256)])
    student = copy.deepcopy(frozen).requires_grad_(True)
    ema = copy.deepcopy(frozen)
    opt = torch.optim.AdamW(student.parameters(), lr=LR, weight_decay=0.0)
    budget, step, avg = Budget("attention", steps), 0, np.zeros(2)
    grid = torch.arange(SKIP_K - 1, 1000, SKIP_K)
    while budget.progress(step) < 1:
        set_lr(opt, lr_at(LR, budget.progress(step)))
        idx = torch.multinomial(weights, batch, replacement=True)
        x0, ctx = latents[idx], states[idx]
        t = grid[torch.randint(0, len(grid), (batch,))]
        cond = guidance_embedding(1.0 + 7.0 * torch.rand(batch), GUIDANCE_DIM)
        a_t = abar(t).view(-1, 1, 1, 1)
        xt = a_t.sqrt() * x0 + (1 - a_t).sqrt() * torch.randn_like(x0)
        with torch.no_grad():
            keep_to = denoise(frozen, xt, t, ctx, cond)
        with recording(student) as records:
            pred = denoise(student, xt, t, ctx, cond)
        keep = pseudo_huber(pred, keep_to, HUBER_C)
        point = localisation_loss(records, masks[idx], words[idx])
        loss = keep + ATTN_W * point
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        ema_update(ema, student, EMA)
        step += 1
        avg = 0.98 * avg + 0.02 * np.array([keep.item(), point.item()])
        if step % 25 == 0:
            k, p = avg / (1 - 0.98**step)
            log(f"attention step {step} keep {k:.5f} point {p:.4f} {budget.elapsed() / step:.2f}s/step")
    log(f"attention: {step} steps in {budget.elapsed():.0f}s")
    shutil.copy(path("student.pt"), first)
    torch.save({"unet": student.state_dict(), "target": ema.state_dict(), "steps": step,
                "seconds": budget.elapsed(), "batch": batch, "attention_weight": ATTN_W}, path("student.pt"))


if __name__ == "__main__":
    main(int(sys.argv[1]))
