"""Which CPU kernels a process computes with: ``portable`` (one kernel path on any x86-64 CPU
with AVX2) or ``native`` (the machine's fastest paths, whose last bits depend on the CPU model).

A float result depends on the kernel path the CPU selects, and adversarial training amplifies the
last bits to a seed-sized spread. ``portable`` pins every path to one instruction-set level and
one thread:

- ATen's vectorised operators at their AVX2 level (``ATEN_CPU_CAPABILITY=avx2``), not AVX-512:
  the same compiled code on every CPU that has AVX2 and FMA;
- MKL's GEMM in Conditional Numerical Reproducibility mode ``COMPATIBLE`` (``MKL_CBWR``): MKL's
  documentation says only ``AUTO`` and ``COMPATIBLE`` are supported on non-Intel CPUs; ``AVX2``
  silently falls back to ``AUTO`` there, so it would not make an AMD and an Intel CPU agree;
- oneDNN's convolutions at its AVX2 level (``ONEDNN_MAX_CPU_ISA=AVX2``). oneDNN documents identical
  bits only "on a given platform"; what the study relies on is narrower and checked: at one thread
  every convolution the study runs is oneDNN's ``jit:avx2`` kernel (``ONEDNN_KERNELS``; a test
  reads oneDNN's verbose log for every network family), whose blocking follows from the shapes,
  the ISA and the register count (its only cache-size read sets the thread count, and is inactive
  at one thread). oneDNN's ``brgemm`` kernels, which size their blocks from the CPU's caches, would
  serve the stride-2 convolutions of the comparison networks: those run ATen's im2col + MKL path
  instead (``avalib.comparison.networks``). Turning oneDNN off altogether (ATen's im2col for every
  convolution) costs 3-5x in speed (``benchmarks/numerics_speed.py``). Whether two vendors agree
  is a measurement, not a promise: the committed smoke fingerprints (``avalib.smoke_units``)
  are compared bit for bit by ``make test`` on whatever CPU runs it;
- NNPACK off; one thread per process (``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` = 1,
  ``torch.set_num_threads``);
- no MKL vector square root: on the ``COMPATIBLE`` branch it is not correctly rounded and its bits
  follow the CPU model, so the study takes its roots, Adam's included, from ``avalib.kernels``.
  ``tests/test_emulated_cpu.py`` runs every kernel under qemu's emulation of an AMD EPYC (AMD's
  CPUID, each instruction computed to its specification) against this CPU's bits.

``$AVALIB_NUMERICS`` chooses; the default is ``portable``. A CPU without AVX2 and FMA, or a
non-x86 machine, gets ``native`` and says so (``describe``). The variables must be in a process's
environment before its first torch operator: ``configure`` puts them there when ``avalib`` is
imported, so the notebook kernel, the Dask workers and the runner inherit them; ``pin`` checks
inside the process, before a unit trains, that they took effect and refuses the unit otherwise
(``NumericsError``). The mode is part of every unit's cache key and of provenance.
"""

from __future__ import annotations

import functools
import os
import platform
from pathlib import Path

NUMERICS_VARIABLE = "AVALIB_NUMERICS"
MODES = ("portable", "native")
DEFAULT = "portable"
PORTABLE_ENVIRONMENT = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "COMPATIBLE",
                        "ONEDNN_MAX_CPU_ISA": "AVX2", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# The oneDNN convolution kernels a portable process may run (``impl`` in ``ONEDNN_VERBOSE``'s exec
# lines): those whose configuration depends on the shapes and the ISA only. Its other primitives are
# reorders, float32 copies between layouts.
ONEDNN_KERNELS = ("jit:avx2", "conv:any+jit:avx2")


def onednn_primitives(log: str) -> set[tuple[str, str]]:
    """(primitive kind, implementation) of every primitive ``ONEDNN_VERBOSE=1`` output says ran."""
    return {tuple(line.split(",")[5:7]) for line in log.splitlines()
            if line.startswith("onednn_verbose,v1,primitive,exec,cpu,")}


class NumericsError(RuntimeError):
    """A process whose kernels are not the ones its numerics mode promises; it must not train."""


