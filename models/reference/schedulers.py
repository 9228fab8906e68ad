"""Independent numpy reference for Gesso's two samplers, written from the papers
(and, where the papers leave a choice open, from what diffusers does for the
public checkpoints), not from the TypeScript in src/engine/schedulers/.

Everything is float64. Sources:

- Noise schedule (Ho et al. 2020, DDPM; "scaled_linear" is Stable Diffusion's
  choice, Rombach et al. 2022): betas linear in sqrt(beta) from beta_start to
  beta_end over T training steps, alpha_bar_t = prod_{s<=t} (1 - beta_s).
- LCM (Luo et al. 2023, "Latent Consistency Models", Algorithm 3, multi-step
  latent consistency sampling): f(x, t) = c_skip(t) x + c_out(t) x0_hat with
  x0_hat = (x - sqrt(1 - abar_t) eps) / sqrt(abar_t) (epsilon prediction),
  boundary conditions of Song et al. 2023 with sigma_data = 0.5 evaluated at
  s = timestep_scaling * t (diffusers' get_scalings_for_boundary_condition_discrete:
  c_skip = sigma_data^2 / (s^2 + sigma_data^2), c_out = s / sqrt(s^2 + sigma_data^2)).
  Between steps the sample is re-noised to the next timestep:
  x = sqrt(abar_next) f + sqrt(1 - abar_next) z. Timesteps: the skipping-step
  grid k = T // original_steps, grid (1..floor(original_steps * strength)) * k - 1,
  reversed, then n entries at floor(linspace(0, len, n, endpoint=False))
  (diffusers' LCMScheduler.set_timesteps).
- Euler ancestral (Karras et al. 2022, "Elucidating the Design Space", Euler
  step on the probability-flow ODE in sigma; the ancestral split of
  k-diffusion's get_ancestral_step with eta = 1): sigma_t = sqrt((1-abar_t)/abar_t),
  sigma_up = sqrt(sigma_to^2 (sigma_from^2 - sigma_to^2) / sigma_from^2),
  sigma_down = sqrt(sigma_to^2 - sigma_up^2), x0 = x - sigma eps,
  x' = x + (x - x0)/sigma * (sigma_down - sigma) + sigma_up z.
  "Trailing" spacing (Lin et al. 2023, "Common Diffusion Noise Schedules and
  Sample Steps are Flawed", Table 2) as SD-Turbo's scheduler config asks:
  round(arange(T, 0, -T/n)) - 1 with numpy's round-half-to-even (diffusers
  EulerAncestralDiscreteScheduler). Initial noise sigma: sigma_max for
  trailing spacing; model input x / sqrt(sigma^2 + 1).
- img2img strength (diffusers' img2img pipelines, get_timesteps): Euler runs the
  last min(n, int(n * strength)) of the n timesteps and starts from
  x0 + sigma_first z; LCM takes strength into the grid itself and starts from
  sqrt(abar) x0 + sqrt(1 - abar) z at the first timestep.

Known differences from diffusers, by design of this reference: diffusers
builds betas and alpha_bar in float32 (torch.linspace, torch.cumprod) and
stores sigmas as float32; this reference and the TypeScript use float64.
diffusers' Euler ancestral also draws (and multiplies by sigma_up = 0) a noise
tensor on the last step; here, as in the TypeScript, none is drawn.
"""
import numpy as np


def alphas_cumprod(cfg):
    n = cfg["trainTimesteps"]
    if cfg["betaSchedule"] == "scaled_linear":
        betas = np.linspace(cfg["betaStart"] ** 0.5, cfg["betaEnd"] ** 0.5, n, dtype=np.float64) ** 2
    elif cfg["betaSchedule"] == "linear":
        betas = np.linspace(cfg["betaStart"], cfg["betaEnd"], n, dtype=np.float64)
    else:
        raise ValueError(cfg["betaSchedule"])
    return np.cumprod(1.0 - betas)


# ---------------------------------------------------------------- LCM

def lcm_timesteps(cfg, steps, strength=1.0):
    T = cfg["trainTimesteps"]
    original = cfg.get("originalSteps", 50)
    k = T // original
    grid = np.arange(1, int(original * strength) + 1) * k - 1
    if len(grid) // steps < 1:
        raise ValueError("too many steps for this strength")
    grid = grid[::-1]
    idx = np.floor(np.linspace(0, len(grid), num=steps, endpoint=False)).astype(np.int64)
    return [int(t) for t in grid[idx]]


