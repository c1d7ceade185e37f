"""``minidl.trax``: the course's Trax code, run by minidl -- Trax's names and stack semantics, minidl's engine.

    import minidl.trax; minidl.trax.register()      # first line of a notebook: `import trax` is now this

    import trax
    from trax import layers as tl
    import trax.fastmath.numpy as np
    from trax.supervised import training

After ``register()``, ``trax`` and its submodules resolve to this package for
the rest of the process (entries in ``sys.modules``): ``trax.layers``
(= ``trax.layers.combinators``, ``.core``, ``.rnn``, ``.metrics``, ``.base``),
``trax.fastmath`` (``numpy``, ``random``, ``grad``, ``logsumexp``),
``trax.shapes``, ``trax.optimizers``, ``trax.lr``, ``trax.supervised.training``,
``trax.supervised.trainer_lib``, ``trax.data.inputs``.  Plain ``import minidl``
registers nothing and does not import this package.

The facade is thin: each Trax layer calls a ``minidl.nn`` layer or ``minidl.ops``
(no second engine), training runs minidl's autograd, and checkpoints use
minidl's pickle-free format.  The README section "Running the course's Trax
code" lists what is supported and what differs (random values above all: the
same seed gives other numbers than JAX).
"""
from __future__ import annotations

import sys

from . import data, fastmath, layers, optimizers, shapes, supervised  # noqa: F401
from .layers import base, combinators, core, metrics, rnn  # noqa: F401
from .supervised import lr_schedules as lr


def _modules():
    """{"trax.x.y": module} for every public module of this package, plus the alias ``trax.lr``."""
    found = {"trax": sys.modules[__name__], "trax.lr": lr}
    for name, module in list(sys.modules.items()):
        if name.startswith(__name__ + ".") and module is not None:
            tail = name[len(__name__) + 1:]
            if not any(part.startswith("_") for part in tail.split(".")):
                found["trax." + tail] = module
    return found


def register(verbose: bool = True):
    """Make ``import trax`` (and ``trax.layers``, ``trax.fastmath.numpy``, ...) give this facade, for this process."""
    before = sys.modules.get("trax")
    replaced = before is not None and before is not sys.modules[__name__]
    sys.modules.update(_modules())
    if verbose:
        print("minidl.trax.register(): `import trax` now gives minidl's Trax facade (layers, fastmath, shapes, "
              "optimizers, lr, supervised, data) in this process" + (", replacing the trax imported before" if replaced else ""))


def unregister():
    """Undo ``register``: remove the ``trax`` entries that point at this facade."""
    ours = set(map(id, _modules().values()))
    for name in [n for n, m in sys.modules.items() if (n == "trax" or n.startswith("trax.")) and id(m) in ours]:
        del sys.modules[name]
