"""Stage: train the autoencoder, then encode the dataset to UNet latents
(scaled to unit variance). Writes ae.pt and latents.npy.

Half of each batch is hue-rotated: green and purple are rare in emoji, and an
autoencoder trained on the data as it is reconstructed them as brown and grey
(6/18 colour shapes wrong before the UNet saw anything)."""
import math
import sys

import numpy as np
import torch

from autoencoder import Decoder, Encoder
from config import SEED, path, seed_all, threads
from trainutil import Budget, log, lr_at, params, psnr, set_lr


def images_tensor():
    x = torch.from_numpy(np.load(path("data", "images.npy"))).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1


def hue_rotate(x, angles):
    """Rotate RGB in [-1,1] about the grey axis by angles (radians, one per image)."""
    k = torch.full((3,), 3**-0.5)
    kx = torch.tensor([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    c, s = torch.cos(angles).view(-1, 1, 1), torch.sin(angles).view(-1, 1, 1)
    rot = c * torch.eye(3) + s * kx + (1 - c) * torch.outer(k, k)
    return torch.einsum("bij,bjhw->bihw", rot, x).clamp(-1, 1)


def main(steps, batch=32):
    out = path("ae.pt")
    if out.exists():
        log("ae: cached")
        return
    seed_all(SEED)
    threads()
    x = images_tensor()
    enc, dec = Encoder(), Decoder()
    log(f"ae: encoder {params(enc)} params, decoder {params(dec)} params, {len(x)} images")
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)
    budget, step = Budget("ae", steps), 0
    while budget.progress(step) < 1:
        set_lr(opt, lr_at(1e-3, budget.progress(step)))
        xb = x[torch.randint(0, len(x), (batch,))]
        turn = torch.rand(batch) < 0.5
        xb = torch.where(turn.view(-1, 1, 1, 1), hue_rotate(xb, torch.rand(batch) * 2 * math.pi), xb)
        z = enc(xb)
        zn = z + 0.1 * z.detach().std() * torch.randn_like(z)  # decoder robust to imprecise latents
        y = dec(zn)
        loss = (y - xb).abs().mean() + ((y - xb) ** 2).mean() + 1e-4 * (z**2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 100 == 0:
            log(f"ae step {step} loss {loss.item():.4f} {budget.elapsed() / step:.2f}s/step")
    with torch.no_grad():
        z = torch.cat([enc(x[i : i + 256]) for i in range(0, len(x), 256)])
        rec = torch.cat([dec(z[i : i + 256]).clamp(-1, 1) for i in range(0, len(z), 256)])
    scaling = float(1 / z.std())
    p = psnr(rec, x)
    log(f"ae: {step} steps, {budget.elapsed():.0f}s, PSNR {p:.2f} dB, latent std {z.std():.4f} -> scaling {scaling:.5f}")
    np.save(path("latents.npy"), (z * scaling).numpy())
    torch.save({"encoder": enc.state_dict(), "decoder": dec.state_dict(), "scaling": scaling,
                "steps": step, "seconds": budget.elapsed(), "psnr": p}, out)


if __name__ == "__main__":
    main(int(sys.argv[1]))
