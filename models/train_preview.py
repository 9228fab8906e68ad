"""Stage: distil the autoencoder's decoder into the tiny preview decoder.
Inputs are the dataset's UNet-space latents with noise of random strength
(a preview shows the blurry denoised estimate of an early step, not a clean
latent); the target is the full decoder's image of the same latent, so a
preview looks like what the final decode will show. Writes preview.pt."""
import sys

import numpy as np
import torch

from autoencoder import Decoder, PreviewDecoder
from config import SEED, path, seed_all, threads
from trainutil import Budget, log, lr_at, params, psnr, set_lr

LR = 2e-3


def main(steps, batch=64):
    out = path("preview.pt")
    if out.exists():
        log("preview: cached")
        return
    seed_all(SEED)
    threads()
    ae = torch.load(path("ae.pt"))
    decoder = Decoder().eval().requires_grad_(False)
    decoder.load_state_dict(ae["decoder"])
    latents = torch.from_numpy(np.load(path("latents.npy")))
    preview = PreviewDecoder()
    log(f"preview: {params(preview)} params")
    opt = torch.optim.Adam(preview.parameters(), lr=LR)
    budget, step = Budget("preview", steps), 0
    while budget.progress(step) < 1:
        set_lr(opt, lr_at(LR, budget.progress(step)))
        z = latents[torch.randint(0, len(latents), (batch,))]
        z = z + torch.rand(batch, 1, 1, 1) * 0.5 * torch.randn_like(z)
        with torch.no_grad():
            target = decoder(z / ae["scaling"]).clamp(-1, 1)
        y = preview(z)
        loss = (y - target).abs().mean() + ((y - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 200 == 0:
            log(f"preview step {step} loss {loss.item():.4f} {budget.elapsed() / step:.2f}s/step")
    with torch.no_grad():
        full = torch.cat([decoder(latents[i : i + 256] / ae["scaling"]).clamp(-1, 1) for i in range(0, len(latents), 256)])
        fast = torch.cat([preview(latents[i : i + 256]) for i in range(0, len(latents), 256)])
    p = psnr(fast, full)
    log(f"preview: {step} steps, {budget.elapsed():.0f}s, PSNR against the full decoder {p:.2f} dB")
    torch.save({"decoder": preview.state_dict(), "steps": step, "seconds": budget.elapsed(), "psnr_vs_decoder": p}, out)


if __name__ == "__main__":
    main(int(sys.argv[1]))
