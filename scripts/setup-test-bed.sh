#!/usr/bin/env bash
# Everything the tests need on a clean Debian 12 machine, installed once, before
# any test runs (npm test calls this first; already-installed parts are skipped):
#   - Debian's Chromium, which the browser tests drive (a test tool's own
#     browser download does not run here);
#   - Debian's python3-torch, python3-onnx and python3-numpy, which build the
#     fixture and shape-true models the model tests load;
#   - Mesa's lavapipe 25 from bookworm-backports: a Vulkan device Dawn accepts,
#     with shader-f16 and Android's 128 MiB storage-binding limit, on which
#     onnxruntime-node's WebGPU provider runs the fp16 GPU tests. Debian 12's
#     own Mesa 22 lavapipe is rejected by Dawn.
# Needs root (or sudo) the first time, as on CI.
set -euo pipefail

SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
APT="$SUDO env DEBIAN_FRONTEND=noninteractive apt-get"
BACKPORTS=/etc/apt/sources.list.d/gesso-bookworm-backports.sources

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
mesa_major() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | sed -E 's/^([0-9]+:)?([0-9]+).*/\2/'; }

missing=""
for p in chromium python3-torch python3-onnx python3-numpy libvulkan1; do
  installed "$p" || missing="$missing $p"
done
need_lavapipe=$([ "$(mesa_major)" -ge 25 ] 2>/dev/null && echo "" || echo yes)

if [ -z "$missing" ] && [ -z "$need_lavapipe" ]; then
  echo "test bed: ready (Chromium, torch, onnx, numpy, lavapipe $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers))"
  exit 0
fi

if [ -n "$need_lavapipe" ] && [ ! -f "$BACKPORTS" ]; then
  $SUDO tee "$BACKPORTS" >/dev/null <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
fi

$APT update
if [ -n "$missing" ]; then
  $APT install -y --no-install-recommends $missing
fi
if [ -n "$need_lavapipe" ]; then
  # lavapipe 25 needs the suite's libdrm too; -t pulls both from backports.
  $APT install -y --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libdrm2 libdrm-amdgpu1
fi
echo "test bed: installed${missing} ${need_lavapipe:+lavapipe $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)}"
