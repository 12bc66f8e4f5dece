"""Units of work cached on disk: the one place where the study stores what it trained.

A unit is a call ``function(**arguments)`` whose result depends on its arguments only (it seeds
itself from them): the fan-out (``avalib.fanout``) runs units, and a unit that needs another's
result asks for it with ``unit`` too (a Zemouri setting needs its step-1 model). The result is
stored as ``<cache>/<function>-<sha256 of its key>[:16].pt``, written by write-then-rename, so an
interrupted run never leaves a half-written file and a rerun resumes where it stopped.

The key is the unit's name and arguments (configs as their fields), a hash of the source of every
``avalib`` module the unit's code can reach (``code_version``: the unit's module, the modules of its
arguments' types, and every ``avalib`` module they import, directly or through another, each
package's ``__init__`` included; docstrings and comments left out, so editing prose does not
retrain; editing a table, a figure or a claim rule, which no unit imports, does not either), the
torch version,
the device, the torch thread count, the CPU's vector capability and the numerics mode
(``avalib.numerics``; each can change the last bits of a float result), and the sha256 of every
data file the datasets named in the arguments are loaded from (``data.file_digests``: a replaced
dataset file is never served models trained on the old one). The cache is ``build/cache/`` in the repository (git-ignored) or
``$AVALIB_CACHE_DIR``; delete it to retrain everything. ``$AVALIB_NO_CACHE=1`` computes every
unit afresh and stores nothing (e.g. to time the training).
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import pickle
import time
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from avalib import numerics
from avalib.atomic import atomic_path
from avalib.data import file_digests
from avalib.download import REPOSITORY_ROOT

CACHE_DIR_VARIABLE = "AVALIB_CACHE_DIR"
NO_CACHE_VARIABLE = "AVALIB_NO_CACHE"
PACKAGE = Path(__file__).resolve().parent


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_DIR_VARIABLE) or REPOSITORY_ROOT / "build" / "cache")


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return tree


def _module_path(name: str) -> Path | None:
    """The source file of the ``avalib`` module ``name`` (a package: its ``__init__``)."""
    parts = name.split(".")
    if parts[0] != PACKAGE.name:
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported(name: str, tree: ast.AST, is_package: bool) -> set[str]:
    """The ``avalib`` modules a module's code imports (anywhere in it, functions included), with
    the packages their import runs (``avalib.a.b`` runs ``avalib`` and ``avalib.a`` first)."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)   # from pkg import module
    closed = set()
    for module in found:
        parts = module.split(".")
        closed.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return {module for module in closed if _module_path(module) is not None}


@functools.lru_cache(maxsize=None)
def code_version(*modules: str) -> str:
    """sha256 (16 hex digits) of the ``avalib`` modules reachable from ``modules`` by imports:
    their names and syntax trees without docstrings, in sorted order."""
    seen: dict[str, ast.AST] = {}
    todo = [m for m in modules if _module_path(m) is not None]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_path(name)
        seen[name] = _without_docstrings(ast.parse(path.read_text(encoding="utf-8")))
        todo.extend(_imported(name, seen[name], path.name == "__init__.py") - set(seen))
    digest = hashlib.sha256()
    for name in sorted(seen):
        digest.update(name.encode() + b"\0" + ast.dump(seen[name]).encode())
    return digest.hexdigest()[:16]


