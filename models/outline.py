"""Outline images for the ControlNet: what a finger's strokes look like to the
model (white lines on black, [0,1], 64x64), made from an emoji's alpha edge
(and, for half the training samples, its inner luminance edges), and from
drawn shapes for the evaluation."""
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from config import IMAGE


def dilate(mask, width):
    if width <= 1:
        return mask
    img = Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(2 * (width // 2) + 1))
    return np.asarray(img) > 127


def alpha_edge(alpha, width):
    """The boundary of the opaque area, `width` pixels wide."""
    inside = alpha > 127
    eroded = np.asarray(Image.fromarray(inside.astype(np.uint8) * 255).filter(ImageFilter.MinFilter(3))) > 127
    return dilate(inside & ~eroded, width)


def luminance_edges(rgb, inside, threshold=0.35):
    """Sobel edges of the picture's grey levels inside the object (its inner lines)."""
    g = rgb.astype(np.float32).mean(-1) / 255
    p = np.pad(g, 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    return (np.hypot(gx, gy) > threshold) & inside


def place(glyph, scale, x, y):
    """The glyph (RGBA) scaled to `scale` of the image and pasted at (x, y) on white: (rgb, alpha)."""
    w, h = glyph.size
    s = scale * IMAGE / max(w, h)
    g = glyph.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)
    canvas = Image.new("RGBA", (IMAGE, IMAGE), (255, 255, 255, 0))
    canvas.paste(g, (x, y))
    alpha = np.asarray(canvas)[..., 3]
    white = Image.new("RGBA", (IMAGE, IMAGE), (255, 255, 255, 255))
    rgb = np.asarray(Image.alpha_composite(white, canvas).convert("RGB"))
    return rgb, alpha


def random_sample(glyph, rng):
    """A glyph at a random size and place, with its outline: (rgb uint8, outline bool)."""
    scale = rng.uniform(0.35, 1.0)
    w, h = glyph.size
    s = scale * IMAGE / max(w, h)
    gw, gh = max(1, round(w * s)), max(1, round(h * s))
    x, y = int(rng.integers(0, IMAGE - gw + 1)), int(rng.integers(0, IMAGE - gh + 1))
    rgb, alpha = place(glyph, scale, x, y)
    outline = alpha_edge(alpha, int(rng.integers(1, 4)))
    if rng.random() < 0.5:
        outline |= luminance_edges(rgb, alpha > 127)
    return rgb, outline


def shape_points(kind, cx, cy, r, n=64):
    """A closed outline of a circle, square, triangle (point up) or heart, centre (cx, cy), half-size r."""
    if kind == "circle":
        return [(cx + r * math.cos(2 * math.pi * i / n), cy + r * math.sin(2 * math.pi * i / n)) for i in range(n)]
    if kind == "square":
        return [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    if kind == "triangle":
        return [(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    pts = []  # heart curve, scaled to fit [-1, 1]
    for i in range(n):
        t = 2 * math.pi * i / n
        hx = 16 * math.sin(t) ** 3
        hy = -(13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t))
        pts.append((cx + r * hx / 16, cy + r * (hy + 2.5) / 14.5))
    return pts


def drawn_shape(kind, cx, cy, r, width=2):
    """(outline bool, filled bool) for a shape drawn as a closed stroke."""
    pts = shape_points(kind, cx, cy, r)
    line, fill = Image.new("L", (IMAGE, IMAGE)), Image.new("L", (IMAGE, IMAGE))
    ImageDraw.Draw(line).line(pts + pts[:1], fill=255, width=width, joint="curve")
    ImageDraw.Draw(fill).polygon(pts, fill=255)
    return np.asarray(line) > 127, np.asarray(fill) > 127


def as_cond(outline):
    """bool [H, W] -> float [3, H, W] in [0, 1]."""
    return np.repeat(outline[None].astype(np.float32), 3, 0)
