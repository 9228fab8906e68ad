"""Published configurations of the models in the public SD-Turbo and LCM
browser exports, and the width-reduced copies (every channel count / 8,
head counts kept, so the graphs have the same nodes).

Sources (the models' own config files as published with the weights):
- SD-Turbo = SD 2.1 architecture: UNet block_out_channels 320/640/1280/1280,
  2 layers per block, 5/10/20/20 heads of 64 (diffusers' config calls the
  head counts "attention_head_dim"), linear projections in the transformers,
  cross-attention dim 1024, GroupNorm 32; text encoder = OpenCLIP ViT-H as
  diffusers ships it for SD 2.x: 23 of its 24 layers (SD 2.x conditions on the
  penultimate layer), width 1024, 16 heads, MLP 4096, GELU.
- LCM-Dreamshaper-v7 = SD 1.5 architecture: same channels, 8 heads in every
  block, conv projections, cross-attention dim 768, plus a bias-free
  time_cond_proj (256 -> 320) for the guidance embedding; text encoder =
  OpenAI CLIP ViT-L/14: 12 layers, width 768, 12 heads, MLP 3072, quick GELU.
- SD VAE (AutoencoderKL): 128/256/512/512, 2 layers per block, 4 latent
  channels, GroupNorm 32; TAESD: 64 channels.
"""

FULL = "full"
REDUCED = "reduced"
WIDTHS = (FULL, REDUCED)
DIV = 8  # the width reduction


def _w(values, width):
    return [v // DIV for v in values] if width == REDUCED else list(values)


def _g(width):
    """GroupNorm groups: 32 at full width; 4 reduced (the same channels per group)."""
    return 32 // DIV if width == REDUCED else 32


def text_config(kind, width):
    if kind == "vit-h":  # OpenCLIP ViT-H/14, 23 layers as in SD 2.x
        dim, heads, inner, layers, act = 1024, 16, 4096, 23, "gelu"
    else:  # OpenAI CLIP ViT-L/14
        dim, heads, inner, layers, act = 768, 12, 3072, 12, "quick_gelu"
    if width == REDUCED:
        dim, inner = dim // DIV, inner // DIV  # heads kept: head dim 64 -> 8
    return dict(vocab=49408, positions=77, dim=dim, layers=layers, heads=heads, inner=inner, act=act)


def unet_config(kind, width):
    channels = _w([320, 640, 1280, 1280], width)
    if kind == "sd21":  # heads of 64 (8 reduced): 5/10/20/20 in both widths
        heads, context, linear, cond = [5, 10, 20, 20], 1024, True, None
    else:  # SD 1.5: 8 heads in every block (head dims 40/80/160; 5/10/20 reduced)
        heads, context, linear, cond = [8, 8, 8, 8], 768, False, 256
    context = context // DIV if width == REDUCED else context
    return dict(channels=channels, layers=2, heads=heads, context_dim=context, groups=_g(width),
                linear_projection=linear, cond_dim=cond)  # cond (guidance embedding) stays 256: it is an input


def vae_config(width):
    return dict(channels=_w([128, 256, 512, 512], width), layers=2, groups=_g(width))


def taesd_config(width):
    return dict(c=64 // DIV if width == REDUCED else 64)


# Published file sizes (bytes) of the public browser exports, for the size table.
# "~" sizes are rounded on the hosting page; None = not published.
PUBLIC_BYTES = {
    "sd-turbo": {  # schmuell/sd-turbo-ort-web (single files, fp16)
        "text_encoder/model.onnx": 681_393_168,
        "unet/model.onnx": 1_733_430_199,
        "vae_decoder/model.onnx": 99_094_314,
        "vae_encoder/model.onnx": 68_400_000,  # ~68.4 MB
        "taesd/vae_decoder/model.onnx": 4_910_000,  # deinferno/taesd-onnx, ~4.91 MB, fp32
        "taesd/vae_encoder/model.onnx": 4_910_000,
    },
    "lcm": {  # aislamov/lcm-dreamshaper-v7-onnx (fp16, external data); rounded on the page
        "text_encoder/model.onnx": 247_000_000,
        "unet/model.onnx": 93_700_000,
        "unet/model.onnx_data": 1_640_000_000,
        "vae_decoder/model.onnx": 2_110_000,
        "vae_decoder/model.onnx_data": 97_400_000,
        "vae_encoder/model.onnx": None,
        "vae_encoder/model.onnx_data": None,
        "taesd/vae_decoder/model.onnx": 4_910_000,
        "taesd/vae_encoder/model.onnx": 4_910_000,
    },
}
