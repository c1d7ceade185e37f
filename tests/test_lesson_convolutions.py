"""Lesson 14 on the real MNIST digits (skipped without ../shared/data): the CNN beats the MLP.

It runs the lesson's --quick budget on 3,000 of the 10,000 MNIST test digits (2,400 to train,
600 to validate): about 15 s on an idle 2-core machine.  The default budget (all 10,000, 8 epochs)
reaches >= 97% with the CNNs; see the lesson's closing numbers in the README.
"""
from lessons.__main__ import find, run_lesson


def _value(results, label):
    return next(h["value"] for h in results["headlines"] if h["label"] == label)


def test_cnn_beats_the_mlp_on_real_mnist(shared_data, tmp_path):
    r = run_lesson(find("convolutions"), data=str(shared_data / "mnist"), quick=True, out=str(tmp_path),
                   seed=0, backend="numpy")
    assert r["data"] == str(shared_data / "mnist")
    mlp = _value(r, "MLP validation accuracy")
    assert mlp > 0.8                                   # the baseline itself learned something
    for name in ("CNN", "CNN + batch norm"):
        acc = _value(r, f"{name} validation accuracy")
        assert acc > mlp and acc >= 0.9, (name, acc, mlp)
