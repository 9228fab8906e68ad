"""Stage: latent consistency distillation of the teacher into a student with
a guidance embedding (timestep_cond). Skip grid k=20 (50 original steps),
DDIM solver with classifier-free guidance g ~ U[G_MIN, G_MAX], EMA target,
pseudo-Huber loss; the student keeps the epsilon output so the standard LCM
scheduler drives it.

Plus a data term (weight DATA_W): the student's denoised estimate at t_{n+k}
is also pulled towards the real latent. Our teacher is short-trained on a
busy 2-core machine; with one unique caption per image the right answer at
any noise level is that caption's image, so this keeps the student learning
from the data while it learns to be consistent in few steps."""
import copy
import sys

import torch

from config import GUIDANCE_DIM, SEED, SKIP_K, path, seed_all, threads
from pack_data import load
from schedule import abar, boundary, x0_from_eps
from train_teacher import build_models
from trainutil import Budget, ema_update, log, lr_at, pseudo_huber, set_lr
from unet import guidance_embedding

LR, G_MIN, G_MAX, TARGET_EMA, HUBER_C, DATA_W = 2e-4, 1.0, 8.0, 0.95, 0.001, 1.0
SHAPE_WEIGHT = 10.0  # colours did not steer enough at 4x (see MODEL_CARD.md)


def denoise(unet, x, t, ctx, cond):
    eps = unet(x, t, ctx, cond)
    c_skip, c_out = (v.view(-1, 1, 1, 1) for v in boundary(t))
    return c_skip * x + c_out * x0_from_eps(x, eps, t)


def main(steps, batch=32):
    out = path("student.pt")
    if out.exists():
        log("lcm: cached")
        return
    seed_all(SEED)
    threads()
    captions, tok, ids, empty, latents, weights = load(SHAPE_WEIGHT)
    ckpt = torch.load(path("teacher.pt"))
    te, teacher = build_models(ckpt["vocab_size"])
    te.load_state_dict(ckpt["text_encoder"])
    teacher.load_state_dict(ckpt["unet"])
    for p in list(te.parameters()) + list(teacher.parameters()):
        p.requires_grad_(False)
    with torch.no_grad():
        states = torch.cat([te(ids[i : i + 256]) for i in range(0, len(ids), 256)])
        uncond = te(empty[None])
    student = copy.deepcopy(teacher).requires_grad_(True)
    done, prior_s = 0, 0.0
    if path("student.partial.pt").exists():  # resume an interrupted run (optimizer state restarts)
        partial = torch.load(path("student.partial.pt"))
        student.load_state_dict(partial["target"])
        done, prior_s = partial["steps"], partial.get("seconds", 0.0)
        log(f"lcm: resuming from step {done}")
    target = copy.deepcopy(student).requires_grad_(False)
    opt = torch.optim.AdamW(student.parameters(), lr=LR, weight_decay=0.0)
    budget, step, avg = Budget("lcm", steps - done), 0, 0.0
    grid = torch.arange(SKIP_K - 1, 1000, SKIP_K)  # 19, 39, ..., 999
    while budget.progress(step) < 1:
        set_lr(opt, lr_at(LR, budget.progress(step)))
        idx = torch.multinomial(weights, batch, replacement=True)
        x0, ctx = latents[idx], states[idx]
        t = grid[torch.randint(0, len(grid), (batch,))]
        s = (t - SKIP_K).clamp(min=0)
        g = G_MIN + (G_MAX - G_MIN) * torch.rand(batch)
        cond = guidance_embedding(g, GUIDANCE_DIM)
        noise = torch.randn_like(x0)
        a_t, a_s = abar(t).view(-1, 1, 1, 1), abar(s).view(-1, 1, 1, 1)
        xt = a_t.sqrt() * x0 + (1 - a_t).sqrt() * noise
        with torch.no_grad():
            e = teacher(torch.cat([xt, xt]), torch.cat([t, t]), torch.cat([ctx, uncond.expand_as(ctx)]))
            ec, eu = e.chunk(2)
            eps = eu + g.view(-1, 1, 1, 1) * (ec - eu)
            xs = a_s.sqrt() * x0_from_eps(xt, eps, t) + (1 - a_s).sqrt() * eps
            tgt = denoise(target, xs, s, ctx, cond)
        pred = denoise(student, xt, t, ctx, cond)
        loss = pseudo_huber(pred, tgt, HUBER_C) + DATA_W * pseudo_huber(pred, x0, HUBER_C)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        ema_update(target, student, TARGET_EMA)
        step += 1
        avg = 0.98 * avg + 0.02 * loss.item()
        if step % 50 == 0:
            log(f"lcm step {step} loss {avg / (1 - 0.98**step):.5f} {budget.elapsed() / step:.2f}s/step")
        if step % 250 == 0:  # for watching quality while it trains
            torch.save({"target": target.state_dict(), "steps": done + step,
                        "seconds": prior_s + budget.elapsed()}, path("student.partial.pt"))
    log(f"lcm: {step} steps in {budget.elapsed():.0f}s")
    torch.save({"unet": student.state_dict(), "target": target.state_dict(), "steps": done + step,
                "seconds": prior_s + budget.elapsed(), "batch": batch}, out)


if __name__ == "__main__":
    main(int(sys.argv[1]))
