"""The SD VAE (diffusers' AutoencoderKL encoder and decoder) and TAESD (as
diffusers' AutoencoderTiny). See arch.py."""
import torch
import torch.nn.functional as F
from torch import nn

from arch_unet import Downsample2D, ResnetBlock2D, Upsample2D


class VAEAttention(nn.Module):
    """One head over all pixels, GroupNorm first, residual (diffusers Attention in the VAE mid block)."""

    def __init__(self, channels, groups):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.to_q = nn.Linear(channels, channels)
        self.to_k = nn.Linear(channels, channels)
        self.to_v = nn.Linear(channels, channels)
        self.to_out = nn.ModuleList([nn.Linear(channels, channels)])
        self.scale = channels ** -0.5

    def forward(self, x):
        b, c, h, w = x.shape
        residual = x
        x = self.group_norm(x).reshape(b, c, h * w).transpose(1, 2)
        q, k, v = self.to_q(x), self.to_k(x), self.to_v(x)
        a = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * self.scale, dim=-1)
        o = self.to_out[0](torch.matmul(a, v))
        return o.transpose(1, 2).reshape(b, c, h, w) + residual


class VAEMid(nn.Module):
    def __init__(self, channels, groups):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(channels, channels, None, groups, 1e-6) for _ in range(2)])
        self.attentions = nn.ModuleList([VAEAttention(channels, groups)])

    def forward(self, x):
        return self.resnets[1](self.attentions[0](self.resnets[0](x)))


class VAEDownBlock(nn.Module):
    def __init__(self, cin, cout, layers, groups, add_down):
        super().__init__()
        self.resnets = nn.ModuleList(ResnetBlock2D(cin if i == 0 else cout, cout, None, groups, 1e-6) for i in range(layers))
        self.downsamplers = nn.ModuleList([Downsample2D(cout, padding=0)]) if add_down else None

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        return self.downsamplers[0](x) if self.downsamplers is not None else x


class VAEUpBlock(nn.Module):
    def __init__(self, cin, cout, layers, groups, add_up):
        super().__init__()
        self.resnets = nn.ModuleList(ResnetBlock2D(cin if i == 0 else cout, cout, None, groups, 1e-6) for i in range(layers))
        self.upsamplers = nn.ModuleList([Upsample2D(cout)]) if add_up else None

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        return self.upsamplers[0](x) if self.upsamplers is not None else x


class VAEEncoder(nn.Module):
    """sample [B,3,H,W] in [-1,1] -> latent_sample [B,4,H/8,W/8]: the mean of the posterior (no sampling)."""

    def __init__(self, channels, layers, groups, latent=4):
        super().__init__()
        self.conv_in = nn.Conv2d(3, channels[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        cout = channels[0]
        for i, c in enumerate(channels):
            cin, cout = cout, c
            self.down_blocks.append(VAEDownBlock(cin, cout, layers, groups, i < len(channels) - 1))
        self.mid_block = VAEMid(channels[-1], groups)
        self.conv_norm_out = nn.GroupNorm(groups, channels[-1], eps=1e-6)
        self.conv_out = nn.Conv2d(channels[-1], 2 * latent, 3, padding=1)
        self.quant_conv = nn.Conv2d(2 * latent, 2 * latent, 1)
        self.latent = latent

    def forward(self, sample):
        x = self.conv_in(sample)
        for block in self.down_blocks:
            x = block(x)
        x = self.mid_block(x)
        moments = self.quant_conv(self.conv_out(F.silu(self.conv_norm_out(x))))
        return moments[:, : self.latent]


class VAEDecoder(nn.Module):
    """latent_sample [B,4,h,w] (VAE space: UNet latents / 0.18215) -> sample [B,3,8h,8w], nominally [-1,1]."""

    def __init__(self, channels, layers, groups, latent=4):
        super().__init__()
        rev = list(reversed(channels))
        self.post_quant_conv = nn.Conv2d(latent, latent, 1)
        self.conv_in = nn.Conv2d(latent, rev[0], 3, padding=1)
        self.mid_block = VAEMid(rev[0], groups)
        self.up_blocks = nn.ModuleList()
        cout = rev[0]
        for i, c in enumerate(rev):
            cin, cout = cout, c
            self.up_blocks.append(VAEUpBlock(cin, cout, layers + 1, groups, i < len(rev) - 1))
        self.conv_norm_out = nn.GroupNorm(groups, channels[0], eps=1e-6)
        self.conv_out = nn.Conv2d(channels[0], 3, 3, padding=1)

    def forward(self, latent_sample):
        x = self.mid_block(self.conv_in(self.post_quant_conv(latent_sample)))
        for block in self.up_blocks:
            x = block(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


# ----------------------------------------------------------------------------- TAESD


def _conv(cin, cout, **kw):
    return nn.Conv2d(cin, cout, 3, padding=1, **kw)


class TAEBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Sequential(_conv(cin, cout), nn.ReLU(), _conv(cout, cout), nn.ReLU(), _conv(cout, cout))
        self.skip = nn.Conv2d(cin, cout, 1, bias=False) if cin != cout else nn.Identity()
        self.fuse = nn.ReLU()

    def forward(self, x):
        return self.fuse(self.conv(x) + self.skip(x))


class TAESDEncoder(nn.Module):
    """sample [B,3,H,W] in [-1,1] -> latent_sample [B,4,H/8,W/8] (UNet space, scale 1)."""

    def __init__(self, c=64, latent=4):
        super().__init__()
        B = TAEBlock
        self.layers = nn.Sequential(
            _conv(3, c), B(c, c),
            _conv(c, c, stride=2, bias=False), B(c, c), B(c, c), B(c, c),
            _conv(c, c, stride=2, bias=False), B(c, c), B(c, c), B(c, c),
            _conv(c, c, stride=2, bias=False), B(c, c), B(c, c), B(c, c),
            _conv(c, latent))

    def forward(self, sample):
        return self.layers(sample.add(1).div(2))


class TAESDDecoder(nn.Module):
    """latent_sample [B,4,h,w] (UNet space) -> sample [B,3,8h,8w] in [-1,1] (AutoencoderTiny's wrapping)."""

    def __init__(self, c=64, latent=4):
        super().__init__()
        B = TAEBlock
        up = lambda: nn.Upsample(scale_factor=2.0)  # noqa: E731
        self.layers = nn.Sequential(
            _conv(latent, c), nn.ReLU(),
            B(c, c), B(c, c), B(c, c), up(), _conv(c, c, bias=False),
            B(c, c), B(c, c), B(c, c), up(), _conv(c, c, bias=False),
            B(c, c), B(c, c), B(c, c), up(), _conv(c, c, bias=False),
            B(c, c), _conv(c, 3))

    def forward(self, latent_sample):
        x = torch.tanh(latent_sample / 3) * 3
        return self.layers(x).mul(2).sub(1)
