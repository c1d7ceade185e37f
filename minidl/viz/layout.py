"""A layered drawing of a graph with matplotlib alone (used when Graphviz's ``dot`` is not installed).

The classic recipe for a readable DAG (Sugiyama's), in three steps:

1. layers: a node's column is the length of the longest path from the leaves
   to it, so every edge points right; a leaf (a weight, the data) then moves
   to just left of its first consumer, so a layer's weights sit beside it,
   not all in column 0;
2. order within a column: a few sweeps of the barycentre heuristic (sort each
   column by the mean row of its neighbours in the previous column, then the
   same right to left), which removes most edge crossings;
3. draw: boxes for tensors, rounded boxes for Functions, arrows between them.
"""
from __future__ import annotations

from .graph import Graph

FILL = {"param": "#c7e9c0", "input": "#e0e0e0", "tensor": "#ffffff", "output": "#fdd0a2", "function": "#c6dbef"}


def columns(graph: Graph):
    """{node key: column}, leaves pulled right to just before their first consumer."""
    preds = {n.key: [] for n in graph.nodes}
    succs = {n.key: [] for n in graph.nodes}
    for a, b in graph.edges:
        preds[b].append(a)
        succs[a].append(b)
    col, stack = {}, [n.key for n in graph.nodes]
    while stack:                                         # longest path from a leaf, iteratively
        k = stack[-1]
        if k in col:
            stack.pop()
            continue
        todo = [p for p in preds[k] if p not in col]
        if todo:
            stack.extend(todo)
            continue
        col[k] = 1 + max((col[p] for p in preds[k]), default=-1)
        stack.pop()
    for k in col:
        if not preds[k] and succs[k]:
            col[k] = min(col[s] for s in succs[k]) - 1
    return col, preds, succs


def order(graph: Graph, col, preds, succs, sweeps: int = 4):
    """{node key: row}: rows within each column, by barycentre sweeps."""
    layers = {}
    for n in graph.nodes:
        layers.setdefault(col[n.key], []).append(n.key)
    row = {k: i for layer in layers.values() for i, k in enumerate(layer)}
    span = sorted(layers)
    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        for c in (span[1:] if forward else span[-2::-1]):
            near = preds if forward else succs

            def centre(k, near=near):
                rows = [row[j] for j in near[k]]
                return sum(rows) / len(rows) if rows else row[k]
            layers[c].sort(key=centre)
            row.update({k: i for i, k in enumerate(layers[c])})
    return row, layers


def draw(graph: Graph, title: str | None = None):
    """A matplotlib Figure of the graph, left (leaves) to right (the tensor drawn)."""
    import matplotlib
    from matplotlib.figure import Figure
    col, preds, succs = columns(graph)
    row, layers = order(graph, col, preds, succs)
    tallest = max(len(v) for v in layers.values())
    lo = min(layers)
    pos = {}
    for c, keys in layers.items():                       # centre each column vertically
        offset = (tallest - len(keys)) / 2
        for k in keys:
            pos[k] = (c - lo, -(row[k] + offset))
    n_cols = max(layers) - lo + 1
    fig = Figure(figsize=(max(4.0, 1.6 * n_cols), max(2.5, 0.85 * tallest + 0.8)))
    ax = fig.add_subplot()
    ax.set_xlim(-0.6, n_cols - 0.4)                      # first: measuring the boxes needs the final scale
    ax.set_ylim(-(tallest - 1) - 0.6, 0.6)
    by_key = {n.key: n for n in graph.nodes}
    texts = {}
    for k, (x, y) in pos.items():
        n = by_key[k]
        style = "round,pad=0.35" if n.kind == "function" else "square,pad=0.3"
        texts[k] = ax.text(x, y, "\n".join(n.lines), ha="center", va="center", fontsize=7.5, zorder=3,
                           fontweight="bold" if n.kind == "function" else "normal",
                           bbox=dict(boxstyle=style, fc=FILL[n.role], ec="#555555", lw=0.8))
    half = _half_sizes(fig, ax, texts)
    for a, b in graph.edges:                             # from box edge to box edge, under the boxes
        start, end = _clip(pos[a], pos[b], half[a], half[b])
        ax.annotate("", xy=end, xytext=start, zorder=2,
                    arrowprops=dict(arrowstyle="-|>", color="#666666", lw=0.8, shrinkA=0, shrinkB=0,
                                    mutation_scale=11, alpha=1.0 if col[b] - col[a] <= 2 else 0.45))
    ax.axis("off")
    handles = [matplotlib.patches.Patch(fc=FILL[r], ec="#555555", label=lab) for r, lab in
               (("param", "weight (leaf, requires grad)"), ("input", "data (leaf)"), ("tensor", "intermediate"),
                ("output", "the tensor drawn"), ("function", "Function (backward runs right to left)"))]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=7, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def _half_sizes(fig, ax, texts):
    """{key: (half width, half height)} of each node's box, in data units (measured once, rendered)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    renderer = FigureCanvasAgg(fig).get_renderer()
    to_data = ax.transData.inverted()
    pad = 0.4 * 7.5 * fig.dpi / 72                       # the boxes' padding, in pixels
    out = {}
    for k, t in texts.items():
        box = t.get_window_extent(renderer).expanded(1, 1).padded(pad)
        (x0, y0), (x1, y1) = to_data.transform([[box.x0, box.y0], [box.x1, box.y1]])
        out[k] = (abs(x1 - x0) / 2, abs(y1 - y0) / 2)
    return out


def _clip(a, b, half_a, half_b, gap=0.02):
    """The segment between the centres a and b, cut where it leaves box a and enters box b."""
    dx, dy = b[0] - a[0], b[1] - a[1]

    def exit_t(half):                                    # fraction of the way out of a box of that size
        tx = half[0] / abs(dx) if dx else float("inf")
        ty = half[1] / abs(dy) if dy else float("inf")
        return min(tx, ty)
    ta, tb = min(exit_t(half_a) + gap, 0.45), min(exit_t(half_b) + gap, 0.45)
    return (a[0] + ta * dx, a[1] + ta * dy), (b[0] - tb * dx, b[1] - tb * dy)
