"""Loads what the diffusion stages share: latents, token ids, sample weights."""
import json

import numpy as np
import torch

from config import path
from tokenizer import Tokenizer

SHAPES = ("circle", "heart", "square")


def load(shape_weight=4.0):
    captions = json.load(open(path("data", "captions.json"), encoding="utf-8"))
    tok = Tokenizer.load(path("tokenizer"))
    ids = torch.tensor([tok.encode(c) for c in captions], dtype=torch.long)
    empty = torch.tensor(tok.encode(""), dtype=torch.long)
    latents = torch.from_numpy(np.load(path("latents.npy")))
    # Plain coloured shapes (~40 captions: "<colour> circle/heart/square") carry the colour
    # words but are 2% of the data: show them shape_weight times as often.
    weights = torch.tensor([shape_weight if c.split()[-1] in SHAPES else 1.0 for c in captions])
    return captions, tok, ids, empty, latents, weights
