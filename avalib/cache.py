"""Trained models cached on disk by their configuration and by the code that trains them.

A model is stored as ``<cache>/<kind>-<sha256 of its key>[:16].pt``, written by write-then-rename,
so an interrupted run never leaves a half-written model. The key is the JSON config, a hash of
the source of the modules that train it (comments and docstrings left out: editing prose does not
retrain, editing code does), the torch thread count and the CPU's vector capability (either
can change the last bits of a float result). The cache is ``build/cache/`` in the repository
(git-ignored) or ``$AVALIB_CACHE_DIR``. Delete it to retrain everything.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import json
import os
import pickle
import sys
import zipfile
from pathlib import Path
from typing import Any, Callable

import torch

from avalib.atomic import atomic_path
from avalib.download import REPOSITORY_ROOT

CACHE_DIR_VARIABLE = "AVALIB_CACHE_DIR"


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_DIR_VARIABLE) or REPOSITORY_ROOT / "build" / "cache")


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return tree


@functools.lru_cache(maxsize=None)
def code_version(*modules: str) -> str:
    """sha256 (16 hex digits) of the code of the named modules: their syntax trees without
    docstrings (comments are not in a syntax tree)."""
    digest = hashlib.sha256()
    for name in modules:
        source = Path(importlib.import_module(name).__file__).read_text(encoding="utf-8")
        digest.update(name.encode() + b"\0" + ast.dump(_without_docstrings(ast.parse(source))).encode())
    return digest.hexdigest()[:16]


def machine_key() -> dict[str, Any]:
    """What of the machine can change a trained model's bits: torch threads and CPU capability."""
    return {"torch_threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}


def cache_path(kind: str, config: dict[str, Any], code: tuple[str, ...] = ()) -> Path:
    key = {"config": config, "code": code_version(*code), **machine_key()}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    return cache_dir() / f"{kind}-{digest[:16]}.pt"


def _log(message: str) -> None:
    from avalib.training import log      # training imports nothing of the cache
    log(message)


def cached(kind: str, config: dict[str, Any], train: Callable[[], dict[str, Any]],
           code: tuple[str, ...] = (), enabled: bool = True) -> dict[str, Any]:
    """The state ``train()`` returns (a dict of state dicts and numbers) for ``config`` trained by
    the modules ``code``: loaded from the cache when present, else trained, saved and returned.
    A cache file that cannot be read (e.g. truncated) is reported with its path and retrained.
    ``enabled=False`` always trains and stores nothing (e.g. to time the training)."""
    if not enabled:
        return train()
    path = cache_path(kind, config, code)
    if path.exists():
        try:
            state = torch.load(path, weights_only=False)["state"]
            _log(f"cache hit: {kind} {path.name}")
            return state
        except (EOFError, RuntimeError, OSError, KeyError, pickle.UnpicklingError,
                zipfile.BadZipFile) as error:
            print(f"avalib: the cache file {path} cannot be read ({type(error).__name__}: "
                  f"{error}); retraining it", file=sys.stderr)
    state = train()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        torch.save({"config": config, "code": list(code), **machine_key(), "state": state}, temporary)
    _log(f"cached: {kind} {path.name}")
    return state