def _modules(function: Callable, arguments: dict[str, Any]) -> tuple[str, ...]:
    """The unit's module and the modules that define its arguments' types (configs)."""
    names = {function.__module__}

    def visit(value: Any) -> None:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            names.add(type(value).__module__)
            for f in dataclasses.fields(value):
                visit(getattr(value, f.name))
        elif isinstance(value, dict):
            for v in value.values():
                visit(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                visit(v)

    for value in arguments.values():
        visit(value)
    return tuple(sorted(names))


def _as_data(value: Any, spelled: bool = False) -> Any:
    """A unit's argument as JSON-able data: a config as its type name and fields (the key), or, when
    ``spelled``, as its class's import path and fields with tuples marked, which ``call_of`` turns
    back into the argument."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        head = ({"__class__": f"{type(value).__module__}.{type(value).__qualname__}"} if spelled
                else {"type": type(value).__name__})
        return {**head, **{f.name: _as_data(getattr(value, f.name), spelled) for f in dataclasses.fields(value)}}
    if isinstance(value, dict):
        return {str(k): _as_data(v, spelled) for k, v in value.items()}
    if isinstance(value, tuple) and spelled:
        return {"__tuple__": [_as_data(v, spelled) for v in value]}
    if isinstance(value, (list, tuple)):
        return [_as_data(v, spelled) for v in value]
    return value


def _device(arguments: dict[str, Any]) -> str:
    """The device a unit runs on: the ``device`` field of its first config that has one."""
    for value in arguments.values():
        if hasattr(value, "device") and isinstance(getattr(value, "device"), str):
            return value.device
    return "cpu"


def machine_key(device: str = "cpu") -> dict[str, Any]:
    """What of the machine can change a result's bits."""
    return {"torch": torch.__version__, "device": device, "torch_threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), **numerics.describe()}


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a unit's plain arguments (dataset names among them)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def unit_name(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def unit_key(function: Callable, arguments: dict[str, Any]) -> dict[str, Any]:
    plain = _as_data(arguments)
    return {"unit": unit_name(function), "arguments": plain,
            "code": code_version(*_modules(function, arguments)), **machine_key(_device(arguments)),
            "data": file_digests(set(_strings(plain)))}


def _digest(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]


def key_digest(function: Callable, arguments: dict[str, Any]) -> str:
    """sha256 (16 hex digits) of the unit's key: the name its cache file and fingerprint row carry."""
    return _digest(unit_key(function, arguments))


def cache_path(function: Callable, arguments: dict[str, Any]) -> Path:
    return _path(function, key_digest(function, arguments))


def _path(function: Callable, digest: str) -> Path:
    return cache_dir() / f"{function.__qualname__}-{digest}.pt"


def call_spelling(function: Callable, arguments: dict[str, Any]) -> str:
    """``function(**arguments)`` as one JSON string (the ``call`` column of ``fingerprints.csv``)."""
    return json.dumps({"function": unit_name(function), "arguments": _as_data(arguments, spelled=True)},
                      sort_keys=True)


def call_of(spelling: str) -> tuple[Callable, dict[str, Any]]:
    """The unit a ``call_spelling`` names: (function, arguments), ready to run again."""
    import importlib

    def resolved(path: str) -> Any:
        module, _, name = path.rpartition(".")
        while module:
            try:
                target = importlib.import_module(module)
                break
            except ModuleNotFoundError:
                module, _, outer = module.rpartition(".")
                name = f"{outer}.{name}"
        for part in name.split("."):
            target = getattr(target, part)
        return target

    def rebuilt(value: Any) -> Any:
        if isinstance(value, dict) and "__class__" in value:
            return resolved(value["__class__"])(**{k: rebuilt(v) for k, v in value.items() if k != "__class__"})
        if isinstance(value, dict) and "__tuple__" in value:
            return tuple(rebuilt(v) for v in value["__tuple__"])
        if isinstance(value, dict):
            return {k: rebuilt(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rebuilt(v) for v in value]
        return value

    plain = json.loads(spelling)
    return resolved(plain["function"]), rebuilt(plain["arguments"])


# Every unit this process ran or loaded, in order: what ``fingerprints.csv`` lists (a Dask worker's
# rows travel back with its result, ``avalib.fanout``).
RECORDS: list[dict[str, Any]] = []


@contextlib.contextmanager
def recorded(keep: bool = True) -> Iterator[list[dict[str, Any]]]:
    """The rows of ``RECORDS`` made inside the block, in a list filled when it ends; ``keep=False``
    takes them out of ``RECORDS`` (the caller passes them on: a worker returns them)."""
    start, made = len(RECORDS), []
    try:
        yield made
    finally:
        made.extend(RECORDS[start:])
        if not keep:
            del RECORDS[start:]


def _remember(function: Callable, arguments: dict[str, Any], digest: str, result_fingerprint: str,
              seconds: float, from_cache: bool, cpu_model: str | None = None) -> None:
    """One row of ``RECORDS``; ``cpu_model`` is the CPU that computed the result (a cache hit
    reports the one stored with it; this one where none was)."""
    RECORDS.append({"unit": function.__qualname__, "key": digest,
                    "fingerprint": result_fingerprint, "seconds": round(seconds, 2),
                    "from_cache": from_cache, **numerics.describe(),
                    "cpu_model": cpu_model or numerics.cpu_model(),
                    "call": call_spelling(function, arguments)})


# Fields of a result that measure the wall clock, not the computation: left out of its fingerprint.
WALL_CLOCK = frozenset({"seconds", "train_seconds", "train_seconds_per_epoch", "sample_ms_per_1000"})


def fingerprint(result: Any) -> str:
    """sha256 of a unit's result: every tensor's dtype, shape and bytes (a network's by its
    ``state_dict``), every other value by its repr, walked in a fixed order, without the timings
    of ``WALL_CLOCK``; two results with the same fingerprint are the same computation bit for bit."""
    digest = hashlib.sha256()

    def visit(value: Any) -> None:
        if isinstance(value, torch.nn.Module):
            visit(value.state_dict())
        elif isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().contiguous()
            digest.update(f"tensor {tensor.dtype} {tuple(tensor.shape)}".encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
        elif isinstance(value, dict):
            for k in sorted(value, key=str):
                if k not in WALL_CLOCK:
                    digest.update(f"key {k!r}".encode())
                    visit(value[k])
        elif isinstance(value, (list, tuple)):
            digest.update(f"{type(value).__name__} {len(value)}".encode())
            for v in value:
                visit(v)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            digest.update(type(value).__name__.encode())
            visit({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
        elif isinstance(value, functools.partial):                # e.g. an encoder's first half
            digest.update(f"partial {value.func.__qualname__}".encode())
            visit([list(value.args), value.keywords])
        elif hasattr(value, "to_csv"):                       # a pandas table
            digest.update(value.drop(columns=[c for c in value.columns if c in WALL_CLOCK]).to_csv().encode()
                          if hasattr(value, "columns") else value.to_csv().encode())
        elif hasattr(value, "__dict__") and not isinstance(value, type):
            digest.update(type(value).__name__.encode())
            visit(vars(value))
        else:
            digest.update(repr(value).encode())

    visit(result)
    return digest.hexdigest()


def timed_unit(function: Callable, **arguments: Any) -> tuple[Any, float, bool]:
    """``function(**arguments)`` through the cache, with the seconds it took when it was computed
    (stored beside the result, so a rerun from the cache still reports the training's cost) and
    whether it came from the cache. A cache file that cannot be read (e.g. truncated) is reported
    with its path and computed again."""
    from avalib.training import log      # training imports nothing of the cache

    key = unit_key(function, arguments)
    digest = _digest(key)
    if os.environ.get(NO_CACHE_VARIABLE):
        numerics.pin(torch.get_num_threads())
        start = time.perf_counter()
        result = function(**arguments)
        seconds = time.perf_counter() - start
        _remember(function, arguments, digest, fingerprint(result), seconds, False)
        return result, seconds, False
    path = _path(function, digest)
    if path.exists():
        try:
            stored = torch.load(path, weights_only=False)
            log(f"cache hit: {function.__qualname__} {path.name}")
            seconds = float(stored.get("seconds", 0.0))
            _remember(function, arguments, digest, stored.get("fingerprint") or fingerprint(stored["result"]),
                      seconds, True, stored.get("cpu_model"))
            return stored["result"], seconds, True
        except (EOFError, RuntimeError, OSError, KeyError, pickle.UnpicklingError,
                zipfile.BadZipFile) as error:
            log(f"avalib: the cache file {path.name} cannot be read ({type(error).__name__}: "
                f"{error}); computing it again")
    numerics.pin(torch.get_num_threads())           # the kernels its mode promises, or refused
    start = time.perf_counter()
    result = function(**arguments)
    seconds = time.perf_counter() - start
    path.parent.mkdir(parents=True, exist_ok=True)
    result_fingerprint = fingerprint(result)
    with atomic_path(path) as temporary:
        torch.save({"key": key, "result": result, "seconds": seconds,
                    "fingerprint": result_fingerprint, "cpu_model": numerics.cpu_model()}, temporary)
    _remember(function, arguments, digest, result_fingerprint, seconds, False)
    log(f"cached: {function.__qualname__} {path.name}")
    return result, seconds, False


def unit(function: Callable, **arguments: Any) -> Any:
    """``function(**arguments)``: loaded from the cache when this unit ran before, else computed,
    stored and returned (``timed_unit`` without the timing)."""
    return timed_unit(function, **arguments)[0]
