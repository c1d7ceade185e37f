"""HierarchicalSoftmax: p(word | h) as a walk down a binary tree, O(log V) per word.

A full softmax scores all V words to normalise one probability:
p(w | h) = e^{u_w . h} / sum_{v=1..V} e^{u_v . h} costs O(V d).  Put the words at
the leaves of a binary tree instead, give every inner node k a logistic unit
(a vector v_k and a bias b_k), and let the unit decide "left or right":

    p(left at k | h) = sigma(z_k),   p(right at k | h) = sigma(-z_k) = 1 - sigma(z_k),
    z_k = v_k . h + b_k

The probability of a word is the product along its path from the root:

    p(w | h) = prod_{k on path(w)} sigma( s_k(w) * (v_k . h + b_k) ),   s_k(w) = +1 left, -1 right

Example, V = 4 words, Huffman tree from the counts the:50, cat:20, sat:20, mat:10
(the frequent word sits next to the root and costs one unit, the rare ones three)::

                        node 0
                   +1 /        \\ -1
                 node 1         the
            +1 /       \\ -1
          node 2        sat
     +1 /       \\ -1
      cat        mat

    p(the | h) = sigma(-z_0)
    p(mat | h) = sigma(+z_0) * sigma(+z_1) * sigma(-z_2)

At every inner node the two branches share the mass sigma(z) + sigma(-z) = 1, so
the V leaf probabilities sum to 1 by construction (no normaliser to compute).
A word at depth D_w costs D_w dot products: O(log V) for a balanced tree, and on
average about the entropy of the word distribution (in bits) for a Huffman tree.

Layer API (``h``: (B, n_in) hidden vectors, ``targets``: (B,) int word ids):

    hs = HierarchicalSoftmax(vocab_size, tree="huffman", counts=word_counts)
    hs.log_prob(h, targets)   (B,)   log p(targets | h), only the path nodes: O(B D d)
    hs.log_probs(h)           (B, V) every word's log-probability: O(B V D), for evaluation
    hs(h, targets) == hs.log_prob(h, targets);  hs(h) == hs.log_probs(h)

Parameters: ``W`` (V-1, n_in) node vectors, rows drawn from N(0, 1/n_in);
``b`` (V-1,) node biases, zero.  ``n_in`` is inferred at the first call.
Tree: ``"huffman"`` from ``counts`` (V,) (equal counts when None: then a
nearly balanced tree), or ``"balanced"`` (every word at depth floor or ceil of log2 V).
Inner nodes are numbered breadth-first, so node 0 is the root.
``paths``/``signs``/``depths`` (NumPy, (V, D_max)/(V, D_max)/(V,)) hold the tree.
"""
from __future__ import annotations

import heapq
import math
from collections import deque

import numpy as np

from .. import backend, ops, validate
from ..autograd import Function, array_of
from ..ops.activations import stable_sigmoid
from . import init
from .layer import Layer, parameter


class LogSigmoid(Function):
    """y = log sigma(x) = min(x, 0) - log(1 + e^{-|x|});   dy/dx = 1 - sigma(x) = sigma(-x).

    Written this way it never takes log(0): log(sigmoid(x)) composed from two ops
    gives -inf for x < -90 in float32, where this gives x."""
    def forward(self, x):
        xp = backend.xp_of(x)
        self.x = x
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        return gy * stable_sigmoid(-self.x)


def log_sigmoid(x):
    return LogSigmoid()(x)


