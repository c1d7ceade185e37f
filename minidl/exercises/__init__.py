"""Gradient-check exercises: write the backward pass yourself, and let minidl grade it.

    python -m minidl.exercises list                  # every exercise and your status
    python -m minidl.exercises start sigmoid         # copy the template to ./minidl_exercises/
    python -m minidl.exercises check sigmoid         # md.gradcheck on your backward, with hints
    python -m minidl.exercises hint sigmoid          # the next hint (never the answer)

Thirteen exercises, easy to hard: broadcasting (the sum_to trap), matmul,
sigmoid, tanh, ReLU, softmax cross-entropy, a masked mean, embedding lookup
with repeated ids, the GloVe loss, one RNN step, one LSTM step, the Siamese
triplet loss and a convolution via im2col.  Each template (``templates/``)
gives the forward and a docstring with the equation to differentiate and every
shape; ``backward`` raises NotImplementedError("your code here") until you
write it.  Reference solutions live apart, in ``solutions/`` (spoilers).
"""
from .catalog import EXERCISES, Exercise, find  # noqa: F401
from .grader import check, hint, start, load_class, DEFAULT_DIR  # noqa: F401
