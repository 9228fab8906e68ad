"""CLIPTextModel as transformers lays it out: OpenCLIP ViT-H (SD 2.x, GELU)
and OpenAI CLIP ViT-L (SD 1.5, quick GELU). See arch.py."""
import torch
from torch import nn


class CLIPAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.scale = self.head_dim ** -0.5
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x, mask):
        b = x.shape[0]
        q = (self.q_proj(x) * self.scale).reshape(b, -1, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).reshape(b, -1, self.heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).reshape(b, -1, self.heads, self.head_dim).transpose(1, 2)
        w = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) + mask, dim=-1)
        o = torch.matmul(w, v).transpose(1, 2).reshape(b, -1, self.heads * self.head_dim)
        return self.out_proj(o)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class CLIPLayer(nn.Module):
    def __init__(self, dim, heads, inner, act):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.self_attn = CLIPAttention(dim, heads)
        self.layer_norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.fc1 = nn.Linear(dim, inner)
        self.act = QuickGELU() if act == "quick_gelu" else nn.GELU()
        self.fc2 = nn.Linear(inner, dim)

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.fc2(self.act(self.fc1(self.layer_norm2(x))))


class CLIPTextModel(nn.Module):
    """input_ids int32 [B, 77] -> (last_hidden_state [B, 77, D], pooler_output [B, D])."""

    def __init__(self, vocab, positions, dim, layers, heads, inner, act):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dim)
        self.position_embedding = nn.Embedding(positions, dim)
        self.register_buffer("position_ids", torch.arange(positions).unsqueeze(0), persistent=False)
        # Causal mask as transformers builds it (large negative above the diagonal).
        mask = torch.full((positions, positions), torch.finfo(torch.float16).min).triu(1)
        self.register_buffer("causal_mask", mask[None, None], persistent=False)
        self.layers = nn.ModuleList(CLIPLayer(dim, heads, inner, act) for _ in range(layers))
        self.final_layer_norm = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, input_ids):
        x = self.token_embedding(input_ids) + self.position_embedding(self.position_ids)
        for layer in self.layers:
            x = layer(x, self.causal_mask)
        x = self.final_layer_norm(x)
        # The EOS token (49407) has the highest id: its state is the pooled output.
        eos = input_ids.to(torch.int64).argmax(dim=-1)
        pooled = x[torch.arange(x.shape[0]), eos]
        return x, pooled
