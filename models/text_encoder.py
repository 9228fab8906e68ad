"""Small pre-LN transformer: input_ids [B,L] -> last_hidden_state [B,L,D]."""
import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self, dim, ctx_dim=None, heads=4):
        super().__init__()
        ctx_dim = ctx_dim or dim
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(ctx_dim, dim, bias=False)
        self.v = nn.Linear(ctx_dim, dim, bias=False)
        self.o = nn.Linear(dim, dim)
        self.record = None  # a list while attention is being recorded (models/attention.py)

    def forward(self, x, ctx=None):
        ctx = x if ctx is None else ctx
        b, n, d = x.shape
        h = self.heads

        def split(t):
            return t.reshape(b, -1, h, d // h).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(ctx)), split(self.v(ctx))
        w = torch.softmax(q @ k.transpose(-1, -2) * self.scale, dim=-1)
        if self.record is not None:
            self.record.append(w)
        return self.o((w @ v).transpose(1, 2).reshape(b, n, d))


class Layer(nn.Module):
    def __init__(self, dim, heads=4):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads=heads)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TextEncoder(nn.Module):
    def __init__(self, vocab_size, max_len, dim=128, layers=3):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, dim)
        self.pos = nn.Parameter(torch.randn(max_len, dim) * 0.01)
        self.layers = nn.ModuleList(Layer(dim) for _ in range(layers))
        self.ln = nn.LayerNorm(dim)

    def forward(self, input_ids):
        x = self.tok(input_ids.long()) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.ln(x)
