"""Units of work cached on disk: the one place where the study stores what it trained.

A unit is a call ``function(**arguments)`` whose result depends on its arguments only (it seeds
itself from them): the fan-out (``avalib.fanout``) runs units, and a unit that needs another's
result asks for it with ``unit`` too (a Zemouri setting needs its step-1 model). The result is
stored as ``<cache>/<function>-<sha256 of its key>[:16].pt``, written by write-then-rename, so an
interrupted run never leaves a half-written file and a rerun resumes where it stopped.

The key is the unit's name and arguments (configs as their fields), a hash of the source of the
whole ``avalib`` package (docstrings and comments left out: editing prose does not retrain,
editing any code does - over-invalidation is the price of never being stale), the torch version,
the device, the torch thread count and the CPU's vector capability (each can change the last
bits of a float result). The cache is ``build/cache/`` in the repository (git-ignored) or
``$AVALIB_CACHE_DIR``; delete it to retrain everything. ``$AVALIB_NO_CACHE=1`` computes every
unit afresh and stores nothing (e.g. to time the training).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any, Callable

import torch

from avalib.atomic import atomic_path
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


def source_version(root: Path) -> str:
    """sha256 (16 hex digits) of every ``.py`` file under ``root``: their paths and syntax trees
    without docstrings (comments are not in a syntax tree)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        tree = _without_docstrings(ast.parse(path.read_text(encoding="utf-8")))
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + ast.dump(tree).encode())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def package_version() -> str:
    """``source_version`` of the ``avalib`` package, once per process."""
    return source_version(PACKAGE)


def _plain(value: Any) -> Any:
    """A unit's argument as JSON-able data: a config as its type name and fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__name__,
                **{f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
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
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}


def unit_name(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def unit_key(function: Callable, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"unit": unit_name(function), "arguments": _plain(arguments), "code": package_version(),
            **machine_key(_device(arguments))}


def cache_path(function: Callable, arguments: dict[str, Any]) -> Path:
    key = unit_key(function, arguments)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    return cache_dir() / f"{function.__qualname__}-{digest[:16]}.pt"


def unit(function: Callable, **arguments: Any) -> Any:
    """``function(**arguments)``: loaded from the cache when this unit ran before, else computed,
    stored and returned. A cache file that cannot be read (e.g. truncated) is reported with its
    path and computed again."""
    from avalib.training import log      # training imports nothing of the cache

    if os.environ.get(NO_CACHE_VARIABLE):
        return function(**arguments)
    path = cache_path(function, arguments)
    if path.exists():
        try:
            result = torch.load(path, weights_only=False)["result"]
            log(f"cache hit: {function.__qualname__} {path.name}")
            return result
        except (EOFError, RuntimeError, OSError, KeyError, pickle.UnpicklingError,
                zipfile.BadZipFile) as error:
            log(f"avalib: the cache file {path.name} cannot be read ({type(error).__name__}: "
                f"{error}); computing it again")
    result = function(**arguments)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        torch.save({"key": unit_key(function, arguments), "result": result}, temporary)
    log(f"cached: {function.__qualname__} {path.name}")
    return result
