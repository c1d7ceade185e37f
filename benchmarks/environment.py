"""What machine and software a timing came from: CPU/GPU names, versions, threads.

A benchmark number without its machine is meaningless, so every result row
carries these facts, among them the BLAS library and the kernel it runs
(threadpoolctl's ``architecture``) with any ``OPENBLAS_*`` variable that
overrides it: ``OPENBLAS_CORETYPE=Haswell`` on an AVX-512 CPU halves NumPy's
matrix products, so a table measured with it describes that setting, not the
machine.  Everything here is read without importing the heavy optional
libraries where possible (versions come from package metadata), and nothing
here fails when torch, CuPy or threadpoolctl are absent.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import os
import platform


def cpu_model() -> str:
    """The CPU's marketing name (from /proc/cpuinfo on Linux, else ``platform``)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def usable_cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:          # macOS, Windows
        return os.cpu_count() or 1


def gpu_name() -> str | None:
    """Name of the current CUDA device via CuPy, or None when there is no usable GPU."""
    from minidl import backend
    if backend.cupy_unavailable_reason() is not None:
        return None
    cp = backend.module("cupy")         # minidl's CuPy (in CI, the strict stand-in answers for it)
    try:
        props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
        name = props["name"]
        return name.decode() if isinstance(name, bytes) else str(name)
    except Exception:               # exotic builds: the name is nice to have, not essential
        return "CUDA device"


def device_name(framework: str, device: str) -> str:
    """Human-readable device a runner used: the GPU's name on GPU, the CPU's otherwise."""
    if device == "cupy":
        return gpu_name() or "CUDA device"
    if framework == "torch" and device.startswith("cuda"):
        torch = importlib.import_module("torch")
        return torch.cuda.get_device_name()
    return cpu_model()


