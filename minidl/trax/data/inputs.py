"""``trax.data.inputs``: ``add_loss_weights``, the mask the course's NER and LM losses use."""
from __future__ import annotations

import numpy as np


def add_loss_weights(generator, id_to_mask=None):
    """Yield (inputs, targets, weights): weights = 1 for a real target, 0 where targets == id_to_mask.

    Pairs (inputs, targets) get weights of ones (float32, the targets' shape) first; triples
    keep their weights, multiplied by the mask.  Longer or shorter tuples pass unchanged
    (and cannot be masked: id_to_mask must then be None)."""
    for example in generator:
        if len(example) > 3 or len(example) < 2:
            if id_to_mask is not None:
                raise ValueError(f"add_loss_weights: cannot mask a stream of {len(example)}-tuples "
                                 "(it takes (inputs, targets) or (inputs, targets, weights))")
            yield example
            continue
        targets = np.asarray(example[1])
        weights = np.ones_like(targets, dtype=np.float32) if len(example) == 2 else np.asarray(example[2], np.float32)
        mask = 1.0 if id_to_mask is None else 1.0 - np.equal(targets, id_to_mask).astype(np.float32)
        yield example[0], example[1], weights * mask
