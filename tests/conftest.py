import os
from pathlib import Path

import pytest

import avalib  # noqa: F401  (first: sets the numerics variables before torch runs an operator)

SHARED_MIRROR = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture
def mirror_dir() -> Path:
    """The offline mirror the study runs against (CI has it too)."""
    path = Path(os.environ.get("AVALIB_DATA_MIRROR") or SHARED_MIRROR)
    if not (path / "MANIFEST.tsv").exists():
        pytest.skip("no dataset mirror: set AVALIB_DATA_MIRROR")
    return path


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Every test trains into its own model cache and keeps progress bars quiet."""
    monkeypatch.setenv("AVALIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AVALIB_QUIET", "1")
    return tmp_path / "cache"
