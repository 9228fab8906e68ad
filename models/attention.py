"""Cross-attention in the demo UNet, as the app's Explain mode reads it (DAAM):
recording each cross-attention layer's probabilities, per-word maps, object
masks, the localisation loss the attention stage trains with, and the pointing
game that measures it.

A word's map at an image position is the probability, summed over heads, that
the position attends to the word's token; maps from every layer are resized
to the latent grid and averaged over layers and steps."""
from contextlib import contextmanager

import numpy as np
import torch
from torch.nn import functional as F


@contextmanager
def recording(unet):
    """Yields a list that collects every cross-attention layer's probabilities
    [B, heads, positions, tokens], in call order, while the block runs."""
    layers = [m.cross_attn for m in unet.modules() if hasattr(m, "cross_attn")]
    found = []
    for layer in layers:
        layer.record = found
    try:
        yield found
    finally:
        for layer in layers:
            layer.record = None


def grid_maps(probs, size):
    """[B, heads, N, L] probabilities of one layer -> [B, L, size, size]: summed
    over heads, resized (bilinear) from the layer's square grid to size."""
    b, _, n, tokens = probs.shape
    side = int(round(n**0.5))
    m = probs.sum(1).transpose(1, 2).reshape(b, tokens, side, side)
    return m if side == size else F.interpolate(m, size=(size, size), mode="bilinear", align_corners=False)


def object_masks(images, size):
    """uint8 images [B, H, W, 3] on white -> share of each size x size cell that
    is not background (any channel under 235), as float [B, size, size]."""
    x = torch.from_numpy(np.asarray(images)).float()
    fg = (x.min(-1).values < 235).float()[:, None]
    return F.adaptive_avg_pool2d(fg, size)[:, 0]


def localisation_loss(records, masks, words):
    """Pulls each caption word's attention onto the object: for every layer and
    word, the share of the word's attention (summed over heads, over positions)
    that falls on background, as -log(share on the object).
    masks: [B, S, S] object share of each latent cell; words: [B, L] 1 for the
    caption's word tokens (not BOS, EOS or padding)."""
    total, count = 0.0, 0
    for probs in records:
        side = int(round(probs.shape[2] ** 0.5))
        m = masks if masks.shape[-1] == side else F.adaptive_avg_pool2d(masks[:, None], side)[:, 0]
        a = probs.sum(1)  # [B, N, L]
        mass = a.sum(1) + 1e-6  # [B, L]
        inside = (a * m.flatten(1)[:, :, None]).sum(1) / mass
        loss = -torch.log(inside.clamp(min=1e-6))
        total = total + (loss * words).sum()
        count += words.sum()
    return total / count


def word_tokens(ids, bos, eos):
    """[B, L] ids -> 1.0 at tokens that belong to the caption's words."""
    return ((ids != bos) & (ids != eos)).float()


def pointing_hit(word_map, mask):
    """word_map [S, S] (any S), mask bool [H, W]: is the map's brightest point,
    after a bilinear resize to the image, on the object?"""
    h, w = mask.shape
    up = F.interpolate(word_map[None, None], size=(h, w), mode="bilinear", align_corners=False)[0, 0]
    best = int(up.flatten().argmax())
    return bool(mask.flatten()[best]), up
