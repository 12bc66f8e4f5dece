"""The model cache: keyed by config, code, threads and CPU; a damaged file is retrained."""

import importlib
import sys

import torch

from avalib import cache


def _module(tmp_path, monkeypatch, source: str):
    (tmp_path / "trainer_under_test.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("trainer_under_test", None)
    importlib.invalidate_caches()
    cache.code_version.cache_clear()
    return cache.code_version("trainer_under_test")


def test_the_key_changes_with_the_code_not_with_its_prose(tmp_path, monkeypatch):
    first = _module(tmp_path, monkeypatch, 'def loss(x):\n    """KL."""\n    return x  # mean\n')
    prose = _module(tmp_path, monkeypatch, 'def loss(x):\n    """The KL, eq. 4."""\n    return x  # sum\n')
    code = _module(tmp_path, monkeypatch, 'def loss(x):\n    """KL."""\n    return 50 * x\n')
    assert first == prose != code


def test_the_key_changes_with_threads(monkeypatch):
    before = cache.cache_path("model", {"a": 1})
    threads = torch.get_num_threads()
    torch.set_num_threads(threads + 1)
    try:
        assert cache.cache_path("model", {"a": 1}) != before
    finally:
        torch.set_num_threads(threads)
    assert cache.cache_path("model", {"a": 1}) == before != cache.cache_path("model", {"a": 2})


def test_a_truncated_cache_file_is_reported_and_retrained(capsys):
    calls = []

    def train():
        calls.append(1)
        return {"weights": torch.arange(1000.0)}

    cache.cached("model", {"a": 1}, train)
    path = cache.cache_path("model", {"a": 1})
    path.write_bytes(path.read_bytes()[:100])                     # an interrupted copy
    state = cache.cached("model", {"a": 1}, train)
    assert torch.equal(state["weights"], torch.arange(1000.0)) and len(calls) == 2
    assert str(path) in capsys.readouterr().err
    assert torch.equal(cache.cached("model", {"a": 1}, train)["weights"], torch.arange(1000.0))
    assert len(calls) == 2                                        # stored again, whole
