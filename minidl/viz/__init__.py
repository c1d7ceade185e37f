"""Pictures of what minidl computes: ``md.viz.draw_graph(tensor, path)``, the graph behind a tensor.

    loss = md.losses.nll_loss(model(x), y)
    loss.backward(retain_graph=True)              # keep the graph, to draw it with its gradients
    md.viz.draw_graph(loss, "graph.svg", model=model)
    fig = md.viz.draw_graph(loss)                 # no path: a matplotlib Figure (for a notebook)

One node per Tensor (its shape and dtype; a weight's name; ||dL/dx|| once
backward has run) and per Function (its name), an arrow from each input to
the Function and from the Function to its output: what ``backward`` walks,
right to left.  (micrograd's ``draw_dot`` and DeZero's ``plot_dot_graph``.)

With Graphviz's ``dot`` program on the PATH (``apt install graphviz``, ``brew
install graphviz``) the layout is dot's; without it, a layered layout drawn by
matplotlib (``layout.py``).  No Python graphviz package is needed: the DOT text
is handed to the ``dot`` program.  ``path`` ends in ``.svg`` or ``.png`` (or
``.dot``/``.gv`` for the DOT text alone).
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

from .graph import Graph, GraphFreedError, to_dot, trace

__all__ = ["draw_graph", "trace", "to_dot", "Graph", "GraphFreedError"]

FORMATS = (".svg", ".png", ".dot", ".gv")


def _engine(engine):
    if engine not in ("auto", "dot", "matplotlib"):
        raise ValueError(f"draw_graph: engine must be 'auto', 'dot' or 'matplotlib', got {engine!r}")
    dot = shutil.which("dot")
    if engine == "dot" and dot is None:
        raise FileNotFoundError("draw_graph: engine='dot' but Graphviz's dot program is not on the PATH "
                                "(install graphviz, or use engine='matplotlib')")
    return ("dot", dot) if engine != "matplotlib" and dot is not None else ("matplotlib", None)


def draw_graph(tensor, path=None, *, model=None, grads="auto", engine="auto", title=None, max_nodes=400):
    """Draw the graph behind ``tensor``; write it to ``path`` (.svg/.png/.dot) or return a Figure.

    model:   a Layer; its parameters are labelled with their dotted names ("2.W").
    grads:   "auto" shows ||dL/dx|| at every tensor once backward has run on the
             graph (retain_graph=True keeps it); True always, False never.
    engine:  "auto" (dot when installed, else matplotlib), "dot" or "matplotlib".
    Returns the path written (a pathlib.Path), or a matplotlib Figure when path is None.
    """
    graph = trace(tensor, model=model, grads=grads, max_nodes=max_nodes)
    if path is None:
        from .layout import draw
        return draw(graph, title)
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"draw_graph: cannot write {path.name!r}; the path must end in one of {', '.join(FORMATS)}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"draw_graph: the folder {path.parent} does not exist")
    if suffix in (".dot", ".gv"):
        path.write_text(to_dot(graph))
        return path
    kind, dot = _engine(engine)
    if kind == "dot":
        done = subprocess.run([dot, f"-T{suffix[1:]}", "-o", os.fspath(path)], input=to_dot(graph),
                              capture_output=True, text=True, timeout=120)
        if done.returncode == 0:
            return path
        if engine == "dot":
            raise RuntimeError(f"draw_graph: dot failed: {done.stderr.strip()}")
    from .layout import draw
    fig = draw(graph, title)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path