def lcm_boundary(t, timestep_scaling, sigma_data=0.5):
    s = timestep_scaling * t
    return sigma_data**2 / (s**2 + sigma_data**2), s / np.sqrt(s**2 + sigma_data**2)


class Lcm:
    def __init__(self, cfg, steps, strength=1.0):
        self.abar = alphas_cumprod(cfg)
        self.timesteps = lcm_timesteps(cfg, steps, strength)
        self.scaling = cfg.get("timestepScaling", 10.0)
        self.init_noise_sigma = 1.0

    def model_input_scale(self, i):
        return 1.0

    def step(self, i, x, eps, draw):
        t = self.timesteps[i]
        a = self.abar[t]
        c_skip, c_out = lcm_boundary(t, self.scaling)
        x0 = (x - np.sqrt(1 - a) * eps) / np.sqrt(a)
        denoised = c_out * x0 + c_skip * x
        if i == len(self.timesteps) - 1:
            return denoised, denoised
        a_next = self.abar[self.timesteps[i + 1]]
        z = draw()
        return np.sqrt(a_next) * denoised + np.sqrt(1 - a_next) * z, denoised

    def add_noise(self, x0, z):
        a = self.abar[self.timesteps[0]]
        return np.sqrt(a) * x0 + np.sqrt(1 - a) * z


# ---------------------------------------------------------------- Euler ancestral, trailing

def trailing_timesteps(T, steps):
    ratio = T / steps
    return [int(t) for t in np.round(np.arange(T, 0, -ratio)).astype(np.int64) - 1]


class EulerAncestral:
    def __init__(self, cfg, steps, strength=1.0):
        abar = alphas_cumprod(cfg)
        full = trailing_timesteps(cfg["trainTimesteps"], steps)
        init = min(int(steps * strength), steps)
        start = max(steps - init, 0)
        self.timesteps = full[start:]
        if not self.timesteps:
            raise ValueError("strength too low")
        sig = np.sqrt((1 - abar) / abar)
        self.sigmas = [float(sig[t]) for t in self.timesteps] + [0.0]
        self.init_noise_sigma = max(self.sigmas)  # trailing spacing: sigma_max, not sqrt(sigma_max^2 + 1)

    def model_input_scale(self, i):
        return 1.0 / np.sqrt(self.sigmas[i] ** 2 + 1)

    def step(self, i, x, eps, draw):
        s_from, s_to = self.sigmas[i], self.sigmas[i + 1]
        x0 = x - s_from * eps
        if s_to == 0:
            return x0, x0
        s_up = np.sqrt(s_to**2 * (s_from**2 - s_to**2) / s_from**2)
        s_down = np.sqrt(s_to**2 - s_up**2)
        d = (x - x0) / s_from
        return x + d * (s_down - s_from) + s_up * draw(), x0

    def add_noise(self, x0, z):
        return x0 + self.sigmas[0] * z


def make(cfg, steps, strength=1.0):
    if cfg["kind"] == "lcm":
        return Lcm(cfg, steps, strength)
    if cfg["kind"] == "euler-ancestral-trailing":
        return EulerAncestral(cfg, steps, strength)
    raise ValueError(cfg["kind"])


def run(scheduler, latents0, model, noises, init=None):
    """A whole run: latents0 is N(0,1) (or, with init, the img2img noise); model(x_in, t) -> eps;
    noises: the ancestral draws in order. Returns per-step records."""
    if init is not None:
        x = scheduler.add_noise(init, latents0)
    else:
        x = latents0 * scheduler.init_noise_sigma
    queue = list(noises)
    used = []

    def draw():
        z = queue.pop(0)
        used.append(z)
        return z

    steps = []
    start = x
    for i, t in enumerate(scheduler.timesteps):
        x_in = x * scheduler.model_input_scale(i)
        eps = model(x_in, t)
        nxt, denoised = scheduler.step(i, x, eps, draw)
        steps.append({"t": t, "modelInput": x_in, "eps": eps, "denoised": denoised, "next": nxt})
        x = nxt
    return start, steps, used
