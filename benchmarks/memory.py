"""Peak memory of one training step, measured the same way for minidl and PyTorch.

What the column means:

    peak MB = the most memory the step's own allocations held at one moment

i.e. what one training step needs on top of the model: the activations saved
for backward, the gradients, and every temporary, at the worst moment.  The
parameters and optimizer state (allocated before the step) are not counted,
and neither are the previous step's gradients: they are dropped before the
measured step starts (``step.zero_grad()``), so nothing allocated before the
step is freed during it, and both frameworks are measured from the same start.

How, per runner (each counts the bytes its framework's allocator handed out):

    minidl/numpy   tracemalloc: NumPy reports every array buffer it allocates to
                   Python's tracemalloc; reset_peak() before the step, peak after
    torch/cpu      torch.profiler(profile_memory=True): the step's allocation and
                   free events, summed in time order; the peak of that running sum
    minidl/cupy    a CuPy MemoryHook summing the pool's live bytes (malloc/free)
    torch/cuda     torch.cuda.reset_peak_memory_stats() / max_memory_allocated()

The measurement is one extra step per runner after the timed repeats (tracing
slows a step down, so it is never part of a timing).  Memory that a library
keeps outside its allocator (BLAS work buffers, the CUDA context) is in no row.
"""
from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
import tempfile

METHODS = {("minidl", "numpy"): "tracemalloc", ("torch", "cpu"): "torch.profiler",
           ("minidl", "cupy"): "cupy pool hook", ("torch", "cuda"): "torch.cuda peak"}


def method(framework: str, device: str) -> str | None:
    return METHODS.get((framework, "cuda" if device.startswith("cuda") else device))


def peak_step_bytes(framework: str, device: str, step) -> int:
    """Peak bytes allocated by one call of ``step`` (see the module docstring)."""
    if hasattr(step, "zero_grad"):
        step.zero_grad()                 # the previous step's gradients are not the step's
    gc.collect()
    how = method(framework, device)
    if how == "tracemalloc":
        return _tracemalloc_peak(step)
    if how == "torch.profiler":
        return _torch_cpu_peak(step)
    if how == "cupy pool hook":
        return _cupy_peak(step)
    if how == "torch.cuda peak":
        return _torch_cuda_peak(step)
    raise ValueError(f"no memory measurement for {framework}/{device}")


def _tracemalloc_peak(step) -> int:
    import tracemalloc
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        step()
        return max(0, tracemalloc.get_traced_memory()[1] - before)
    finally:
        if not was_tracing:
            tracemalloc.stop()


def _running_peak(events) -> int:
    """events: (time, +bytes allocated / -bytes freed); the peak of the running total."""
    total = peak = 0
    for _, nbytes in sorted(events, key=lambda e: e[0]):
        total += nbytes
        peak = max(peak, total)
    return peak


@contextlib.contextmanager
def _quiet_profiler(drop=("USDT:", "STAGE:")):
    """Hold back Kineto's progress lines while torch.profiler runs.

    Kineto, PyTorch's profiler library, writes ``USDT: ... profiler_start`` and
    ``profiler_stop`` (and ``STAGE:`` lines) from C++ straight to file descriptor 2,
    at every profiled step: 52 lines in a full run.  So file descriptor 2 goes to a
    temporary file for the step, and what Kineto wrote is copied back without those
    lines (any warning or error still shows).  ``KINETO_LOG_LEVEL=6`` would also
    silence them, but only if set before the profiler's first use, and it hides
    Kineto's errors as well.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [line for line in held.read().decode(errors="replace").splitlines() if not line.startswith(drop)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


def _torch_cpu_peak(step) -> int:
    torch = importlib.import_module("torch")
    from torch.profiler import ProfilerActivity, profile
    with _quiet_profiler(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = []
    for e in prof.profiler.kineto_results.events():       # the raw records: +bytes alloc, -bytes free
        if e.name() == "[memory]" and e.device_type() == torch.autograd.DeviceType.CPU:
            events.append((e.start_ns() if hasattr(e, "start_ns") else e.start_us(), e.nbytes()))
    if not events:
        raise RuntimeError("the torch profiler recorded no CPU memory events")
    return _running_peak(events)


def _torch_cuda_peak(step) -> int:
    torch = importlib.import_module("torch")
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    step()
    torch.cuda.synchronize()
    return max(0, torch.cuda.max_memory_allocated() - before)


def _cupy_peak(step) -> int:
    from minidl import backend
    cp = backend.module("cupy")

    class LiveBytes(cp.cuda.MemoryHook):
        name = "minidl-benchmark-live-bytes"

        def __init__(self):
            self.live = self.peak = 0
            self.sizes = {}                  # pointer -> bytes, for blocks allocated in the step

        def malloc_postprocess(self, **kw):
            self.sizes[kw["mem_ptr"]] = kw["mem_size"]
            self.live += kw["mem_size"]
            self.peak = max(self.peak, self.live)

        def free_postprocess(self, **kw):
            # a block allocated before the step is not the step's (as with tracemalloc)
            self.live -= self.sizes.pop(kw["mem_ptr"], 0)

    cp.cuda.Device().synchronize()
    hook = LiveBytes()
    with hook:
        step()
        cp.cuda.Device().synchronize()
    return hook.peak
