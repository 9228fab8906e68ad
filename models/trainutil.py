"""Small helpers shared by the training stages: step budget, LR, EMA, logging."""
import math
import os
import sys
import time

import torch


class Budget:
    """Progress in [0,1] = max(step/steps, elapsed/GESSO_<NAME>_MINUTES) so a
    busy machine shortens a stage instead of overrunning the build."""

    def __init__(self, name, steps):
        self.steps = steps
        minutes = os.environ.get(f"GESSO_{name.upper()}_MINUTES")
        self.seconds = float(minutes) * 60 if minutes else None
        self.start = time.time()

    def progress(self, step):
        p = step / self.steps
        if self.seconds:
            p = max(p, (time.time() - self.start) / self.seconds)
        return min(p, 1.0)

    def elapsed(self):
        return time.time() - self.start


def lr_at(base, progress, warmup=0.03):
    if progress < warmup:
        return base * progress / warmup
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (progress - warmup) / (1 - warmup))))


def set_lr(opt, lr):
    for g in opt.param_groups:
        g["lr"] = lr


@torch.no_grad()
def ema_update(ema, model, decay):
    for e, p in zip(ema.parameters(), model.parameters()):
        e.mul_(decay).add_(p.detach(), alpha=1 - decay)


def pseudo_huber(a, b, c):
    """Mean pseudo-Huber distance sqrt((a-b)^2 + c^2) - c (the LCM paper's loss)."""
    return (((a - b) ** 2 + c**2).sqrt() - c).mean()


def psnr(a, b):
    """Mean PSNR in dB of images in [-1,1] (peak-to-peak 2, so peak power 4), one value per image, averaged."""
    mse = ((a - b) ** 2).flatten(1).mean(1)
    return (10 * torch.log10(4 / mse)).mean().item()


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def params(module):
    return sum(p.numel() for p in module.parameters())
