"""Stage: pre-train the text encoder contrastively against the image latents
(CLIP's symmetric InfoNCE), so the teacher starts from text states that
already tell captions apart, as real packs start from a trained CLIP.

Joint training from scratch left the text encoder nearly blind: the teacher
put the caption's own image in the top 5 for 2 of 100 captions. The teacher
keeps training this encoder; this stage is a warm start, not a freeze."""
import sys

import torch
from torch import nn

from config import HIDDEN, MAX_LEN, SEED, path, seed_all, threads
from pack_data import load
from text_encoder import TextEncoder
from trainutil import Budget, log, lr_at, params, set_lr

LR, EMBED = 1e-3, 128


class LatentTower(nn.Module):
    """[B,4,8,8] latents -> [B,EMBED]; thrown away after this stage."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(4, 64, 3, 1, 1), nn.SiLU(), nn.Conv2d(64, 128, 3, 2, 1), nn.SiLU(),
            nn.Conv2d(128, 128, 3, 1, 1), nn.SiLU(), nn.Flatten(), nn.Linear(128 * 16, EMBED))

    def forward(self, z):
        return self.net(z)


def pooled(te, proj, ids):
    """The same pooling the UNet uses for its global text signal: the mean over positions."""
    return proj(te(ids).mean(1))


def retrieval_top1(te, proj, tower, ids, latents):
    with torch.no_grad():
        t = nn.functional.normalize(torch.cat([pooled(te, proj, ids[i : i + 512]) for i in range(0, len(ids), 512)]), dim=-1)
        v = nn.functional.normalize(tower(latents), dim=-1)
        return (torch.argmax(t @ v.T, dim=1) == torch.arange(len(ids))).float().mean().item()


def main(steps, batch=256):
    out = path("text.pt")
    if out.exists():
        log("text: cached")
        return
    seed_all(SEED)
    threads()
    captions, tok, ids, _, latents, weights = load()
    te, proj, tower = TextEncoder(len(tok.vocab), MAX_LEN, HIDDEN), nn.Linear(HIDDEN, EMBED), LatentTower()
    batch = min(batch, len(ids))
    log(f"text: encoder {params(te)} params, latent tower {params(tower)} params")
    log_scale = nn.Parameter(torch.tensor(2.659))  # ln(1/0.07), CLIP's initial temperature
    trainable = list(te.parameters()) + list(proj.parameters()) + list(tower.parameters()) + [log_scale]
    opt = torch.optim.AdamW(trainable, lr=LR, weight_decay=0.01)
    budget, step, avg = Budget("text", steps), 0, 0.0
    while budget.progress(step) < 1:
        set_lr(opt, lr_at(LR, budget.progress(step)))
        idx = torch.multinomial(weights, batch, replacement=False)
        z = latents[idx] + 0.1 * torch.randn_like(latents[idx])
        t = nn.functional.normalize(pooled(te, proj, ids[idx]), dim=-1)
        v = nn.functional.normalize(tower(z), dim=-1)
        logits = log_scale.clamp(max=4.6052).exp() * t @ v.T
        labels = torch.arange(batch)
        loss = (nn.functional.cross_entropy(logits, labels) + nn.functional.cross_entropy(logits.T, labels)) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        avg = 0.98 * avg + 0.02 * loss.item()
        if step % 100 == 0:
            log(f"text step {step} loss {avg / (1 - 0.98**step):.4f} {budget.elapsed() / step:.2f}s/step")
    top1 = retrieval_top1(te, proj, tower, ids, latents)
    log(f"text: {step} steps in {budget.elapsed():.0f}s, caption -> own latent top-1 {top1:.3f} of {len(ids)}")
    torch.save({"text_encoder": te.state_dict(), "steps": step, "seconds": budget.elapsed(), "batch": batch,
                "retrieval_top1": top1}, out)


if __name__ == "__main__":
    main(int(sys.argv[1]))
