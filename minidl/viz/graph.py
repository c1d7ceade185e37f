"""The graph behind a tensor, as data: one node per Function and per Tensor, and the edges between them.

    g = trace(loss, model=model, grads="auto")
    g.nodes     [Node(key, kind "tensor" | "function", role, label lines), ...]
    g.edges     [(from key, to key), ...]     input tensor -> Function -> output tensor

Calling a Function records it as the ``_ctx`` of its output (minidl/autograd.py),
and the Function keeps its input Tensors, so walking ``_ctx`` and ``inputs``
from the tensor back to the leaves finds the whole graph, as backward does.
A Function keeps the shape of each output (``out_meta``), not the output
itself, so an intermediate tensor is named by (its Function, which output).

Roles, which set a node's colour:  ``param`` (a leaf that requires grad: a
weight), ``input`` (a leaf that does not: data, ids), ``tensor`` (an
intermediate), ``output`` (the tensor drawn), ``function``.

Gradient norms.  ``backward`` keeps dL/dx only for the leaves and then frees
the graph (each Function drops its inputs).  To show ||dL/dx|| at every tensor,
``trace`` runs the chain rule over the graph itself (``autograd.chain_rule``,
the step backward takes at each node), starting from dL/dL = 1, without
touching any ``.grad``.  That needs the graph intact: draw before
``backward``, or after ``backward(retain_graph=True)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import backend
from ..autograd import Tensor, chain_rule, topological_order


@dataclass
class Node:
    key: tuple
    kind: str                    # "tensor" or "function"
    role: str                    # "param", "input", "tensor", "output" or "function"
    lines: list = field(default_factory=list)


@dataclass
class Graph:
    nodes: list
    edges: list
    has_grads: bool = False


class GraphFreedError(RuntimeError):
    """The graph below a tensor was freed by backward() and cannot be drawn."""


def _norm(g) -> float:
    if hasattr(g, "to_dense"):                          # a row-sparse gradient (sparse_grad=True)
        g = g.to_dense()
    a = backend.asnumpy(g).astype(np.float64, copy=False)
    return float(np.sqrt(np.sum(a * a)))


def _shape(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _tensor_key(t: Tensor):
    return ("out", id(t._ctx), t._out_index) if t._ctx is not None else ("leaf", id(t))


def _walk(root: Tensor, max_nodes: int):
    """Functions reachable from root (each once) and, per Function, its input keys; explicit stack."""
    fns, stack, seen = [], [root._ctx] if root._ctx is not None else [], set()
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if getattr(fn, "freed", False) or not hasattr(fn, "inputs"):
            raise GraphFreedError(
                f"the graph below this tensor was freed by backward() ({type(fn).__name__} no longer keeps "
                "its inputs); draw it before backward, or call backward(retain_graph=True) to keep it")
        fns.append(fn)
        if len(fns) > max_nodes:
            raise ValueError(f"draw_graph: the graph has more than {max_nodes} Functions (max_nodes); a "
                             "picture that size is unreadable: draw a smaller batch, a shorter sequence or "
                             "one layer, or raise max_nodes")
        stack.extend(t._ctx for t in fn.inputs if t._ctx is not None and id(t._ctx) not in seen)
    return fns


def gradients(root: Tensor) -> dict:
    """{tensor key: dL/d tensor} for every tensor that requires grad, L = root (seeded with ones)."""
    xp = backend.xp_of(root.data)
    seed = xp.ones(root.shape, dtype=root.dtype)
    grads = {_tensor_key(root): seed}
    for fn in topological_order(root):             # the walk backward() takes, consumers first
        gys = [grads.get(("out", id(fn), i)) for i in range(len(fn.out_meta))]
        if all(g is None for g in gys):
            continue
        gxs = chain_rule(fn, gys, fn.out_meta, [t.shape for t in fn.inputs])
        for t, g in zip(fn.inputs, gxs):
            if g is None or not t.requires_grad:
                continue
            if hasattr(g, "to_dense"):
                g = g.to_dense()
            k = _tensor_key(t)
            grads[k] = g if k not in grads else grads[k] + g
    return grads


def _any_leaf_grad(root, fns):
    leaves = [t for fn in fns for t in fn.inputs if t._ctx is None]
    return any(t.grad is not None for t in leaves + [root])


def trace(root: Tensor, model=None, grads="auto", max_nodes: int = 400) -> Graph:
    """The nodes and edges of the graph behind ``root`` (see the module docstring).

    model: a Layer whose parameters are labelled with their dotted names ("2.W").
    grads: True (compute ||dL/dx|| everywhere), False, or "auto" (when backward has run,
           i.e. some leaf has a .grad).
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph: expected a minidl Tensor, got {type(root).__name__}")
    if grads not in (True, False, "auto"):
        raise ValueError(f"draw_graph: grads must be True, False or 'auto', got {grads!r}")
    fns = _walk(root, max_nodes)
    names = {id(p): n for n, p in model.named_parameters()} if model is not None else {}
    want = grads is True or (grads == "auto" and _any_leaf_grad(root, fns))
    norms = {k: _norm(g) for k, g in gradients(root).items()} if want else {}

    nodes, edges, seen = {}, [], set()

    def tensor_node(key, shape, dtype, role, t=None):
        if key in nodes:
            return
        name = names.get(id(t)) or (getattr(t, "name", None) if t is not None else None)
        lines = ([name] if name else []) + [f"{_shape(shape)} {dtype}"]
        if key in norms:
            lines.append(f"|grad| {norms[key]:.3g}")
        nodes[key] = Node(key, "tensor", role, lines)

    root_key = _tensor_key(root)
    tensor_node(root_key, root.shape, root.dtype, "output", root)
    for fn in fns:
        fkey = ("fn", id(fn))
        nodes[fkey] = Node(fkey, "function", "function", [type(fn).__name__])
        for i, t in enumerate(fn.inputs):
            k = _tensor_key(t)
            role = "tensor" if t._ctx is not None else ("param" if t.requires_grad else "input")
            tensor_node(k, t.shape, t.dtype, role, t)
            if (k, fkey) not in seen:                    # x * x: one edge, drawn once
                seen.add((k, fkey))
                edges.append((k, fkey))
            if t._ctx is not None and (("fn", id(t._ctx)), k) not in seen:
                seen.add((("fn", id(t._ctx)), k))
                edges.append((("fn", id(t._ctx)), k))
    if root._ctx is not None:
        edges.append((("fn", id(root._ctx)), root_key))
    return Graph(list(nodes.values()), edges, has_grads=bool(norms))


def to_dot(graph: Graph) -> str:
    """The graph in Graphviz's DOT language, left to right (leaves on the left)."""
    fill = {"param": "#c7e9c0", "input": "#e0e0e0", "tensor": "#ffffff", "output": "#fdd0a2",
            "function": "#c6dbef"}
    ids = {n.key: f"n{i}" for i, n in enumerate(graph.nodes)}
    out = ["digraph minidl {", '  rankdir=LR; node [fontname="Helvetica", fontsize=10, style=filled];']
    for n in graph.nodes:
        label = "\\n".join(line.replace('"', "'") for line in n.lines)
        shape = "ellipse" if n.kind == "function" else "box"
        out.append(f'  {ids[n.key]} [label="{label}", shape={shape}, fillcolor="{fill[n.role]}"];')
    out += [f"  {ids[a]} -> {ids[b]};" for a, b in graph.edges]
    return "\n".join(out + ["}"]) + "\n"
