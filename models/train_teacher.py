"""Stage: train text encoder + teacher UNet as a DDPM (epsilon prediction,
scaled_linear betas, 1000 steps) with 10% caption dropout for CFG. The text
encoder starts from the contrastive stage (text.pt) and keeps training."""
import copy
import sys

import torch

from config import GUIDANCE_DIM, HIDDEN, MAX_LEN, SEED, TRAIN_T, path, seed_all, threads
from pack_data import load
from schedule import abar
from text_encoder import TextEncoder
from trainutil import Budget, ema_update, log, lr_at, params, set_lr
from unet import UNet

LR = 4e-4


def build_models(vocab_size):
    return TextEncoder(vocab_size, MAX_LEN, HIDDEN), UNet(HIDDEN, GUIDANCE_DIM)


def main(steps, batch=64):
    out = path("teacher.pt")
    if out.exists():
        log("teacher: cached")
        return
    seed_all(SEED)
    threads()
    captions, tok, ids, empty, latents, weights = load()
    te, unet = build_models(len(tok.vocab))
    te.load_state_dict(torch.load(path("text.pt"))["text_encoder"])
    log(f"teacher: text encoder {params(te)} params, unet {params(unet)} params")
    ema_te, ema_unet = copy.deepcopy(te), copy.deepcopy(unet)
    opt = torch.optim.AdamW(list(te.parameters()) + list(unet.parameters()), lr=LR, weight_decay=0.0)
    budget, step, avg = Budget("teacher", steps), 0, 0.0
    while budget.progress(step) < 1:
        set_lr(opt, lr_at(LR, budget.progress(step)))
        idx = torch.multinomial(weights, batch, replacement=True)
        x0, cond = latents[idx], ids[idx].clone()
        cond[torch.rand(batch) < 0.1] = empty
        t = torch.randint(0, TRAIN_T, (batch,))
        noise = torch.randn_like(x0)
        a = abar(t).view(-1, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        loss = ((unet(xt, t, te(cond)) - noise) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(te.parameters()) + list(unet.parameters()), 1.0)
        opt.step()
        step += 1
        decay = min(0.995, (1 + step) / (10 + step))
        ema_update(ema_te, te, decay)
        ema_update(ema_unet, unet, decay)
        avg = 0.98 * avg + 0.02 * loss.item()
        if step % 50 == 0:
            log(f"teacher step {step} loss {avg / (1 - 0.98**step):.4f} {budget.elapsed() / step:.2f}s/step")
    log(f"teacher: {step} steps in {budget.elapsed():.0f}s")
    torch.save({"text_encoder": ema_te.state_dict(), "unet": ema_unet.state_dict(), "vocab_size": len(tok.vocab),
                "steps": step, "seconds": budget.elapsed(), "batch": batch}, out)


if __name__ == "__main__":
    main(int(sys.argv[1]))
