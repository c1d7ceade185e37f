"""Exercise 10 -- one step of a vanilla RNN.

Forward (given):   h_t = tanh([h_{t-1}, x_t] @ W + b)
                   x_t (B, D),  h_{t-1} (B, H),  W (H + D, H),  b (H,)  ->  h_t (B, H)
                   [h, x] is the concatenation (B, H + D); rows W[:H] act on h,
                   rows W[H:] on x (minidl's one-fused-weight convention).

Derive:  dL/dx_t, dL/dh_{t-1}, dL/dW, dL/db from gy = dL/dh_t (B, H).
         Go backwards through the three steps: tanh, the affine map, the concat.
         You have done each piece before (exercises 04, 02, 01).

Return:  (dx, dh, dW, db), in the order of forward's arguments.
Used in: nn.RNNCell (minidl/nn/cells.py), scanned over time by nn.RNN in lesson
         02_char_language_model.  Through time, dL/dh_{t-1} is what carries the
         gradient back -- and what vanishes.

    python -m minidl.exercises check rnn_step
    python -m minidl.exercises hint rnn_step
"""
import numpy as np

import minidl as md


class RNNStep(md.Function):
    def forward(self, x, h, W, b):
        self.H = h.shape[1]
        self.hx = np.concatenate([h, x], axis=1)             # [h_{t-1}, x_t] (B, H + D)
        self.W = W
        self.h_new = np.tanh(self.hx @ W + b)                # (B, H)
        return self.h_new

    def backward(self, gy):
        """gy: dL/dh_t (B, H).  Return (dL/dx, dL/dh, dL/dW, dL/db)."""
        raise NotImplementedError("your code here")