def version_of(dist: str) -> str | None:
    """Installed version of a distribution, or None (never imports it)."""
    for name in (dist,) if dist != "cupy" else ("cupy", "cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def versions() -> dict:
    import numpy
    import minidl
    return {"python": platform.python_version(), "numpy": numpy.__version__,
            "minidl": minidl.__version__, "cupy": version_of("cupy"), "torch": version_of("torch")}


_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def blas_threads() -> tuple[int, str]:
    """How many threads NumPy's BLAS uses, and how we know.

    Best source: ``threadpoolctl`` (asks the loaded BLAS library itself), used
    only if it happens to be installed.  Otherwise the environment variables
    that OpenBLAS/MKL read at start-up; otherwise their default, one thread per
    usable core.
    """
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
        for info in threadpoolctl.threadpool_info():
            if info.get("user_api") == "blas":
                return int(info["num_threads"]), f"threadpoolctl ({info.get('internal_api')})"
    except ImportError:
        pass
    except Exception:               # a broken threadpoolctl must not stop a benchmark
        pass
    for var in _THREAD_ENV:
        val = os.environ.get(var, "").strip()
        if val.isdigit() and int(val) > 0:
            return int(val), f"${var}"
    return usable_cores(), "default (one per usable core)"


def thread_info(torch_module=None) -> dict:
    """Thread counts in force: BLAS (and its source), torch's intra-op pool, the env vars."""
    n, source = blas_threads()
    info = {"blas_threads": n, "blas_threads_source": source, "usable_cores": usable_cores(),
            "env": {v: os.environ[v] for v in _THREAD_ENV if v in os.environ}}
    if torch_module is not None:
        info["torch_threads"] = torch_module.get_num_threads()
    return info


# ----------------------------------------------------------------------------- the BLAS and its kernel
# OpenBLAS picks a kernel for the CPU it finds (SkylakeX on an AVX-512 machine, Haswell on
# AVX2...) unless told otherwise; these variables override the choice (or the instruction set).
KERNEL_VARS = ("OPENBLAS_CORETYPE", "MKL_ENABLE_INSTRUCTIONS", "MKL_DEBUG_CPU_TYPE", "BLIS_ARCH_TYPE")


def blas_info() -> dict:
    """NumPy's BLAS as the library itself reports it (threadpoolctl): name, version, kernel, threading.

    ``kernel`` is threadpoolctl's ``architecture`` (OpenBLAS and BLIS report it; MKL
    does not).  With threadpoolctl missing every field is None and ``source`` says why.
    """
    empty = {"library": None, "version": None, "kernel": None, "threading_layer": None, "file": None}
    importlib.import_module("numpy")          # its BLAS is loaded with it
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
        found = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        return dict(empty, source="unknown: threadpoolctl is not installed (pip install threadpoolctl)")
    except Exception as exc:         # a broken threadpoolctl must not stop a benchmark
        return dict(empty, source=f"unknown: threadpoolctl failed ({type(exc).__name__}: {exc})")
    if not found:
        return dict(empty, source="threadpoolctl found no BLAS library loaded")
    # torch may load a BLAS of its own: NumPy's is the one inside numpy's package folder
    info = next((i for i in found if "numpy" in str(i.get("filepath", ""))), found[0])
    return {"library": info.get("internal_api"), "version": info.get("version"),
            "kernel": info.get("architecture"), "threading_layer": info.get("threading_layer"),
            "file": os.path.basename(str(info.get("filepath") or "")) or None, "source": "threadpoolctl"}


NAMES = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS"}


def blas_name(blas: dict) -> str:
    return NAMES.get(blas.get("library"), blas.get("library") or "BLAS")


def blas_env() -> dict:
    """Every OPENBLAS_* variable, and the other libraries' kernel switches, as set for this run."""
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_") or k in KERNEL_VARS}


def cpu_flags() -> set:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def kernel_warning(blas: dict, env: dict, flags: set) -> str | None:
    """A warning when a variable forces the BLAS kernel (the numbers then describe that kernel, not this machine's)."""
    forced = {k: env[k] for k in KERNEL_VARS if k in env}
    if not forced:
        return None
    setting = ", ".join(f"{k}={v}" for k, v in forced.items())
    running = f"NumPy's {blas_name(blas)} runs its {blas['kernel']} kernel" if blas.get("kernel") \
        else "which kernel NumPy's BLAS runs is unknown (threadpoolctl could not say)"
    avx512 = " on a CPU with AVX-512" if "avx512f" in flags else ""
    return (f"the BLAS kernel is forced by {setting}: {running}{avx512}; matrix products (and every "
            f"BLAS-bound row) may run slower than this machine's default. Unset {', '.join(forced)} to measure "
            "the library's own choice, or keep it to match a machine that sets it (CI does).")


def machine_summary(torch_module=None) -> dict:
    """The facts written once at the top of results.json (rows repeat the essentials)."""
    blas, env = blas_info(), blas_env()
    flags = cpu_flags()
    return {"cpu": cpu_model(), "cpu_avx512": "avx512f" in flags if flags else None, "gpu": gpu_name(),
            "platform": platform.platform(), "versions": versions(), "threads": thread_info(torch_module),
            "blas": blas, "blas_env": env, "kernel_warning": kernel_warning(blas, env, flags)}


def request_threads(n: int) -> str | None:
    """Ask for ``n`` BLAS threads (and, through ``blas_threads()``, as many for torch).

    OpenBLAS and MKL read their thread count once, when NumPy is first
    imported, so the reliable way is to set the environment variables *before*
    that -- which ``python -m benchmarks run --threads N`` does.  If NumPy is
    already loaded (a harness called from Python), threadpoolctl can still
    change it when installed; otherwise we say so and change nothing.
    Returns a note when the request could not be honoured, else None.
    """
    import sys
    if "numpy" not in sys.modules:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(n)
        return None
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError:
        return (f"--threads {n} ignored: NumPy was already imported and threadpoolctl is not "
                "installed; set OMP_NUM_THREADS before starting Python instead")
    threadpoolctl.threadpool_limits(n, user_api="blas")
    return None
