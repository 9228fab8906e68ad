#!/usr/bin/env bash
# Rebuild the demo pack from scratch: data -> tokenizer -> autoencoder ->
# preview decoder -> text encoder (contrastive) -> teacher -> LCM student ->
# attention (words' cross-attention onto their object, for Explain) ->
# ControlNet (outlines) -> ONNX (fp32/fp16/int8) -> manifest -> checks.
# Stages whose checkpoint exists in models/.cache/ are skipped (delete the
# cache for a clean rebuild). Seeded; every stage is time-capped so a busy
# 2-core machine shortens training instead of overrunning.
#   models/build.sh            full build (about 2 hours), writes public/packs/demo/
#   models/build.sh --smoke    a few steps on a few images, temp dir, about 2 minutes (CI)
#   models/build.sh --control  only the ControlNet stage on the shipped pack: recover.py rebuilds the
#                              other checkpoints from public/packs/demo's fp32 files (when the cache
#                              lacks them), then train, export the two new models, manifest, checks
#   models/build.sh --attention  only the attention stage on the shipped pack, the same way: fine-tune
#                              the student, export the UNet and the ControlNet's UNet, manifest, checks
# Fails (non-zero exit) when js/check.mjs finds an ONNX-vs-PyTorch difference over its
# threshold or a tokenizer mismatch, or when evaluate.py misses a threshold (full build:
# colour; pointing game). GESSO_CHECK_SCALE=X multiplies check.mjs's thresholds (e.g. 0.001 to see it fail).
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3

DEBS="python3-torch python3-onnx python3-fonttools python3-pil python3-numpy fonts-noto-color-emoji unicode-data"
missing=$(for p in $DEBS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends $missing
fi

if [ "${1:-}" = "--smoke" ]; then
  export GESSO_SMOKE=1
  export GESSO_CACHE="${GESSO_CACHE:-$(mktemp -d)}"
  export GESSO_PACK_DIR="$GESSO_CACHE/pack"
  AE_STEPS=10 PREVIEW_STEPS=10 TEXT_STEPS=10 TEACHER_STEPS=10 LCM_STEPS=5 ATTENTION_STEPS=5 CONTROL_STEPS=5
else
  export GESSO_AE_MINUTES=${GESSO_AE_MINUTES:-12} GESSO_PREVIEW_MINUTES=${GESSO_PREVIEW_MINUTES:-8}
  export GESSO_TEXT_MINUTES=${GESSO_TEXT_MINUTES:-4}
  export GESSO_TEACHER_MINUTES=${GESSO_TEACHER_MINUTES:-38} GESSO_LCM_MINUTES=${GESSO_LCM_MINUTES:-32}
  export GESSO_ATTENTION_MINUTES=${GESSO_ATTENTION_MINUTES:-12} GESSO_CONTROL_MINUTES=${GESSO_CONTROL_MINUTES:-32}
  AE_STEPS=${AE_STEPS:-4000} PREVIEW_STEPS=${PREVIEW_STEPS:-1000} TEXT_STEPS=${TEXT_STEPS:-3000} TEACHER_STEPS=${TEACHER_STEPS:-3000} LCM_STEPS=${LCM_STEPS:-3000}
  ATTENTION_STEPS=${ATTENTION_STEPS:-1000} CONTROL_STEPS=${CONTROL_STEPS:-6000}
fi
CACHE="${GESSO_CACHE:-.cache}"
PACK="${GESSO_PACK_DIR:-../public/packs/demo}"
mkdir -p "$CACHE"
echo "cache: $CACHE  pack: $PACK"

$PY data.py
$PY tokenizer.py
# One training stage on the shipped pack: recover the other checkpoints if the cache lacks them,
# train, export only what the stage changed, rewrite the manifest, check, evaluate.
#   stage_alone LABEL "TRAIN ARGS" EXPORTS EVALUATE...
stage_alone() {
  local label=$1 train=$2 exports=$3
  shift 3
  [ -f "$CACHE/student.pt" ] || $PY recover.py "$PACK"
  $PY $train
  $PY export.py "$PACK" --only "$exports"
  $PY manifest.py "$PACK"
  node js/check.mjs "$PACK" "$CACHE/ref/reference.json" tokenizer_examples.json --scale "${GESSO_CHECK_SCALE:-1}" >/dev/null
  for check in "$@"; do $PY "$check"; done
  echo "done: $PACK ($label stage)"
  exit 0
}
if [ "${1:-}" = "--control" ]; then
  stage_alone ControlNet "train_control.py $CONTROL_STEPS" controlnet,unet_control evaluate_control.py
fi
if [ "${1:-}" = "--attention" ]; then
  stage_alone attention "train_attention.py $ATTENTION_STEPS" unet,unet_control evaluate_attention.py evaluate_control.py
fi
$PY train_ae.py "$AE_STEPS"
$PY train_preview.py "$PREVIEW_STEPS"
$PY train_text.py "$TEXT_STEPS"
$PY train_teacher.py "$TEACHER_STEPS"
$PY train_lcm.py "$LCM_STEPS"
$PY train_attention.py "$ATTENTION_STEPS"
$PY train_control.py "$CONTROL_STEPS"

STAGE="$CACHE/pack.staging"
rm -rf "$STAGE"
$PY export.py "$STAGE"
$PY manifest.py "$STAGE"
rm -rf "$PACK"
mkdir -p "$(dirname "$PACK")"
mv "$STAGE" "$PACK"

if command -v node >/dev/null && [ -d ../node_modules/onnxruntime-node ]; then
  node js/check.mjs "$PACK" "$CACHE/ref/reference.json" \
    "$([ -n "${GESSO_SMOKE:-}" ] && echo "$CACHE/tokenizer_examples.json" || echo tokenizer_examples.json)" \
    --scale "${GESSO_CHECK_SCALE:-1}"
  node js/sample.mjs "$PACK" "$CACHE/ort_sample.png" "red heart" "blue circle" "cat face"
fi
$PY evaluate.py
$PY evaluate_attention.py
$PY evaluate_control.py
echo "done: $PACK"
