"""The minidl benchmark harness: training-step timings of the course's models.

    python -m benchmarks run [--backends numpy,cupy] [--compare torch]
                             [--suite smoke|quick|full] [--out DIR] [--models a,b,...]
    python -m benchmarks list
    python -m benchmarks readme-table bench-out/results.json [--update README.md]

Modules, one idea each:

    timing.py        warm-up, calibrated and interleaved repeats, median/spread, GPU sync
    environment.py   CPU/GPU names, library versions, thread counts
    registry.py      what a benchmark model declares; the generic minidl training step
    models.py        the course's models (minidl builders) with their sizes and sweeps
    torch_models.py  the PyTorch twins (optional: PyTorch is imported lazily)
    efficiency.py    the BLAS-share column: the step's matmuls timed alone
    sweeps.py        suites, sweep points, measuring each point into result rows
    report.py        console table, JSON, CSV, README table
    plots.py         PNG plots (time vs size, GPU speed-up, minidl/PyTorch ratio)

``benchmarks.sweeps.run(...)`` is the programmatic entry point (returns the
results dict).  This file imports nothing on purpose: ``--threads`` must set
the BLAS thread variables before NumPy is first imported.
"""
