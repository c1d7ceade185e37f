"""The speed wing: every trick that makes minidl faster without changing a number.

Skip this folder on a first read.  What a lesson runs by default is the
textbook path: autograd's walk (minidl/autograd.py), the ops with their
backward beside their forward (minidl/ops/), the cells scanned over time
(minidl/nn/cells.py, minidl/nn/scan.py).  Each trick below is switched on by
name, is tested equal to its plain twin in value and gradient, and is imported
only when its switch is on.  Arrows run from here to the core, never back
(tests/test_design.py reads the imports and fails otherwise).

    fused_rnn.py         nn.LSTM(n, fused=True), nn.GRU(n, fused=True)
                         one Function per sequence, BPTT written by hand
    cupy_kernels.py      fused=True on the cupy backend
                         one kernel launch per step for the gate maths
    sparse_embedding.py  nn.Embedding(V, d, sparse_grad=True)
                         dL/dW kept as the looked-up rows; row-wise optimizer updates
    replay.py            md.scan(..., replay=True), nn.LSTM/GRU/RNN(n, replay=True)
                         step 0's ops recorded, later steps replayed as one node each

What each buys, measured, is in its docstring and in the README's table.
"""
