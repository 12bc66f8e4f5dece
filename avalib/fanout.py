"""Units of work run serially or on Dask (``dask.distributed``), with the same results.

A sweep is a list of units, each a call ``function(**key)`` whose result depends on its key only
(it seeds itself from the key). ``compute`` runs them where the scheduler says, each through the
cache (``avalib.cache.unit``: a unit that ran before is loaded, so an interrupted sweep resumes),
and returns the results in key order, never in completion order. Each task sets its torch thread
count first, so a table is bit-identical whether computed serially or on workers of the same
machine.

Schedulers (the notebooks' ``scheduler`` parameter, else ``$AVALIB_SCHEDULER``, else serial):

- ``serial``: in this process, one unit after another (no Dask needed at run time);
- ``local:N``: a ``LocalCluster`` of N single-threaded worker processes on this machine;
- ``tcp://host:port`` or a path to a scheduler file: an existing Dask cluster;
- ``slurm:N``: N SLURM jobs through ``dask-jobqueue``, configured by the user's Dask config
  (``jobqueue.slurm`` in ``~/.config/dask/``). Every worker must see the same ``AVALIB_CACHE_DIR``
  and data (a shared filesystem).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from avalib import cache, numerics
from avalib.training import log

SCHEDULER_VARIABLE = "AVALIB_SCHEDULER"


def check_scheduler(scheduler: str) -> str:
    """``scheduler`` if it is one of the forms above, else ValueError naming what is allowed."""
    kind, _, count = scheduler.partition(":")
    if scheduler == "serial" or scheduler.startswith(("tcp://", "tls://")) or scheduler.endswith(".json"):
        return scheduler
    if kind in ("local", "slurm") and count.isdigit() and int(count) >= 1:
        return scheduler
    raise ValueError(f"scheduler={scheduler!r} is unknown; allowed: serial, local:N, slurm:N "
                     "(N >= 1), tcp://host:port, or a scheduler file (.json)")


def resolve_scheduler(scheduler: str | None = None) -> str:
    """The scheduler to use, checked; ``slurm:N`` only where ``dask-jobqueue`` is installed."""
    scheduler = check_scheduler(scheduler or os.environ.get(SCHEDULER_VARIABLE) or "serial")
    if scheduler.startswith("slurm:") and importlib.util.find_spec("dask_jobqueue") is None:
        raise ValueError(f"scheduler={scheduler!r} needs dask-jobqueue, which is not installed: "
                         "pip install -e '.[cluster]' (or pip install dask-jobqueue)")
    return scheduler


def _unit(function: Callable, threads: int, key: dict[str, Any]) -> tuple[Any, float, bool, list]:
    """One unit through the cache, with the fingerprint rows it made (its own and those of units
    it asked for), taken out of this process's list: the caller keeps them, on a worker too."""
    numerics.pin(threads)
    with cache.recorded(keep=False) as records:
        outcome = cache.timed_unit(function, **key)
    return (*outcome, records)


# What this process's sweeps cost: units run, how many came from the cache, and the seconds every
# unit took when it was computed (a rerun from the cache reports the training it reused).
_LEDGER = {"units": 0, "from_cache": 0, "unit_seconds": 0.0, "computed_seconds": 0.0, "workers": 1}


def ledger() -> dict[str, float]:
    """The units of every ``compute`` of this process so far, those loaded from the cache, the
    seconds of computing them all (summed over units, as first computed; on N workers the wall
    time is about this / N), the seconds of those this process computed itself, and the most
    workers a sweep ran on (worker efficiency = computed seconds / (wall x workers))."""
    return {**_LEDGER, "unit_seconds": round(_LEDGER["unit_seconds"], 1),
            "computed_seconds": round(_LEDGER["computed_seconds"], 1)}


def _record(outcome: tuple[Any, float, bool, list]) -> tuple[Any, bool]:
    result, seconds, from_cache, records = outcome
    cache.RECORDS.extend(records)
    _LEDGER["units"] += 1
    _LEDGER["from_cache"] += int(from_cache)
    _LEDGER["unit_seconds"] += seconds
    _LEDGER["computed_seconds"] += 0.0 if from_cache else seconds
    return result, from_cache


def workers(scheduler: str) -> int:
    """How many workers ``scheduler`` starts (an existing cluster: 1 here; ``compute`` counts the
    workers of a cluster it connects to)."""
    kind, _, count = scheduler.partition(":")
    return int(count) if kind in ("local", "slurm") else 1


def _worker_environment() -> dict[str, Any]:
    """Dask's environment for worker processes without its ``MALLOC_TRIM_THRESHOLD_=65536``: with
    it glibc hands freed memory back to the system at once, so every large tensor is page-faulted
    in again, and a Zemouri Algorithm 2 iteration ran 2.3x slower on a worker than in a plain process
    (0.48 vs 0.21 s, measured); the thread caps (OMP_NUM_THREADS=1, ...) are kept, and the
    numerics mode's variables (``avalib.numerics``) are added."""
    import dask
    import distributed  # noqa: F401  (registers the distributed.* configuration)

    environment = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environment.pop("MALLOC_TRIM_THRESHOLD_", None)
    return {**environment, **numerics.environment()}


