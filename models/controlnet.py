"""A ControlNet for the demo UNet (Zhang & Agrawala 2023): a trainable copy of
the UNet's down path and middle, fed the outline image through a small
strided conv tower whose last conv starts at zero, and giving residuals for
the UNet's two skips and its middle through zero-initialised 1x1 convs. At
the start of training it changes nothing; the frozen UNet keeps what it knew.

Inputs and outputs follow the public SD 1.5 ControlNet exports: sample,
timestep, encoder_hidden_states, controlnet_cond ([B,3,H,W] in [0,1], white
lines on black), conditioning_scale -> down_block_0, down_block_1,
mid_block_res_sample. The copy has no guidance embedding (as real ControlNets
beside an LCM UNet have none)."""
import copy

import torch
from torch import nn

from unet import UNet


def zero_conv(c):
    conv = nn.Conv2d(c, c, 1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class HintEncoder(nn.Module):
    """64x64 outline -> 8x8 features at the UNet's first width (three stride-2 convs)."""

    def __init__(self, out_ch, cin=3, width=(16, 32, 64)):
        super().__init__()
        layers, c = [], cin
        for w in width:
            layers += [nn.Conv2d(c, w, 3, 1, 1), nn.SiLU(), nn.Conv2d(w, w, 3, 2, 1), nn.SiLU()]
            c = w
        last = nn.Conv2d(c, out_ch, 3, 1, 1)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)

    def forward(self, x):
        return self.net(x)


class ControlNet(nn.Module):
    def __init__(self, unet: UNet):
        super().__init__()
        c1 = unet.conv_in.out_channels
        c2 = unet.d2.c1.out_channels
        self.temb_in = unet.temb_in
        for name in ("text_pool", "time", "conv_in", "d1", "a1", "down", "d2", "a2", "m1", "am", "m2"):
            setattr(self, name, copy.deepcopy(getattr(unet, name)))
        self.hint = HintEncoder(c1)
        self.zero1, self.zero2, self.zero_mid = zero_conv(c1), zero_conv(c2), zero_conv(c2)

    def forward(self, sample, timestep, encoder_hidden_states, controlnet_cond, conditioning_scale):
        ctx = encoder_hidden_states
        emb = UNet.embed(self, sample, timestep, ctx)
        h0 = self.conv_in(sample) + self.hint(controlnet_cond)
        h1, h2, m = UNet.encode(self, h0, emb, ctx)
        s = conditioning_scale
        return self.zero1(h1) * s, self.zero2(h2) * s, self.zero_mid(m) * s
