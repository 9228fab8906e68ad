"""Key names of the SD 1.5 / SD 2.1 components: Gesso's module names (the
shape-true architectures in ../realsize, laid out as diffusers and
transformers lay them out) -> the diffusers file key and the original
single-file ("ldm") key, with the layout change between them.

Written from the layout rules (docs/import.md); checked by build.py, which
requires every template initializer to get exactly one key in each layout.
"""
import re

UNET_LDM = "model.diffusion_model."
VAE_LDM = "first_stage_model."
CLIP_L_LDM = "cond_stage_model.transformer."
CLIP_H_LDM = "cond_stage_model.model."

RESNET_LDM = {"norm1": "in_layers.0", "conv1": "in_layers.2", "time_emb_proj": "emb_layers.1",
              "norm2": "out_layers.0", "conv2": "out_layers.3", "conv_shortcut": "skip_connection"}
VAE_RESNET_LDM = {"norm1": "norm1", "conv1": "conv1", "norm2": "norm2", "conv2": "conv2",
                  "conv_shortcut": "nin_shortcut"}
VAE_ATTN_LDM = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _resnet(rest, table):
    part, _, tail = rest.partition(".")
    return table[part] + "." + tail


def unet_keys(name):
    """UNet module name -> (diffusers key, ldm key)."""
    diff = "unet." + name
    m = re.match(r"conv_in\.(.*)", name)
    if m:
        return diff, UNET_LDM + "input_blocks.0.0." + m.group(1)
    m = re.match(r"time_embedding\.linear_([12])\.(.*)", name)
    if m:
        return diff, UNET_LDM + f"time_embed.{0 if m.group(1) == '1' else 2}.{m.group(2)}"
    m = re.match(r"down_blocks\.(\d)\.resnets\.(\d)\.(.*)", name)
    if m:
        i, j = int(m.group(1)), int(m.group(2))
        return diff, UNET_LDM + f"input_blocks.{3 * i + j + 1}.0." + _resnet(m.group(3), RESNET_LDM)
    m = re.match(r"down_blocks\.(\d)\.attentions\.(\d)\.(.*)", name)
    if m:
        i, j = int(m.group(1)), int(m.group(2))
        return diff, UNET_LDM + f"input_blocks.{3 * i + j + 1}.1." + m.group(3)
    m = re.match(r"down_blocks\.(\d)\.downsamplers\.0\.conv\.(.*)", name)
    if m:
        return diff, UNET_LDM + f"input_blocks.{3 * (int(m.group(1)) + 1)}.0.op." + m.group(2)
    m = re.match(r"mid_block\.resnets\.(\d)\.(.*)", name)
    if m:
        return diff, UNET_LDM + f"middle_block.{2 * int(m.group(1))}." + _resnet(m.group(2), RESNET_LDM)
    m = re.match(r"mid_block\.attentions\.0\.(.*)", name)
    if m:
        return diff, UNET_LDM + "middle_block.1." + m.group(1)
    m = re.match(r"up_blocks\.(\d)\.resnets\.(\d)\.(.*)", name)
    if m:
        i, j = int(m.group(1)), int(m.group(2))
        return diff, UNET_LDM + f"output_blocks.{3 * i + j}.0." + _resnet(m.group(3), RESNET_LDM)
    m = re.match(r"up_blocks\.(\d)\.attentions\.(\d)\.(.*)", name)
    if m:
        i, j = int(m.group(1)), int(m.group(2))
        return diff, UNET_LDM + f"output_blocks.{3 * i + j}.1." + m.group(3)
    m = re.match(r"up_blocks\.(\d)\.upsamplers\.0\.conv\.(.*)", name)
    if m:
        i = int(m.group(1))
        return diff, UNET_LDM + f"output_blocks.{3 * i + 2}.{1 if i == 0 else 2}.conv." + m.group(2)
    m = re.match(r"conv_norm_out\.(.*)", name)
    if m:
        return diff, UNET_LDM + "out.0." + m.group(1)
    m = re.match(r"conv_out\.(.*)", name)
    if m:
        return diff, UNET_LDM + "out.2." + m.group(1)
    raise KeyError(f"no ldm name for UNet parameter {name}")


def _vae_inner(rest):
    m = re.match(r"mid_block\.resnets\.(\d)\.(.*)", rest)
    if m:
        return f"mid.block_{int(m.group(1)) + 1}." + _resnet(m.group(2), VAE_RESNET_LDM)
    m = re.match(r"mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)\.(.*)", rest)
    if m:
        return "mid.attn_1." + VAE_ATTN_LDM[m.group(1)] + "." + m.group(2)
    if rest.startswith("conv_norm_out."):
        return "norm_out." + rest[len("conv_norm_out."):]
    if rest.startswith("conv_in.") or rest.startswith("conv_out."):
        return rest
    raise KeyError(rest)