@contextlib.contextmanager
def cluster(scheduler: str) -> Iterator[Any]:
    """A Dask cluster that ``scheduler`` (``local:N`` or ``slurm:N``) starts, closed at the end:
    single-threaded workers that compute under this process's numerics mode."""
    import dask
    from dask.distributed import LocalCluster

    kind, _, count = scheduler.partition(":")
    if kind == "local":
        # silence_logs: the cluster's own messages below ERROR stay out of the terminal and the
        # notebooks, e.g. the nanny's "Worker process still alive after 4.0 seconds, killing" when
        # a worker that held torch's thread pool is slow to exit at shutdown (nothing is lost then).
        with dask.config.set({"distributed.nanny.pre-spawn-environ": _worker_environment()}), \
                LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True,
                             dashboard_address=None, silence_logs=logging.ERROR) as started:
            yield started
    elif kind == "slurm":
        from dask_jobqueue import SLURMCluster    # optional: pip install -e '.[cluster]'

        # every job script exports this process's numerics variables before its worker starts
        prologue = [*(dask.config.get("jobqueue.slurm.job-script-prologue", None) or []),
                    *(f"export {name}={value}" for name, value in numerics.environment().items())]
        with SLURMCluster(job_script_prologue=prologue) as started:
            started.scale(jobs=int(count))
            yield started
    else:
        raise ValueError(f"scheduler={scheduler!r} starts no cluster; allowed: local:N, slurm:N")


@contextlib.contextmanager
def _client(scheduler: str) -> Iterator[Any]:
    from dask.distributed import Client

    if scheduler.startswith(("local:", "slurm:")):
        with cluster(scheduler) as started, Client(started) as client:
            yield client
    elif Path(scheduler).suffix == ".json":
        with Client(scheduler_file=scheduler) as client:
            yield client
    else:
        with Client(scheduler) as client:
            yield client


def _short(key: dict[str, Any]) -> str:
    """A unit's key for the progress line: of a dataclass value only the fields that differ from
    the first field-for-field default (e.g. dataset, K_z, beta, seed), other values as they are."""
    parts = []
    for name, value in key.items():
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changed = [f"{f.name}={getattr(value, f.name)!r}" for f in dataclasses.fields(value)
                       if f.default is not dataclasses.MISSING and getattr(value, f.name) != f.default]
            parts.append(f"{type(value).__name__}({', '.join(changed)})")
        else:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)


def longest_first(keys: list[dict[str, Any]], cost: Callable[..., float] | None) -> list[int]:
    """The order in which units start: by ``cost(**key)`` (an estimate of a unit's work, in any
    unit), largest first, ties in key order; without ``cost``, key order. Started longest first,
    the sweep ends with short units, so the last worker to finish waits least for the others."""
    order = list(range(len(keys)))
    return order if cost is None else sorted(order, key=lambda i: -cost(**keys[i]))


Part = tuple[Callable, list[dict[str, Any]], Callable[..., float] | None]


def compute(function: Callable, keys: list[dict[str, Any]], scheduler: str | None = None,
            threads: int = 1, label: str = "units", cost: Callable[..., float] | None = None) -> list:
    """``[function(**key) for key in keys]``, run where ``scheduler`` says, started longest first
    by ``cost`` (``longest_first``; the results still come back in key order); one progress line
    per finished unit with the elapsed time and an estimate of what is left: the wall time per unit
    computed so far times the units still to come (a unit loaded from the cache takes no time, so
    a resumed sweep is not promised an end it cannot keep)."""
    return compute_together([(function, keys, cost)], scheduler, threads, label)[0]


def compute_together(parts: list[Part], scheduler: str | None = None, threads: int = 1,
                     label: str = "units") -> list[list]:
    """Several ``compute`` calls as one fan-out, so that no worker waits for another part to
    finish: ``parts`` are (function, keys, cost), started part by part in the order given (put the
    longest units' part first), each part longest first by its ``cost``; returns each part's
    results in key order."""
    scheduler = resolve_scheduler(scheduler)
    _LEDGER["workers"] = max(_LEDGER["workers"], workers(scheduler))
    items = [(function, key) for function, keys, _ in parts for key in keys]
    offsets = [0]
    for _, keys, _ in parts:
        offsets.append(offsets[-1] + len(keys))
    order = [offset + i for (_, keys, cost), offset in zip(parts, offsets) for i in longest_first(keys, cost)]
    start, results, computed = time.perf_counter(), {}, [0]

    def finished(index: int, outcome: tuple[Any, float, bool, list]) -> None:
        results[index], from_cache = _record(outcome)
        computed[0] += not from_cache
        elapsed = time.perf_counter() - start
        left = (f"~{elapsed / computed[0] * (len(items) - len(results)) / 60:.1f} min left"
                if computed[0] else "all from the cache so far")
        log(f"{label}: {len(results)}/{len(items)} done ({_short(items[index][1])}"
            f"{', from the cache' if from_cache else ''}), {elapsed / 60:.1f} min elapsed, {left}")

    if scheduler == "serial":
        for index in order:
            finished(index, _unit(items[index][0], threads, items[index][1]))
    else:
        from dask.distributed import as_completed

        with _client(scheduler) as client:
            # a cluster started elsewhere (a scheduler file or address, e.g. make reproduce's) says
            # how many workers it has
            _LEDGER["workers"] = max(_LEDGER["workers"], len(client.scheduler_info()["workers"]))
            futures = {client.submit(_unit, items[index][0], threads, items[index][1], pure=False): index
                       for index in order}
            for future in as_completed(futures):
                finished(futures[future], future.result())
    return [[results[i] for i in range(low, high)] for low, high in zip(offsets, offsets[1:])]