def requested() -> str:
    """The mode ``$AVALIB_NUMERICS`` asks for (``DEFAULT`` when unset), checked."""
    value = os.environ.get(NUMERICS_VARIABLE) or DEFAULT
    if value not in MODES:
        raise ValueError(f"{NUMERICS_VARIABLE}={value!r} is unknown; allowed: {', '.join(MODES)}")
    return value


@functools.lru_cache(maxsize=1)
def _cpu_flags() -> frozenset[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def _cpuinfo(field: str) -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.split(":", 1)[0].strip() == field:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def vector_level() -> str:
    """The widest x86 vector level the CPU offers (AVX-512, AVX2, AVX, SSE; "" off x86)."""
    flags = _cpu_flags()
    return next((name for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"),
                                         ("sse2", "SSE2")) if flag in flags), "")


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU: its model name, family and model number and widest vector level, e.g. "AMD EPYC
    (family 23, model 1, AVX2)": a virtual machine may name two CPU generations alike, and the
    vector level decides which kernels ``native`` runs (read once: ``mode`` runs on every forward
    pass of a strided convolution)."""
    name = _cpuinfo("model name") or platform.processor() or "unknown"
    details = [f"family {_cpuinfo('cpu family')}" if _cpuinfo("cpu family") else "",
               f"model {_cpuinfo('model')}" if _cpuinfo("model") else "", vector_level()]
    details = [d for d in details if d]
    return f"{name} ({', '.join(details)})" if details else name


def portable_supported() -> tuple[bool, str]:
    """Whether this machine can run ``portable``, and if not why."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return False, f"portable numerics needs an x86-64 CPU; this is {platform.machine()}"
    missing = {"avx2", "fma"} - _cpu_flags()
    if missing:
        return False, f"portable numerics needs AVX2 and FMA; this CPU lacks {', '.join(sorted(missing))}"
    return True, ""


def mode() -> str:
    """The mode this process computes in: the requested one, or ``native`` where portable is
    not supported."""
    return "portable" if requested() == "portable" and portable_supported()[0] else "native"


def environment() -> dict[str, str]:
    """The variables a child process needs to compute in this process's mode."""
    return {NUMERICS_VARIABLE: mode(), **(PORTABLE_ENVIRONMENT if mode() == "portable" else {})}


def unpinned_environment(**variables: str) -> dict[str, str]:
    """This process's environment without the numerics variables, then ``variables``: where a
    child process that chooses its own numerics starts."""
    kept = {k: v for k, v in os.environ.items() if k not in PORTABLE_ENVIRONMENT and k != NUMERICS_VARIABLE}
    return {**kept, **variables}


def configure() -> None:
    """Put this mode's variables into ``os.environ`` (run when ``avalib`` is imported): torch's
    CPU capability and MKL's CNR branch are read at their first use, and child processes inherit
    them."""
    os.environ.update(environment())


def pin(threads: int = 1) -> None:
    """Set this process's kernels for a unit of work and check that they took effect: in
    ``portable`` one thread, oneDNN on (at AVX2), NNPACK off, ATen at AVX2, MKL's CNR branch COMPATIBLE;
    raise ``NumericsError`` naming what differs. In ``native``: ``threads`` threads, nothing else."""
    import torch

    if mode() == "native":
        torch.set_num_threads(threads)
        return
    if threads != 1:
        raise NumericsError(f"threads={threads}: portable numerics runs one torch thread per "
                            f"process (start more workers instead), or set {NUMERICS_VARIABLE}=native")
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = True
    torch.backends.nnpack.set_flags(False)
    problems = [f"${name}={os.environ.get(name)!r} (needs {value!r})"
                for name, value in PORTABLE_ENVIRONMENT.items() if os.environ.get(name) != value]
    capability = torch.backends.cpu.get_cpu_capability()
    if capability != "AVX2":
        problems.append(f"torch's CPU capability is {capability} (needs AVX2: torch ran an operator "
                        f"before ATEN_CPU_CAPABILITY was set; import avalib before anything uses torch)")
    if problems:
        raise NumericsError("this process cannot compute with portable numerics: "
                            + "; ".join(problems) + f". Start it with the variables set, or set "
                            f"{NUMERICS_VARIABLE}=native")


def describe() -> dict[str, str]:
    """The mode for provenance and cache keys, with why where it is not the requested one."""
    record = {"numerics": mode()}
    if requested() != mode():
        record["numerics_reason"] = portable_supported()[1]
    return record
