"""Synthetic handwritten-looking digits: strokes drawn with NumPy, jittered, noisy.

Each digit 0-9 is a few strokes (line segments and elliptical arcs) in a unit
box, x to the right and y *down* (image convention)::

    7:  (0.2, 0.12) -> (0.8, 0.12) -> (0.42, 0.88)
    0:  an ellipse around (0.5, 0.5)

Rendering one image (28 x 28, like MNIST):

1. sample points densely along the strokes;
2. jitter: a random affine map per image -- rotation (+-12 deg), scale,
   shear and a shift of a couple of pixels -- so no two "7"s coincide;
3. splat the points onto the pixel grid (bilinear weights) and blur with a
   Gaussian of random width (the pen thickness): ``G @ img @ G.T``, one small
   matrix product per image;
4. ink = 1 - exp(-density), plus Gaussian pixel noise; scale to uint8.

The result has the keys of ``load_mnist``: {"images": (N, 28, 28) uint8,
"labels": (N,) int64, "source", "description"}.  Classes are balanced.
"""
from __future__ import annotations

import numpy as np


def _line(*points):
    return np.array(points, dtype=np.float64)


def _arc(cx, cy, rx, ry, start_deg, end_deg):
    """Points on an elliptical arc; angles in degrees, 0 = right, 90 = down."""
    t = np.deg2rad(np.linspace(start_deg, end_deg, 48))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


# Each digit: a list of polylines (arrays of (x, y) vertices in the unit box).
GLYPHS = {
    0: [_arc(0.5, 0.5, 0.27, 0.38, 0, 360)],
    1: [_line((0.36, 0.26), (0.52, 0.12), (0.52, 0.88))],
    2: [np.vstack([_arc(0.5, 0.33, 0.24, 0.21, 190, 380), _line((0.24, 0.88), (0.78, 0.88))])],
    3: [_arc(0.5, 0.31, 0.22, 0.19, 200, 450), _arc(0.5, 0.69, 0.25, 0.19, 270, 520)],
    4: [_line((0.66, 0.88), (0.66, 0.12), (0.2, 0.64), (0.8, 0.64))],
    5: [np.vstack([_line((0.74, 0.12), (0.32, 0.12), (0.29, 0.46)), _arc(0.5, 0.65, 0.24, 0.22, 222, 520)])],
    6: [_arc(0.62, 0.62, 0.34, 0.5, 250, 160), _arc(0.5, 0.68, 0.22, 0.2, 0, 360)],
    7: [_line((0.2, 0.12), (0.8, 0.12), (0.42, 0.88))],
    8: [_arc(0.5, 0.3, 0.19, 0.17, 0, 360), _arc(0.5, 0.68, 0.23, 0.2, 0, 360)],
    9: [_arc(0.5, 0.32, 0.22, 0.2, 0, 360), _line((0.72, 0.32), (0.68, 0.6), (0.58, 0.88))],
}


def _sample_strokes(polylines, step=0.01):
    """Points every ``step`` (unit-box lengths) along each polyline."""
    out = []
    for poly in polylines:
        for a, b in zip(poly[:-1], poly[1:]):
            k = max(int(np.ceil(np.linalg.norm(b - a) / step)), 1)
            out.append(a + (b - a) * (np.arange(k) / k)[:, None])
        out.append(poly[-1:])
    return np.vstack(out)


_POINTS = {d: _sample_strokes(g) for d, g in GLYPHS.items()}


def _gaussian_matrices(sigmas, size):
    """(N, size, size) row-normalised Gaussian blur matrices, one width per image."""
    pos = np.arange(size)
    d2 = (pos[None, :, None] - pos[None, None, :]) ** 2
    g = np.exp(-d2 / (2.0 * sigmas[:, None, None] ** 2))
    return g / g.sum(axis=2, keepdims=True)


def render_digits(labels, rng, size=28, noise=0.1, jitter=1.0):
    """Float images (N, size, size) in [0, 1] for the given labels."""
    labels = np.asarray(labels)
    n = len(labels)
    img = np.zeros((n, size, size))
    angle = np.deg2rad(rng.uniform(-12, 12, n) * jitter)
    scale = 1.0 + rng.uniform(-0.12, 0.08, n) * jitter
    shear = rng.uniform(-0.2, 0.2, n) * jitter
    shift = rng.uniform(-2.0, 2.0, (n, 2)) * jitter
    box = 0.72 * size                                  # the unit box covers ~20 of 28 pixels
    for j in range(n):
        p = (_POINTS[int(labels[j])] - 0.5) * box      # centre the glyph at the origin
        c, s = np.cos(angle[j]), np.sin(angle[j])
        A = scale[j] * np.array([[c, -s], [s, c]]) @ np.array([[1.0, shear[j]], [0.0, 1.0]])
        p = p @ A.T + size / 2.0 + shift[j]
        x, y = p[:, 0], p[:, 1]
        # Bilinear splat: each point spreads its unit of ink over the 4 nearest pixels.
        x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
        fx, fy = x - x0, y - y0
        for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                          (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
            xi, yi = x0 + dx, y0 + dy
            ok = (xi >= 0) & (xi < size) & (yi >= 0) & (yi < size)
            np.add.at(img[j], (yi[ok], xi[ok]), w[ok])
    g = _gaussian_matrices(rng.uniform(0.7, 1.2, n), size)
    img = g @ img @ np.transpose(g, (0, 2, 1))         # separable blur: rows, then columns
    ink = 1.0 - np.exp(-1.2 * img)
    ink += rng.normal(0.0, noise, ink.shape)
    return np.clip(ink, 0.0, 1.0)


def make_digits(n=1000, seed=0, size=28, noise=0.1, jitter=1.0):
    """``n`` synthetic digit images, labels balanced over 0..9 in random order.

    noise:  std of the Gaussian pixel noise (on the 0..1 ink scale).
    jitter: scales every random deformation (0 = all copies identical).
    Returns {"images": (n, size, size) uint8, "labels": (n,) int64, "source",
    "description"}.
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10)
    images = np.round(render_digits(labels, rng, size, noise, jitter) * 255).astype(np.uint8)
    return {"images": images, "labels": labels.astype(np.int64),
            "source": f"synthetic: make_digits(n={n}, seed={seed}, noise={noise}, jitter={jitter})",
            "description": "Synthetic digits: stroke glyphs drawn with NumPy, randomly rotated, scaled, "
                           "sheared, shifted, blurred to a random pen width, with pixel noise."}
