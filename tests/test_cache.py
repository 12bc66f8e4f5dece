"""The cache of units of work: keyed by the unit, its arguments, the code of every avalib module
the unit reaches, torch, the device, threads and CPU; a damaged file is computed again; nothing
else caches."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import torch

from avalib import cache
from avalib.comparison.trainer import ComparisonConfig

CALLS: list[int] = []


def weights(size: int) -> dict:
    CALLS.append(size)
    return {"weights": torch.arange(float(size))}


def _package_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the avalib sources whose code keys the cache from now on."""
    copy = tmp_path / "avalib"
    shutil.copytree(cache.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "PACKAGE", copy)
    cache.code_version.cache_clear()
    return copy


def _edit(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)
    cache.code_version.cache_clear()


def test_the_key_changes_with_the_code_of_a_reached_module_not_with_its_prose(tmp_path, monkeypatch):
    copy = _package_copy(tmp_path, monkeypatch)
    first = cache.code_version("avalib.comparison.experiment")
    helper = copy / "metrics.py"
    helper.write_text(helper.read_text().replace('"""', '"""Edited prose. ', 1))
    _edit(helper, "\n# a comment\n")
    assert cache.code_version("avalib.comparison.experiment") == first
    _edit(helper, "\nEDITED = 1\n")
    assert cache.code_version("avalib.comparison.experiment") != first


def test_editing_a_module_a_unit_imports_retrains_it_and_a_presentation_module_does_not(tmp_path, monkeypatch):
    """The domain classifier scores every comparison run (imported through avalib.domain_classifier
    by comparison.experiment); the claims, tables and figures are imported by no unit."""
    copy = _package_copy(tmp_path, monkeypatch)
    reached = cache.code_version("avalib.comparison.experiment")
    for module in ("claims.py", "plotting.py", "results.py", "comparison/claims.py", "nguyen/report.py",
                   "zemouri/claims.py", "nguyen/claims.py"):
        _edit(copy / module, "\nEDITED = 1\n")
        assert cache.code_version("avalib.comparison.experiment") == reached, module
    _edit(copy / "domain_classifier.py", "\nEDITED = 1\n")
    assert cache.code_version("avalib.comparison.experiment") != reached
    for unit, helper in [("avalib.zemouri.units", "latent.py"), ("avalib.nguyen.experiment", "nguyen/rules.py"),
                         ("avalib.nguyen.experiment", "nguyen/__init__.py"),
                         ("avalib.zemouri.experiment", "zemouri/focus.py")]:
        before = cache.code_version(unit)
        _edit(copy / helper, "\nEDITED = 2\n")
        assert cache.code_version(unit) != before, (unit, helper)


def test_a_config_argument_adds_its_module_to_the_key():
    key = cache._modules(weights, {"config": ComparisonConfig()})
    assert key == tuple(sorted({__name__, "avalib.comparison.trainer"}))


def test_the_key_names_torch_the_device_threads_and_the_cpu():
    key = cache.unit_key(weights, {"config": ComparisonConfig(device="cuda:1")})
    assert key["device"] == "cuda:1" and key["torch"] == torch.__version__
    assert {"torch_threads", "cpu_capability", "code"} <= set(key)
    assert key["arguments"]["config"]["type"] == "ComparisonConfig"
    before = cache.cache_path(weights, {"size": 1})
    threads = torch.get_num_threads()
    torch.set_num_threads(threads + 1)
    try:
        assert cache.cache_path(weights, {"size": 1}) != before
    finally:
        torch.set_num_threads(threads)
    assert cache.cache_path(weights, {"size": 1}) == before != cache.cache_path(weights, {"size": 2})


def test_a_truncated_cache_file_is_reported_and_computed_again(monkeypatch):
    lines = []
    monkeypatch.setattr("avalib.training.log", lines.append)
    CALLS.clear()
    cache.unit(weights, size=1000)
    path = cache.cache_path(weights, {"size": 1000})
    path.write_bytes(path.read_bytes()[:100])                     # an interrupted copy
    assert torch.equal(cache.unit(weights, size=1000)["weights"], torch.arange(1000.0))
    assert len(CALLS) == 2 and any(path.name in line and "cannot be read" in line for line in lines)
    assert torch.equal(cache.unit(weights, size=1000)["weights"], torch.arange(1000.0))
    assert len(CALLS) == 2                                        # stored again, whole


def test_no_trainer_mentions_the_cache():
    package = Path(cache.__file__).parent
    trainers = [*package.glob("*/trainer.py"), package / "training.py",
                *(package / "nguyen" / f"{name}.py" for name in ("steps", "model", "updates", "variants"))]
    for path in trainers:
        assert not re.search(r"avalib\.cache|import cache|\bcache\.|use_cache|cached\(", path.read_text()), path


def test_a_plain_install_carries_every_subpackage(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(cache.PACKAGE.parent)], check=True)
    found = subprocess.run([sys.executable, "-c", "import avalib.zemouri.units, avalib.comparison.ava, "
                            "avalib.nguyen.updates; print(avalib.__file__)"], cwd=tmp_path,
                           env={"PYTHONPATH": str(target)}, capture_output=True, text=True, check=True)
    assert found.stdout.startswith(str(target))


def test_the_key_holds_the_sha256_of_the_data_files_a_unit_reads(monkeypatch, tmp_path):
    """A replaced dataset file (a new sha256 in the manifest) gives a new key; another dataset's
    file does not; the key names the numerics mode."""
    from avalib import data, download
    from avalib.zemouri import units
    from avalib.zemouri.trainer import ZemouriConfig

    config = ZemouriConfig(dataset="mnist")
    before = cache.unit_key(units.trained, {"config": config})
    assert set(before["data"]) == {e.file for e in data.read_manifest() if e.dataset == "mnist"}
    assert before["numerics"] in ("portable", "native")
    lines = download.MANIFEST_PATH.read_text().splitlines()
    header = lines[0].split("\t")

    def replaced(dataset):
        path = tmp_path / f"{dataset}.tsv"
        rows = [line.split("\t") for line in lines[1:]]
        for row in rows:
            if row[header.index("dataset")] == dataset:
                row[header.index("sha256")] = "0" * 64
        path.write_text("\n".join(["\t".join(header), *("\t".join(row) for row in rows)]) + "\n")
        return str(path)
    monkeypatch.setenv(download.MANIFEST_VARIABLE, replaced("omniglot"))
    assert cache.unit_key(units.trained, {"config": config}) == before
    monkeypatch.setenv(download.MANIFEST_VARIABLE, replaced("mnist"))
    assert cache.unit_key(units.trained, {"config": config})["data"] != before["data"]

def test_a_cache_hit_reports_the_cpu_that_computed_it(monkeypatch):
    monkeypatch.setattr(cache.numerics, "cpu_model", lambda: "the CPU that trained it")
    with cache.recorded(keep=False) as first:
        cache.unit(weights, size=7)
    monkeypatch.setattr(cache.numerics, "cpu_model", lambda: "the CPU that loads it")
    with cache.recorded(keep=False) as again:
        cache.unit(weights, size=7)
    assert [row["from_cache"] for row in first + again] == [False, True]
    assert {row["cpu_model"] for row in first + again} == {"the CPU that trained it"}
