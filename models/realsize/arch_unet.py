"""UNet2DConditionModel as diffusers lays it out (SD 2.1 / SD-Turbo, SD 1.5 with
LCM's timestep_cond), with its attention written out. See arch.py."""
import math

import torch
import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    """diffusers Attention with the default (unfused) processor."""

    def __init__(self, query_dim, heads, head_dim, context_dim=None, qkv_bias=False):
        super().__init__()
        inner = heads * head_dim
        context_dim = context_dim or query_dim
        self.heads, self.head_dim, self.scale = heads, head_dim, head_dim ** -0.5
        self.to_q = nn.Linear(query_dim, inner, bias=qkv_bias)
        self.to_k = nn.Linear(context_dim, inner, bias=qkv_bias)
        self.to_v = nn.Linear(context_dim, inner, bias=qkv_bias)
        self.to_out = nn.ModuleList([nn.Linear(inner, query_dim)])

    def forward(self, x, context=None):
        context = x if context is None else context
        b = x.shape[0]
        q = self.to_q(x).reshape(b, -1, self.heads, self.head_dim).transpose(1, 2)
        k = self.to_k(context).reshape(b, -1, self.heads, self.head_dim).transpose(1, 2)
        v = self.to_v(context).reshape(b, -1, self.heads, self.head_dim).transpose(1, 2)
        w = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * self.scale, dim=-1)
        o = torch.matmul(w, v).transpose(1, 2).reshape(b, -1, self.heads * self.head_dim)
        return self.to_out[0](o)


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        h, gate = self.proj(x).chunk(2, dim=-1)
        return h * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4):
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, dim * mult), nn.Identity(), nn.Linear(dim * mult, dim)])

    def forward(self, x):
        for m in self.net:
            x = m(x)
        return x


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, head_dim, context_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, heads, head_dim)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, heads, head_dim, context_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x


class Transformer2DModel(nn.Module):
    def __init__(self, channels, heads, head_dim, context_dim, groups, linear_projection):
        super().__init__()
        inner = heads * head_dim
        self.linear = linear_projection
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, inner) if linear_projection else nn.Conv2d(channels, inner, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(inner, heads, head_dim, context_dim)])
        self.proj_out = nn.Linear(inner, channels) if linear_projection else nn.Conv2d(inner, channels, 1)

    def forward(self, x, context):
        b, c, h, w = x.shape
        residual = x
        x = self.norm(x)
        if not self.linear:
            x = self.proj_in(x)
        x = x.permute(0, 2, 3, 1).reshape(b, h * w, -1)
        if self.linear:
            x = self.proj_in(x)
        for block in self.transformer_blocks:
            x = block(x, context)
        if self.linear:
            x = self.proj_out(x)
        x = x.reshape(b, h, w, -1).permute(0, 3, 1, 2)
        if not self.linear:
            x = self.proj_out(x)
        return x + residual


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb, groups, eps):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout) if temb else None
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.time_emb_proj is not None:
            h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (x if self.conv_shortcut is None else self.conv_shortcut(x)) + h


class Downsample2D(nn.Module):
    def __init__(self, channels, padding=1):
        super().__init__()
        self.padding = padding
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=padding)

    def forward(self, x):
        if self.padding == 0:  # the VAE encoder pads right and bottom only
            x = F.pad(x, (0, 1, 0, 1))
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    def __init__(self, cin, cout, temb, layers, groups, attn, add_down):
        super().__init__()
        self.resnets = nn.ModuleList(ResnetBlock2D(cin if i == 0 else cout, cout, temb, groups, 1e-5) for i in range(layers))
        self.attentions = nn.ModuleList(attn(cout) for _ in range(layers)) if attn else None
        self.downsamplers = nn.ModuleList([Downsample2D(cout)]) if add_down else None

    def forward(self, x, temb, context):
        states = []
        for i, resnet in enumerate(self.resnets):
            x = resnet(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x, context)
            states.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            states.append(x)
        return x, states


