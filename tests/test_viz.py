"""``md.viz.draw_graph``: one node per Function and Tensor, gradient norms, SVG/PNG/DOT, dot or matplotlib."""
import ast
import os
import pathlib
import stat

import numpy as np
import pytest

import minidl as md
from minidl import backend, nn
from minidl.viz import GraphFreedError, draw_graph, to_dot, trace
from minidl.viz.layout import columns


def _small_loss():
    model = md.models.SentimentModel(30, 8, n_classes=2)
    ids = np.random.default_rng(0).integers(0, 30, (2, 5))
    loss = md.losses.nll_loss(model(md.tensor(ids)), np.array([0, 1]))
    return model, loss


def test_one_node_per_function_and_tensor_with_shapes_and_names(backend_name):
    model, loss = _small_loss()
    g = trace(loss, model=model)
    fns = [n.lines[0] for n in g.nodes if n.kind == "function"]
    assert sorted(fns) == sorted(["EmbeddingOp", "MeanOp", "MatMul", "Add", "LogSoftmaxOp", "NLLLoss"])
    tensors = {n.lines[0]: n for n in g.nodes if n.kind == "tensor" and n.role == "param"}
    assert set(tensors) == {"0.W", "2.W", "2.b"}                   # named by the model's dotted names
    assert tensors["0.W"].lines[1] == "(30, 8) float32"
    roles = sorted(n.role for n in g.nodes if n.kind == "tensor")
    assert roles.count("input") == 1 and roles.count("output") == 1 and roles.count("tensor") == 5
    # every Function has its inputs in and its output out; the chain is connected
    assert len(g.edges) == len([n for n in g.nodes if n.kind == "tensor"]) - 1 + len(fns)   # a chain: one way out each
    assert not g.has_grads and not any("|grad|" in line for n in g.nodes for line in n.lines)


def test_gradient_norms_after_backward_match_the_leaves_and_the_chain_rule(backend_name):
    x = md.tensor(np.random.default_rng(1).standard_normal((3, 4)))
    W = nn.parameter(np.random.default_rng(2).standard_normal((4, 2)))
    h = x @ W
    loss = (h * h).sum()
    loss.backward(retain_graph=True)
    g = trace(loss)
    norm = {n.key: float(n.lines[-1].split()[-1]) for n in g.nodes if n.lines[-1].startswith("|grad|")}
    by_role = {n.role: n for n in g.nodes if n.kind == "tensor"}
    assert norm[by_role["output"].key] == 1
    np.testing.assert_allclose(norm[by_role["param"].key], np.linalg.norm(backend.asnumpy(W.grad)), rtol=1e-3)
    inner = sorted(norm[n.key] for n in g.nodes if n.role == "tensor")             # h and h * h, both (3, 2)
    np.testing.assert_allclose(inner, sorted([np.sqrt(6), np.linalg.norm(2 * h.numpy())]), rtol=1e-3)  # 1s, 2h
    assert by_role["input"].key not in norm                       # x does not require grad
    assert W.grad is not None and x.grad is None                   # drawing touched no .grad


def test_x_times_x_is_one_edge_and_a_leaf_is_one_node():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    g = trace(x * x)
    assert len(g.nodes) == 3 and len(g.edges) == 2
    assert len(trace(x).nodes) == 1


def test_a_freed_graph_says_how_to_keep_it():
    _, loss = _small_loss()
    loss.backward()
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        draw_graph(loss)


def test_too_big_a_graph_is_refused_with_the_limit():
    x = md.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(30):
        y = y * 1.01
    with pytest.raises(ValueError, match="more than 10 Functions"):
        trace(y, max_nodes=10)


def test_files_png_svg_dot_and_bad_paths(tmp_path):
    model, loss = _small_loss()
    loss.backward(retain_graph=True)
    png = draw_graph(loss, tmp_path / "g.png", model=model, engine="matplotlib")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = draw_graph(loss, tmp_path / "g.svg", engine="matplotlib")
    assert "<svg" in svg.read_text()[:500]
    dot = draw_graph(loss, tmp_path / "g.dot", model=model).read_text()
    assert dot.startswith("digraph") and dot.count("->") == len(trace(loss).edges) and "|grad|" in dot
    with pytest.raises(ValueError, match=r"\.svg, \.png"):
        draw_graph(loss, tmp_path / "g.jpg")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        draw_graph(loss, tmp_path / "nowhere" / "g.png")
    fig = draw_graph(loss)                                         # no path: a Figure for a notebook
    assert fig.axes


def test_graphviz_dot_is_used_when_installed(tmp_path, monkeypatch):
    """A stand-in ``dot`` on the PATH receives the DOT text on stdin and the format and path as arguments."""
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\n# -T<fmt> -o <path>\ncat > "$3"\necho "$1" >> "$3"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + os.environ.get("PATH", ""))
    _, loss = _small_loss()
    out = draw_graph(loss, tmp_path / "g.svg").read_text()
    assert out.startswith("digraph minidl") and out.rstrip().endswith("-Tsvg")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="graphviz"):
        draw_graph(loss, tmp_path / "h.svg", engine="dot")
    assert draw_graph(loss, tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"   # auto: matplotlib


def test_layers_point_right_for_a_recurrent_graph():
    model = nn.Serial(nn.Embedding(10, 4), nn.LSTM(3), nn.Mean(axis=1), nn.Dense(2))
    loss = md.losses.cross_entropy(model(md.tensor(np.array([[1, 2, 3], [4, 5, 6]]))), np.array([0, 1]))
    g = trace(loss)
    col, _, _ = columns(g)
    assert all(col[b] > col[a] for a, b in g.edges)
    assert "digraph" in to_dot(g)


def test_viz_imports_nothing_from_the_speed_wing():
    folder = pathlib.Path(md.viz.__file__).parent
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert "fast" not in (node.module or "").split("."), f"{path.name} imports {node.module}"
