"""The real architectures, in plain torch, laid out as diffusers/transformers
lay them out (same modules, same parameter shapes, same forward maths), so
that an ONNX export has the node structure of the public exports.

- CLIPTextModel (transformers): OpenCLIP ViT-H as SD 2.x uses it (23 layers,
  GELU) and OpenAI CLIP ViT-L (12 layers, quick GELU). Outputs the final
  layer norm of the last layer (last_hidden_state) and the EOS token's state
  (pooler_output).
- UNet2DConditionModel (diffusers): SD 2.1 / SD-Turbo and SD 1.5 (+ LCM's
  timestep_cond projection).
- AutoencoderKL (diffusers): the SD VAE encoder (returns the mean) and decoder.
- TAESD (madebyollin, as diffusers' AutoencoderTiny): encoder takes [-1,1],
  decoder returns [-1,1].

Attention is written out (MatMul, Softmax, MatMul), as torch.onnx.export
emits it for these models; nothing is fused.

The modules: arch_clip.py, arch_unet.py, arch_vae.py.
"""
from arch_clip import CLIPTextModel
from arch_unet import UNet2DConditionModel
from arch_vae import TAESDDecoder, TAESDEncoder, VAEDecoder, VAEEncoder

__all__ = ["CLIPTextModel", "UNet2DConditionModel", "VAEDecoder", "VAEEncoder", "TAESDDecoder", "TAESDEncoder"]