class UpBlock(nn.Module):
    def __init__(self, cin, cout, prev, temb, layers, groups, attn, add_up):
        super().__init__()
        self.resnets = nn.ModuleList(
            ResnetBlock2D((prev if i == 0 else cout) + (cin if i == layers - 1 else cout), cout, temb, groups, 1e-5)
            for i in range(layers))
        self.attentions = nn.ModuleList(attn(cout) for _ in range(layers)) if attn else None
        self.upsamplers = nn.ModuleList([Upsample2D(cout)]) if add_up else None

    def forward(self, x, skips, temb, context):
        for i, resnet in enumerate(self.resnets):
            x = torch.cat([x, skips.pop()], dim=1)
            x = resnet(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x, context)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class MidBlock(nn.Module):
    def __init__(self, channels, temb, groups, attn):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(channels, channels, temb, groups, 1e-5) for _ in range(2)])
        self.attentions = nn.ModuleList([attn(channels)])

    def forward(self, x, temb, context):
        x = self.resnets[0](x, temb)
        x = self.attentions[0](x, context)
        return self.resnets[1](x, temb)


class TimestepEmbedding(nn.Module):
    def __init__(self, cin, dim, cond_dim=None):
        super().__init__()
        self.cond_proj = nn.Linear(cond_dim, cin, bias=False) if cond_dim else None
        self.linear_1 = nn.Linear(cin, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x, cond=None):
        if self.cond_proj is not None:
            x = x + self.cond_proj(cond)
        return self.linear_2(F.silu(self.linear_1(x)))


def timestep_sinusoid(timesteps, dim):
    """diffusers get_timestep_embedding with flip_sin_to_cos=True, downscale_freq_shift=0."""
    half = dim // 2
    exponent = -math.log(10000) * torch.arange(0, half, dtype=torch.float32) / half
    emb = timesteps[:, None].float() * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    return torch.cat([emb[:, half:], emb[:, :half]], dim=-1)


class UNet2DConditionModel(nn.Module):
    """Down: 3 x CrossAttnDownBlock2D + DownBlock2D; mid: UNetMidBlock2DCrossAttn;
    up: UpBlock2D + 3 x CrossAttnUpBlock2D (diffusers' SD layout)."""

    def __init__(self, channels, layers, heads, context_dim, groups, linear_projection, cond_dim=None):
        super().__init__()
        temb = channels[0] * 4
        self.sinusoid_dim = channels[0]
        self.conv_in = nn.Conv2d(4, channels[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(channels[0], temb, cond_dim)

        def attn_factory(n_heads):
            return lambda c: Transformer2DModel(c, n_heads, c // n_heads, context_dim, groups, linear_projection)

        n = len(channels)
        self.down_blocks = nn.ModuleList()
        cout = channels[0]
        for i in range(n):
            cin, cout = cout, channels[i]
            final = i == n - 1
            self.down_blocks.append(DownBlock(cin, cout, temb, layers, groups, None if final else attn_factory(heads[i]), not final))
        self.mid_block = MidBlock(channels[-1], temb, groups, attn_factory(heads[-1]))
        rev, rev_heads = list(reversed(channels)), list(reversed(heads))
        self.up_blocks = nn.ModuleList()
        cout = rev[0]
        for i in range(n):
            prev, cout = cout, rev[i]
            cin = rev[min(i + 1, n - 1)]
            self.up_blocks.append(UpBlock(cin, cout, prev, temb, layers + 1, groups, None if i == 0 else attn_factory(rev_heads[i]), i < n - 1))
        self.conv_norm_out = nn.GroupNorm(groups, channels[0], eps=1e-5)
        self.conv_out = nn.Conv2d(channels[0], 4, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states, timestep_cond=None):
        t = timestep.expand(sample.shape[0])
        temb = self.time_embedding(timestep_sinusoid(t, self.sinusoid_dim), timestep_cond)
        x = self.conv_in(sample)
        skips = [x]
        for block in self.down_blocks:
            x, states = block(x, temb, encoder_hidden_states)
            skips += states
        x = self.mid_block(x, temb, encoder_hidden_states)
        for block in self.up_blocks:
            x = block(x, skips, temb, encoder_hidden_states)
        return self.conv_out(F.silu(self.conv_norm_out(x)))
