#!/usr/bin/env bash
# `npm run bench -- --gpu --json` on a machine with a real GPU and no Node.js
# (the lent GPU machine: Python with torch and onnx, nothing to download).
#
#   scripts/gpu-run.sh prepare   here: writes .gpu-carry/ (git-ignored, ~45 MB):
#                                the GPU bench bundled into one ES module (the
#                                engine, the harness), this machine's node binary,
#                                onnxruntime-node's native provider and Dawn's Node
#                                bindings (the `webgpu` package), compressed; and
#                                .gl/, the Vulkan loader's Debian packages.
#   scripts/gpu-run.sh           there, with .gpu-carry and .gl carried: unpacks them,
#                                builds the width-reduced shape-true packs with that
#                                machine's Python, prints the adapter Dawn picks, runs
#                                the bench; its last line is the JSON summary. Writes
#                                the output to $OUT/gpu-bench.txt when $OUT is set.
# Environment: GESSO_GPU_PACKS (default sd-turbo,lcm), GESSO_GPU_WIDTH (default reduced),
# GESSO_PYTHON (default python3 there).
set -euo pipefail
cd "$(dirname "$0")/.."
CARRY=.gpu-carry

prepare() {
  rm -rf "$CARRY" && mkdir -p "$CARRY/node_modules"
  node --input-type=module -e "
    import { build } from 'vite';
    await build({
      configFile: false,
      publicDir: false,
      logLevel: 'warn',
      build: {
        ssr: 'tests/bench/gpu-main.ts',
        outDir: '$CARRY/bench',
        target: 'node20',
        minify: false,
        rollupOptions: {
          external: ['onnxruntime-node', 'onnxruntime-web', 'webgpu'],
          output: { format: 'es', entryFileNames: 'gpu-bench.mjs' },
        },
      },
      ssr: { noExternal: true, external: ['onnxruntime-node', 'onnxruntime-web', 'webgpu'] },
    });"
  xz -T0 -6 -c "$(command -v node)" >"$CARRY/node.xz"
  local ort=node_modules/onnxruntime-node native=bin/napi-v6/linux/x64
  mkdir -p "$CARRY/node_modules/onnxruntime-node/$native"
  cp -r "$ort/package.json" "$ort/dist" "$CARRY/node_modules/onnxruntime-node/"
  cp "$ort/$native/onnxruntime_binding.node" "$CARRY/node_modules/onnxruntime-node/$native/"
  xz -T0 -6 -c "$ort/$native/libonnxruntime.so.1" >"$CARRY/node_modules/onnxruntime-node/$native/libonnxruntime.so.1.xz"
  cp -r node_modules/onnxruntime-common "$CARRY/node_modules/"
  mkdir -p "$CARRY/node_modules/webgpu/dist/linux-x64"
  cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$CARRY/node_modules/webgpu/"
  xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node >"$CARRY/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
  # The Vulkan loader, as the device tool's README has it (its drivers come with the machine).
  mkdir -p .gl /tmp/amd64/partial
  local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update >/dev/null && (cd .gl && apt-get $o download libvulkan1 >/dev/null)
  grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >>.git/info/exclude
  du -sh "$CARRY" .gl
  echo "carry: $CARRY .gl  then run: scripts/gpu-run.sh"
}

run() {
  [ -d "$CARRY/bench" ] || { echo "No $CARRY: run 'scripts/gpu-run.sh prepare' first, and carry $CARRY and .gl." >&2; exit 1; }
  if ! ldconfig -p | grep -q libvulkan; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  local nvidia=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f "$nvidia" ] && export VK_DRIVER_FILES="$nvidia"
  local bin=/tmp/gesso-node
  mkdir -p "$bin" && xz -dc "$CARRY/node.xz" >"$bin/node" && chmod +x "$bin/node"
  for packed in $(find "$CARRY/node_modules" -name '*.xz'); do xz -dkf "$packed"; done
  export GESSO_PYTHON="${GESSO_PYTHON:-python3}" GESSO_ROOT="$PWD"
  local out="${OUT:-/tmp}/gpu-bench.txt"
  "$bin/node" "$CARRY/bench/gpu-bench.mjs" --gpu --json \
    --packs "${GESSO_GPU_PACKS:-sd-turbo,lcm}" --width "${GESSO_GPU_WIDTH:-reduced}" 2>&1 | tee "$out"
}

case "${1:-run}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: scripts/gpu-run.sh [prepare|run]" >&2; exit 2 ;;
esac
