"""Render Noto Color Emoji (CBDT bitmaps) to 64x64 RGB on white, captioned
with CLDR short names from emoji-test.txt. Writes images.npy + captions.json.

Included: every fully-qualified emoji the font renders as one glyph, either
a single code point or a sequence resolved through the font's GSUB ligatures
(flags, keycaps, ZWJ sequences). Skin-tone variants are left out: they are
near-duplicates that differ only in skin colour.
"""
import io
import json
import sys

import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image

from config import EMOJI_TEST, FONT, IMAGE, SMOKE, path

SKIN_TONES = set(range(0x1F3FB, 0x1F400))


def read_emoji_test():
    out = []
    for line in open(EMOJI_TEST, encoding="utf-8"):
        if "; fully-qualified" not in line:
            continue
        cps = [int(c, 16) for c in line.split(";")[0].split()]
        name = line.split("#", 1)[1].strip().split(" ", 2)[2]
        out.append((cps, name))
    return out


def ligature_table(font):
    table = {}
    for lookup in font["GSUB"].table.LookupList.Lookup:
        for sub in lookup.SubTable:
            if sub.LookupType == 7:
                sub = sub.ExtSubTable
            if getattr(sub, "LookupType", None) != 4:
                continue
            for first, ligs in sub.ligatures.items():
                for lig in ligs:
                    table.setdefault(first, []).append((lig.Component, lig.LigGlyph))
    for ligs in table.values():
        ligs.sort(key=lambda x: -len(x[0]))
    return table


def shape(cps, cmap, ligs):
    """Code points -> glyph names, applying ligatures greedily (longest first)."""
    if any(c not in cmap and c != 0xFE0F for c in cps):
        return []
    glyphs = [cmap[c] for c in cps if c in cmap]
    out, i = [], 0
    while i < len(glyphs):
        for comps, lig in ligs.get(glyphs[i], []):
            if glyphs[i + 1 : i + 1 + len(comps)] == list(comps):
                out.append(lig)
                i += 1 + len(comps)
                break
        else:
            out.append(glyphs[i])
            i += 1
    return out


def render(bitmap):
    img = Image.open(io.BytesIO(bitmap.imageData)).convert("RGBA")
    bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
    img = Image.alpha_composite(bg, img).convert("RGB")
    w, h = img.size
    s = IMAGE / max(w, h)
    img = img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)
    canvas = Image.new("RGB", (IMAGE, IMAGE), (255, 255, 255))
    canvas.paste(img, ((IMAGE - img.size[0]) // 2, (IMAGE - img.size[1]) // 2))
    return np.asarray(canvas, dtype=np.uint8)


def glyphs():
    """(caption, CBDT bitmap) for every emoji the dataset holds, in dataset order."""
    font = TTFont(FONT)
    cmap = font.getBestCmap()
    ligs = ligature_table(font)
    strike = font["CBDT"].strikeData[0]
    seen = set()
    for cps, name in read_emoji_test():
        if SKIN_TONES & set(cps):
            continue
        found = shape(cps, cmap, ligs)
        if len(found) != 1 or found[0] not in strike or found[0] in seen:
            continue
        seen.add(found[0])
        bm = strike[found[0]]
        bm.ensureDecompiled()
        yield name, bm


def rgba(bitmap):
    """The glyph itself, transparent around it (the ControlNet stage places and outlines it)."""
    return Image.open(io.BytesIO(bitmap.imageData)).convert("RGBA")


def build():
    images, captions = [], []
    for name, bm in glyphs():
        images.append(render(bm))
        captions.append(name)
    images = np.stack(images)
    if SMOKE:
        keep = [i for i, c in enumerate(captions) if c.split()[-1] in ("circle", "heart", "square")]
        keep = (keep + list(range(0, len(captions), 97)))[:48]
        images, captions = images[keep], [captions[i] for i in keep]
    np.save(path("data", "images.npy"), images)
    json.dump(captions, open(path("data", "captions.json"), "w"), ensure_ascii=False, indent=0)
    print(f"data: {len(captions)} images", file=sys.stderr)


if __name__ == "__main__":
    if path("data", "captions.json").exists():
        print("data: cached", file=sys.stderr)
    else:
        build()
