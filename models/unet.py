"""Denoising UNet on 8x8x4 latents with self- and cross-attention.
Inputs follow the LCM export: sample, timestep, encoder_hidden_states and an
optional timestep_cond (guidance embedding, zero-initialised projection).
The mean of the text states is also added to the time embedding: a global
signal for what is global in an emoji (its colour), beside cross-attention."""
import math

import torch
from torch import nn

from text_encoder import Attention


def sinusoid(t, dim, max_period=10000.0):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def guidance_embedding(g, dim, scale=1000.0):
    """LCM's w embedding: w = (g-1)*scale; f_i = exp(-i ln(1e4)/(dim/2-1)); [sin(wf), cos(wf)]."""
    half = dim // 2
    w = (g.float() - 1.0) * scale
    f = torch.exp(-torch.arange(half, dtype=torch.float32) * math.log(10000.0) / (half - 1))
    args = w[:, None] * f[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.n1, self.n2 = nn.GroupNorm(8, cin), nn.GroupNorm(8, cout)
        self.c1, self.c2 = nn.Conv2d(cin, cout, 3, 1, 1), nn.Conv2d(cout, cout, 3, 1, 1)
        self.t = nn.Linear(temb, cout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.c1(nn.functional.silu(self.n1(x))) + self.t(emb)[:, :, None, None]
        h = self.c2(nn.functional.silu(self.n2(h)))
        return self.skip(x) + h


class AttnBlock(nn.Module):
    def __init__(self, c, ctx_dim, heads=4):
        super().__init__()
        self.norm = nn.GroupNorm(8, c)
        self.proj_in, self.proj_out = nn.Conv2d(c, c, 1), nn.Conv2d(c, c, 1)
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(c), nn.LayerNorm(c), nn.LayerNorm(c)
        self.self_attn = Attention(c, heads=heads)
        self.cross_attn = Attention(c, ctx_dim, heads=heads)
        self.ff = nn.Sequential(nn.Linear(c, 4 * c), nn.GELU(), nn.Linear(4 * c, c))

    def forward(self, x, ctx):
        b, c, hgt, wid = x.shape
        h = self.proj_in(self.norm(x)).flatten(2).transpose(1, 2)
        h = h + self.self_attn(self.ln1(h))
        h = h + self.cross_attn(self.ln2(h), ctx)
        h = h + self.ff(self.ln3(h))
        return x + self.proj_out(h.transpose(1, 2).reshape(b, c, hgt, wid))


class UNet(nn.Module):
    def __init__(self, ctx_dim, cond_dim, ch=(64, 128), temb_in=64, temb=256, latent_ch=4):
        super().__init__()
        c1, c2 = ch
        self.temb_in = temb_in
        self.cond_proj = nn.Linear(cond_dim, temb_in, bias=False)
        nn.init.zeros_(self.cond_proj.weight)
        self.text_pool = nn.Linear(ctx_dim, temb_in)
        self.time = nn.Sequential(nn.Linear(temb_in, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.conv_in = nn.Conv2d(latent_ch, c1, 3, 1, 1)
        self.d1, self.a1 = ResBlock(c1, c1, temb), AttnBlock(c1, ctx_dim)
        self.down = nn.Conv2d(c1, c1, 3, 2, 1)
        self.d2, self.a2 = ResBlock(c1, c2, temb), AttnBlock(c2, ctx_dim)
        self.m1, self.am, self.m2 = ResBlock(c2, c2, temb), AttnBlock(c2, ctx_dim), ResBlock(c2, c2, temb)
        self.u2, self.au2 = ResBlock(2 * c2, c2, temb), AttnBlock(c2, ctx_dim)
        self.up = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(c2, c2, 3, 1, 1))
        self.u1, self.au1 = ResBlock(c2 + c1, c1, temb), AttnBlock(c1, ctx_dim)
        self.out = nn.Sequential(nn.GroupNorm(8, c1), nn.SiLU(), nn.Conv2d(c1, latent_ch, 3, 1, 1))

    def embed(self, sample, timestep, ctx, timestep_cond=None):
        t = timestep.reshape(-1).expand(sample.shape[0])
        e = sinusoid(t, self.temb_in)
        if timestep_cond is not None:
            e = e + self.cond_proj(timestep_cond)
        return self.time(e + self.text_pool(ctx.mean(1)))

    def encode(self, h0, emb, ctx):
        """The down path and middle: the skips (8x8, 4x4) and the middle's output."""
        h1 = self.a1(self.d1(h0, emb), ctx)
        h2 = self.a2(self.d2(self.down(h1), emb), ctx)
        m = self.m2(self.am(self.m1(h2, emb), ctx), emb)
        return h1, h2, m

    def forward(self, sample, timestep, encoder_hidden_states, timestep_cond=None, down_residuals=None,
                mid_residual=None):
        """down_residuals/mid_residual: a ControlNet's outputs, added to the skips and the middle
        (as diffusers' UNet2DConditionModel adds down_block_additional_residuals)."""
        ctx = encoder_hidden_states
        emb = self.embed(sample, timestep, ctx, timestep_cond)
        h1, h2, m = self.encode(self.conv_in(sample), emb, ctx)
        if down_residuals is not None:
            h1, h2 = h1 + down_residuals[0], h2 + down_residuals[1]
        if mid_residual is not None:
            m = m + mid_residual
        u = self.au2(self.u2(torch.cat([m, h2], 1), emb), ctx)
        u = self.au1(self.u1(torch.cat([self.up(u), h1], 1), emb), ctx)
        return self.out(u)
