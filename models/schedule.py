"""DDPM/DDIM/LCM maths shared by training, evaluation and the ONNX check.
The LCM sampler is exactly the one in docs/schedulers.md."""
import torch

from config import BETA_END, BETA_START, ORIGINAL_STEPS, TIMESTEP_SCALING, TRAIN_T

BETAS = torch.linspace(BETA_START**0.5, BETA_END**0.5, TRAIN_T, dtype=torch.float64) ** 2
ALPHAS_CUMPROD = torch.cumprod(1 - BETAS, 0).float()
SKIP = TRAIN_T // ORIGINAL_STEPS


def abar(t):
    """alpha_bar at integer timesteps; t < 0 means 'clean' (1.0)."""
    t = torch.as_tensor(t)
    return torch.where(t >= 0, ALPHAS_CUMPROD[t.clamp(min=0)], torch.ones(()))


def lcm_timesteps(steps):
    grid = list(range(SKIP - 1, TRAIN_T, SKIP))[::-1]  # 999, 979, ..., 19
    idx = [int(i * len(grid) // steps) for i in range(steps)]
    return [grid[i] for i in idx]


def boundary(t):
    s = TIMESTEP_SCALING * torch.as_tensor(t, dtype=torch.float32)
    return 0.25 / (s**2 + 0.25), s / torch.sqrt(s**2 + 0.25)


def x0_from_eps(x, eps, t):
    a = abar(t).view(-1, 1, 1, 1)
    return (x - (1 - a).sqrt() * eps) / a.sqrt()


@torch.no_grad()
def lcm_sample(eps_fn, noise, steps, gen=None):
    """eps_fn(x, t) -> epsilon. Returns the final `denoised` latent."""
    x = noise
    ts = lcm_timesteps(steps)
    for i, t in enumerate(ts):
        eps = eps_fn(x, t)
        c_skip, c_out = boundary(t)
        denoised = c_out * x0_from_eps(x, eps, t) + c_skip * x
        if i + 1 < len(ts):
            a = abar(ts[i + 1])
            z = torch.randn(x.shape, generator=gen)
            x = a.sqrt() * denoised + (1 - a).sqrt() * z
    return denoised


@torch.no_grad()
def ddim_sample(eps_fn, noise, steps):
    ts = torch.linspace(TRAIN_T - 1, 0, steps).round().long().tolist()
    x = noise
    for i, t in enumerate(ts):
        eps = eps_fn(x, t)
        x0 = x0_from_eps(x, eps, t)
        a_prev = abar(ts[i + 1]) if i + 1 < len(ts) else torch.ones(())
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    return x
