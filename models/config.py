"""Shared paths, seeds and sizes for the demo-pack build."""
import os
import random
from pathlib import Path

import numpy as np
import torch

MODELS = Path(__file__).resolve().parent
ROOT = MODELS.parent
CACHE = Path(os.environ.get("GESSO_CACHE", MODELS / ".cache"))
PACK_DIR = Path(os.environ.get("GESSO_PACK_DIR", ROOT / "public" / "packs" / "demo"))
SMOKE = os.environ.get("GESSO_SMOKE") == "1"

FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
EMOJI_TEST = "/usr/share/unicode/emoji/emoji-test.txt"

IMAGE = 64
LATENT_CH = 4
DOWNSCALE = 8
MAX_LEN = 16          # tokens, including BOS and EOS
HIDDEN = 128          # text encoder width (encoder_hidden_states D)
GUIDANCE_DIM = 256    # timestep_cond width, as in real LCM exports
GUIDANCE_SCALE = 1000.0
TRAIN_T = 1000
BETA_START, BETA_END = 0.00085, 0.012
ORIGINAL_STEPS = 50   # LCM skip k = 1000 / 50 = 20
SKIP_K = TRAIN_T // ORIGINAL_STEPS
TIMESTEP_SCALING = 10.0
SEED = 1234
PACK_VERSION = "1.3.0"  # 1.3.0: the attention stage (UNet and the ControlNet's UNet re-exported); 1.2.0: the ControlNet
DEFAULT_STEPS = 4
DEFAULT_GUIDANCE = 4.0  # every guidance in evaluate.py's sweep scores 18/18 on colour; 4 is the middle it picks on ties
# img2img from a photo: the demo UNet keeps a photo's colour only at low strength (a solid green
# photo + "circle": hue 70-85 deg, corners clear, at 0.15 over 6 seeds; at 0.3 and above it paints its
# usual orange circle; tests/unit/engine/start-image.test.ts), so that is its default.
DEFAULT_START_STRENGTH = 0.15


def seed_all(seed=SEED):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def threads():
    torch.set_num_threads(int(os.environ.get("GESSO_THREADS", "2")))


def path(*parts):
    p = CACHE.joinpath(*parts)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p
