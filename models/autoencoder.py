"""TAESD-like autoencoder: 64x64x3 in [-1,1] <-> 8x8x4 (f=8). Thin at full
resolution (one 16-channel conv), width at 16x16 and 8x8."""
import torch
from torch import nn


def conv(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride, 1)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Sequential(conv(c, c), nn.ReLU(), conv(c, c), nn.ReLU(), conv(c, c))

    def forward(self, x):
        return torch.relu(self.conv(x) + x)


class Encoder(nn.Module):
    def __init__(self, ch=4):
        super().__init__()
        self.net = nn.Sequential(
            conv(3, 32, 2), nn.ReLU(), Block(32),           # 32x32
            conv(32, 64, 2), nn.ReLU(), Block(64),          # 16x16
            conv(64, 64, 2), nn.ReLU(), Block(64), Block(64),  # 8x8
            conv(64, ch),
        )

    def forward(self, sample):
        return self.net(sample)


class Decoder(nn.Module):
    def __init__(self, ch=4):
        super().__init__()
        self.net = nn.Sequential(
            conv(ch, 64), nn.ReLU(), Block(64), Block(64),                  # 8x8
            nn.Upsample(scale_factor=2), conv(64, 64), nn.ReLU(), Block(64),  # 16x16
            nn.Upsample(scale_factor=2), conv(64, 32), nn.ReLU(), Block(32),  # 32x32
            nn.Upsample(scale_factor=2), conv(32, 16), nn.ReLU(), conv(16, 3),  # 64x64
        )

    def forward(self, latent):
        return self.net(latent)


class DecoderExport(nn.Module):
    """latent_sample (raw VAE space: UNet latents / scalingFactor) ->
    sample [1,3,64,64] clamped to [-1,1]."""

    def __init__(self, dec):
        super().__init__()
        self.dec = dec

    def forward(self, latent_sample):
        return self.dec(latent_sample).clamp(-1, 1)


class PreviewDecoder(nn.Module):
    """The per-step preview, TAESD-style in its contract (UNet-space latents,
    i.e. already multiplied by the scaling factor, -> [-1,1]) but far cheaper
    than Decoder: every conv runs at 8x8 and a pixel shuffle lays out each
    latent's 8x8 block of pixels. About 3.3 M multiply-adds against Decoder's ~110 M."""

    def __init__(self, ch=4, width=64, block=8):
        super().__init__()
        self.net = nn.Sequential(conv(ch, width), nn.ReLU(), conv(width, width), nn.ReLU(),
                                 nn.Conv2d(width, 3 * block * block, 1), nn.PixelShuffle(block))

    def forward(self, latent_sample):
        return self.net(latent_sample).clamp(-1, 1)