def vae_keys(component, name):
    """VAE encoder/decoder module name -> (diffusers key, ldm key)."""
    if name.startswith("quant_conv.") or name.startswith("post_quant_conv."):
        return "vae." + name, VAE_LDM + name
    half = "encoder" if component == "vae_encoder" else "decoder"
    m = re.match(r"(down|up)_blocks\.(\d)\.resnets\.(\d)\.(.*)", name)
    if m:
        i = int(m.group(2)) if half == "encoder" else 3 - int(m.group(2))
        ldm = f"{m.group(1)}.{i}.block.{m.group(3)}." + _resnet(m.group(4), VAE_RESNET_LDM)
    else:
        m = re.match(r"(down|up)_blocks\.(\d)\.(down|up)samplers\.0\.conv\.(.*)", name)
        if m:
            i = int(m.group(2)) if half == "encoder" else 3 - int(m.group(2))
            ldm = f"{m.group(1)}.{i}.{m.group(3)}sample.conv.{m.group(4)}"
        else:
            ldm = _vae_inner(name)
    return f"vae.{half}.{name}", f"{VAE_LDM}{half}.{ldm}"


def clip_l_keys(name):
    """OpenAI CLIP ViT-L (SD 1.x): the ldm file keeps transformers' names under its prefix."""
    m = re.match(r"(token|position)_embedding\.(.*)", name)
    if m:
        diff = f"text_model.embeddings.{name}"
    elif name.startswith("final_layer_norm."):
        diff = "text_model." + name
    else:
        m = re.match(r"layers\.(\d+)\.(fc[12])\.(.*)", name)
        diff = (f"text_model.encoder.layers.{m.group(1)}.mlp.{m.group(2)}.{m.group(3)}" if m
                else "text_model.encoder." + name)
    return "text_encoder." + diff, CLIP_L_LDM + diff


OPEN_CLIP_PARTS = {"layer_norm1": "ln_1", "layer_norm2": "ln_2", "fc1": "mlp.c_fc", "fc2": "mlp.c_proj",
                   "self_attn.out_proj": "attn.out_proj"}


def clip_h_keys(name):
    """OpenCLIP ViT-H (SD 2.x). Returns (diffusers key, ldm key, ldm row slice index or None):
    q/k/v are thirds 0/1/2 of attn.in_proj_weight / in_proj_bias."""
    diff = clip_l_keys(name)[0]
    if name == "token_embedding.weight":
        return diff, CLIP_H_LDM + "token_embedding.weight", None
    if name == "position_embedding.weight":
        return diff, CLIP_H_LDM + "positional_embedding", None
    if name.startswith("final_layer_norm."):
        return diff, CLIP_H_LDM + "ln_final." + name.split(".")[-1], None
    m = re.match(r"layers\.(\d+)\.self_attn\.([qkv])_proj\.(weight|bias)", name)
    if m:
        return diff, f"{CLIP_H_LDM}transformer.resblocks.{m.group(1)}.attn.in_proj_{m.group(3)}", "qkv".index(m.group(2))
    m = re.match(r"layers\.(\d+)\.(layer_norm1|layer_norm2|fc1|fc2|self_attn\.out_proj)\.(weight|bias)", name)
    if m:
        return diff, f"{CLIP_H_LDM}transformer.resblocks.{m.group(1)}.{OPEN_CLIP_PARTS[m.group(2)]}.{m.group(3)}", None
    raise KeyError(f"no ldm name for text parameter {name}")


def keys(family, component, name):
    """(diffusers key, ldm key, ldm third or None)."""
    if component == "unet":
        return unet_keys(name) + (None,)
    if component in ("vae_encoder", "vae_decoder"):
        return vae_keys(component, name) + (None,)
    if family == "sd21":
        return clip_h_keys(name)
    return clip_l_keys(name) + (None,)


def ldm_shape(component, name, shape):
    """The ldm tensor's shape when it differs from diffusers': the VAE mid attention's
    q/k/v/proj_out weights are [C, C, 1, 1] convs there ([C, C] linears in diffusers)."""
    if component.startswith("vae_") and re.match(r"mid_block\.attentions\.0\.(to_q|to_k|to_v|to_out\.0)\.weight$", name):
        return list(shape) + [1, 1]
    return list(shape)
