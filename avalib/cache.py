"""Trained models cached on disk by their configuration.

A model is stored as ``<cache>/<kind>-<sha256 of its JSON config>[:16].pt``, written by
write-then-rename, so an interrupted run never leaves a half-written model. The cache is
``build/cache/`` in the repository (git-ignored) or ``$AVALIB_CACHE_DIR``. Delete it to retrain.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable

import torch

from avalib.atomic import atomic_path
from avalib.download import REPOSITORY_ROOT

CACHE_DIR_VARIABLE = "AVALIB_CACHE_DIR"


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_DIR_VARIABLE) or REPOSITORY_ROOT / "build" / "cache")


def cache_path(kind: str, config: dict[str, Any]) -> Path:
    key = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()
    return cache_dir() / f"{kind}-{key[:16]}.pt"


def cached(kind: str, config: dict[str, Any], train: Callable[[], dict[str, Any]],
           enabled: bool = True) -> dict[str, Any]:
    """The state ``train()`` returns (a dict of state dicts and numbers) for ``config``: loaded
    from the cache when present, else trained, saved and returned. The config is saved with it.
    ``enabled=False`` always trains and stores nothing (e.g. to time the training)."""
    if not enabled:
        return train()
    path = cache_path(kind, config)
    if path.exists():
        return torch.load(path, weights_only=False)["state"]
    state = train()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        torch.save({"config": config, "state": state}, temporary)
    return state
