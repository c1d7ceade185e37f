"""Exercise 11 -- one LSTM step, two outputs.

Forward (given), the slides' equations with one fused weight:
    z = [h_{t-1}, x_t] @ W + b                       (B, 4H), gate slices in the order f, i, g, o
    f = sigma(z_f)    i = sigma(z_i)    g = tanh(z_g)    o = sigma(z_o)        each (B, H)
    c_t = f * c_{t-1} + i * g                         (B, H)
    h_t = o * tanh(c_t)                               (B, H)

    x_t (B, D),  h_{t-1}, c_{t-1} (B, H),  W (H + D, 4H),  b (4H,)  ->  (h_t, c_t)

Derive:  dL/dx_t, dL/dh_{t-1}, dL/dc_{t-1}, dL/dW, dL/db from BOTH incoming
         gradients gh = dL/dh_t and gc = dL/dc_t (each (B, H)): in a sequence,
         c_t feeds h_t now AND the next step's c_{t+1}, so dL/dc_t has two parts.
         Then the gates (exercises 03, 04), then the affine map and the concat
         (exercise 10).

Return:  (dx, dh, dc, dW, db), in the order of forward's arguments.
Used in: nn.LSTMCell (minidl/nn/cells.py, scanned by nn.LSTM) and its fused twin
         in minidl/fast/fused_rnn.py, which writes exactly this backward by hand.

    python -m minidl.exercises check lstm_step
    python -m minidl.exercises hint lstm_step
"""
import numpy as np

import minidl as md


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class LSTMStep(md.Function):
    def forward(self, x, h, c, W, b):
        H = h.shape[1]
        self.hx, self.W, self.c = np.concatenate([h, x], axis=1), W, c
        z = self.hx @ W + b                                   # (B, 4H)
        self.f, self.i = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
        self.g, self.o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
        c_new = self.f * c + self.i * self.g
        self.tanh_c = np.tanh(c_new)
        h_new = self.o * self.tanh_c
        return h_new, c_new

    def backward(self, gh, gc):
        """gh = dL/dh_t, gc = dL/dc_t, each (B, H).  Return (dx, dh, dc, dW, db)."""
        raise NotImplementedError("your code here")