# ----------------------------------------------------------------------------- building trees
def huffman_children(counts):
    """Huffman's algorithm: repeatedly merge the two least frequent subtrees.

    Returns ``children`` (V-1, 2): children[k] = (left, right), where a child id
    c < V is the word c and c >= V is the inner node c - V; the last node made is
    the root.  Ties break by creation order, so the tree is deterministic."""
    counts = np.asarray(counts, dtype=np.float64)
    V = len(counts)
    heap = [(float(c), i) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    children = np.zeros((V - 1, 2), dtype=np.int64)
    for k in range(V - 1):
        c_small, a = heapq.heappop(heap)
        c_next, b = heapq.heappop(heap)
        children[k] = (b, a)            # the more frequent of the two on the left
        heapq.heappush(heap, (c_small + c_next, V + k))
    return children


def balanced_children(V):
    """A balanced tree: each inner node splits its range of word ids in half.

    Same format as ``huffman_children``; here node 0 is the root.  Every word
    sits at depth floor(log2 V) or ceil(log2 V)."""
    children = []
    todo = deque([(0, V)])                 # ranges still to split, in creation order
    created = [1]                          # inner nodes made so far (the root is node 0)

    def child(lo, hi):
        if hi - lo == 1:
            return lo                       # a single word: a leaf
        todo.append((lo, hi))
        created[0] += 1
        return V + created[0] - 1          # FIFO: a node is split in the order it was made

    while todo:
        lo, hi = todo.popleft()
        mid = (lo + hi + 1) // 2
        children.append((child(lo, mid), child(mid, hi)))
    return np.array(children, dtype=np.int64)


def path_tables(children, V, root):
    """Every word's path from the root, as arrays.

    Returns (paths, signs, depths): paths (V, D) inner-node ids renumbered
    breadth-first (root = 0), signs (V, D) +1 / -1 for left / right and 0 past
    the end of a shorter path, depths (V,) the path lengths.  Each word climbs
    to the root one level per step, all words at once (D vectorised steps)."""
    n_inner = len(children)
    parent = np.full(V + n_inner, -1, dtype=np.int64)      # tree nodes: words 0..V-1, inner V..
    side = np.zeros(V + n_inner)
    parent[children[:, 0]] = parent[children[:, 1]] = V + np.arange(n_inner)
    side[children[:, 0]], side[children[:, 1]] = 1.0, -1.0
    order = [root]                                          # breadth-first order of inner nodes
    for k in order:
        order.extend(int(c) - V for c in children[k] if c >= V)
    number = np.empty(n_inner, dtype=np.int64)
    number[order] = np.arange(n_inner)
    up_nodes, up_signs, cur = [], [], np.arange(V)
    while (parent[cur] >= 0).any():                         # one level up per step
        up = parent[cur]
        alive = up >= 0
        up_nodes.append(np.where(alive, number[np.maximum(up - V, 0)], 0))
        up_signs.append(np.where(alive, side[cur], 0.0))
        cur = np.where(alive, up, cur)
    up_nodes, up_signs = np.stack(up_nodes, 1), np.stack(up_signs, 1)    # (V, D), leaf first
    depths = (up_signs != 0).sum(axis=1)
    src = depths[:, None] - 1 - np.arange(up_nodes.shape[1])             # root-first position
    rows, on_path = np.arange(V)[:, None], src >= 0
    paths = np.where(on_path, up_nodes[rows, np.maximum(src, 0)], 0)
    signs = np.where(on_path, up_signs[rows, np.maximum(src, 0)], 0.0)
    return paths, signs, depths


# ----------------------------------------------------------------------------- the layer
class HierarchicalSoftmax(Layer):
    def __init__(self, vocab_size: int, tree: str = "huffman", counts=None, n_in: int | None = None):
        super().__init__()
        V = validate.positive_int(vocab_size, "vocab_size (at least 2 words)", "HierarchicalSoftmax", minimum=2)
        validate.choice(tree, ("huffman", "balanced"), "tree", "HierarchicalSoftmax")
        n_in = None if n_in is None else validate.positive_int(n_in, "n_in", "HierarchicalSoftmax")
        if counts is not None:
            given = counts
            try:
                counts = np.asarray(backend.asnumpy(counts))
            except (TypeError, ValueError):
                counts = np.asarray(None)
            if counts.dtype.kind not in "biuf":
                raise TypeError(f"HierarchicalSoftmax: counts must be numbers, one per word, got {given!r}")
            counts = counts.astype(np.float64)
            if counts.shape != (V,):
                raise ValueError(f"HierarchicalSoftmax: counts of shape {counts.shape} do not fit a "
                                 f"vocabulary of size {V} (expected ({V},))")
            validate.in_range(counts, 0, None, "HierarchicalSoftmax", "counts")
        self.vocab_size, self.tree, self.n_in = V, tree, n_in
        if tree == "huffman":
            children = huffman_children(np.ones(V) if counts is None else counts)
            root = V - 2                            # Huffman's last merge
        else:
            children, root = balanced_children(V), 0
        self.paths, self.signs, self.depths = path_tables(children, V, root)
        self._on_device = {}                        # backend name -> (paths, signs, mask, depths)
        self.built = False
        if n_in is not None:
            self.build(n_in)

    @property
    def name(self):
        return f"HierarchicalSoftmax_{self.vocab_size}"

    def build(self, n_in: int):
        self.n_in = int(n_in)
        self.W = parameter(init.normal((self.vocab_size - 1, self.n_in), std=1.0 / math.sqrt(self.n_in)))
        self.b = parameter(init.zeros(self.vocab_size - 1))
        self.built = True

    # --- facts about the tree
    def code(self, word: int) -> str:
        """The word's path as a bit string: 0 = left (+1), 1 = right (-1), root first."""
        return "".join("0" if s > 0 else "1" for s in self.signs[word, :self.depths[word]])

    def mean_depth(self, counts=None) -> float:
        """Average number of logistic units per word, weighted by ``counts`` when given."""
        w = np.ones(self.vocab_size) if counts is None else np.asarray(counts, dtype=np.float64)
        return float((self.depths * w).sum() / w.sum())

    # --- computing
    def forward(self, h, targets=None):
        return self.log_probs(h) if targets is None else self.log_prob(h, targets)

    def _tables(self, like):
        name = backend.name_of(like)
        if name not in self._on_device:
            xp = backend.module(name)
            self._on_device[name] = (xp.asarray(self.paths), xp.asarray(self.signs),
                                     xp.asarray(self.signs != 0), xp.asarray(self.depths))
        return self._on_device[name]

    def _check_h(self, h):
        if h.ndim != 2:
            raise ValueError(f"{self.name}: h must be (batch, features), got shape {tuple(h.shape)}")
        if not self.built:
            self.build(h.shape[-1])
        if h.shape[-1] != self.n_in:
            raise ValueError(f"{self.name}: h of shape {tuple(h.shape)} does not fit node vectors W of "
                             f"shape {tuple(self.W.shape)} (the last axis of h must be {self.n_in})")

    def _check_targets(self, h, targets):
        xp = backend.xp_of(h.data)
        t = xp.asarray(array_of(targets))
        if t.dtype.kind not in "iu":
            raise TypeError(f"{self.name}: targets must be integer word ids, got dtype {t.dtype}")
        if t.shape != (h.shape[0],):
            raise ValueError(f"{self.name}: targets of shape {tuple(t.shape)} do not fit h of shape "
                             f"{tuple(h.shape)} (expected ({h.shape[0]},), one word per row of h)")
        validate.ids(t, self.vocab_size, self.name, "ids", "target id")
        return t

    def log_prob(self, h, targets):
        """log p(targets | h) = sum_{k on the path} log sigma(s_k (v_k . h + b_k)):  (B,).

        Only the D nodes on each target's path are touched: gather their vectors
        (B, D, n_in), one batched dot with h, log-sigmoid, masked sum."""
        self._check_h(h)
        t = self._check_targets(h, targets)
        paths, signs, mask, depths = self._tables(h.data)
        B = h.shape[0]
        D = int(depths[t].max()) if B else 1          # the deepest path in this batch
        nodes = paths[t, :D]                          # (B, D) inner-node ids (0 past a path's end)
        s = signs[t, :D].astype(h.dtype)              # (B, D) +1 / -1 / 0
        m = mask[t, :D].astype(h.dtype)               # (B, D) 1 on the path, 0 past its end
        V_nodes = ops.embedding(nodes, self.W)                               # (B, D, n_in)
        z = ops.reshape(ops.matmul(V_nodes, ops.reshape(h, (B, self.n_in, 1))), (B, D))
        z = z + ops.getitem(self.b, nodes)                                   # (B, D) z_k
        return ops.sum(log_sigmoid(z * s) * m, axis=-1)                      # (B,)

    def log_probs(self, h):
        """log p(w | h) for every word w: (B, V).  All V-1 node scores z = h W^T + b
        (B, V-1), then each word gathers and sums its path.  O(B V D): for
        evaluation and tests, not for training."""
        self._check_h(h)
        paths, signs, mask, _ = self._tables(h.data)
        z = ops.matmul(h, ops.transpose(self.W)) + self.b                   # (B, V-1)
        z_paths = ops.getitem(z, (slice(None), paths))                       # (B, V, D)
        return ops.sum(log_sigmoid(z_paths * signs.astype(h.dtype)) * mask.astype(h.dtype), axis=-1)
