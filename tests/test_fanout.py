"""Dask fan-out: a sweep computed serially and on a 2-worker LocalCluster gives equal tables."""

import pandas as pd
import pytest
import torch

from avalib import cache, fanout
from avalib.domain_classifier import DomainClassifierConfig
from avalib.zemouri import experiment
from avalib.zemouri.trainer import ZemouriConfig

TOY = ZemouriConfig(dataset="toy", latent_size=3, train_size=None, step1_epochs=1, warmup_steps=2,
                    step2_steps=2, batch_size=16, widths=(2, 3, 4), hidden=8, classifier_hidden=8)
JUDGE = DomainClassifierConfig("toy", train_size=None, epochs=1, batch_size=16)


def _sweep(scheduler):
    settings = experiment.sweep_settings(TOY, ["toy"], [2, 3], [0.0, 0.1], [0.0], [0, 1])
    return experiment.sweep(settings, 32, 4, JUDGE, scheduler=scheduler)


def test_a_sweep_is_bit_identical_serially_and_on_a_local_cluster(tmp_path, monkeypatch):
    monkeypatch.setenv("AVALIB_CACHE_DIR", str(tmp_path / "serial"))
    serial, serial_examples, serial_frames = _sweep("serial")
    monkeypatch.setenv("AVALIB_CACHE_DIR", str(tmp_path / "cluster"))   # nothing shared
    cluster, cluster_examples, cluster_frames = _sweep("local:2")
    assert serial_frames == cluster_frames
    assert len(list((tmp_path / "cluster").glob("setting-*.pt"))) == 8          # trained there
    pd.testing.assert_frame_equal(serial, cluster, check_exact=True)
    assert list(serial[["Kz", "beta", "seed"]].itertuples(index=False)) == [
        (k, b, s) for s in (0, 1) for k in (2, 3) for b in (0.0, 0.1)]            # key order
    for key, rows in serial_examples.items():
        for label, images in rows.items():
            assert torch.equal(images, cluster_examples[key][label])


def test_a_rerun_with_nothing_changed_trains_nothing(monkeypatch):
    first, *_ = _sweep("serial")
    for name in ("train_step1", "warm_up", "step2"):
        monkeypatch.setattr(f"avalib.zemouri.trainer.{name}",
                            lambda *a, **k: (_ for _ in ()).throw(AssertionError("retrained")))
    again, *_ = _sweep("serial")
    pd.testing.assert_frame_equal(first, again, check_exact=True)


@pytest.mark.parametrize("scheduler", ["serial", "local:2", "slurm:4", "tcp://10.0.0.1:8786",
                                       "shared/scheduler.json"])
def test_scheduler_forms(scheduler):
    assert fanout.check_scheduler(scheduler) == scheduler


@pytest.mark.parametrize("scheduler", ["local", "local:0", "dask", "threads:2"])
def test_an_unknown_scheduler_names_the_allowed_forms(scheduler):
    with pytest.raises(ValueError, match=r"allowed: serial, local:N"):
        fanout.check_scheduler(scheduler)


def test_local_workers_keep_the_thread_caps_but_not_the_eager_malloc_trim():
    environment = fanout._worker_environment()
    assert "MALLOC_TRIM_THRESHOLD_" not in environment and str(environment["OMP_NUM_THREADS"]) == "1"


def test_a_progress_line_names_a_unit_by_what_differs_from_the_defaults():
    short = fanout._short({"config": ZemouriConfig(dataset="fashion_mnist", beta=0.1), "test_count": 5})
    assert short == "ZemouriConfig(dataset='fashion_mnist', beta=0.1), test_count=5"


def test_slurm_without_dask_jobqueue_names_the_extra_to_install(monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "dask_jobqueue" else real(name, *a))
    with pytest.raises(ValueError, match=r"needs dask-jobqueue.*pip install -e '\.\[cluster\]'"):
        fanout.resolve_scheduler("slurm:4")


def test_the_estimate_of_what_is_left_counts_computed_units_only(monkeypatch):
    """Units loaded from the cache take no time: a resumed sweep's estimate comes from the units
    it computed, and says so while it has computed none."""
    lines = []
    monkeypatch.setattr(fanout, "log", lines.append)
    monkeypatch.setattr(fanout, "_unit", lambda function, threads, key: (key["x"], 1.0, key["x"] < 2, []))
    assert fanout.compute(None, [{"x": x} for x in range(4)], "serial") == [0, 1, 2, 3]
    assert lines[0].startswith("units: 1/4 done (x=0, from the cache)")
    assert lines[1].endswith("all from the cache so far")
    assert "from the cache" not in lines[2] and lines[2].endswith("min left")


def test_every_unit_of_a_sweep_leaves_a_fingerprint_row_also_from_a_worker(tmp_path, monkeypatch):
    """The rows a worker makes travel back with its result: serial and local:2 list the same
    units with the same fingerprints (nothing shared between the two caches; a step-1 model that
    several settings ask for is trained once and then loaded, so rows are compared as sets)."""
    rows = []
    for scheduler in ("serial", "local:2"):
        monkeypatch.setenv("AVALIB_CACHE_DIR", str(tmp_path / scheduler.replace(":", "")))
        cache.RECORDS.clear()
        _sweep(scheduler)
        rows.append(sorted({(r["unit"], r["key"], r["fingerprint"]) for r in cache.RECORDS}))
    assert len(rows[0]) >= 8 and rows[0] == rows[1]


def test_the_ledger_counts_computed_seconds_apart_from_cached_ones_and_the_workers():
    before = fanout.ledger()
    fanout._record((None, 5.0, True, []))
    fanout._record((None, 2.0, False, []))
    after = fanout.ledger()
    assert after["unit_seconds"] - before["unit_seconds"] == pytest.approx(7.0)
    assert after["computed_seconds"] - before["computed_seconds"] == pytest.approx(2.0)
    assert (fanout.workers("local:2"), fanout.workers("serial"), fanout.workers("slurm:16")) == (2, 1, 16)


def test_units_start_longest_first_and_come_back_in_key_order(monkeypatch):
    started = []
    monkeypatch.setattr(fanout, "log", lambda line: None)
    monkeypatch.setattr(fanout, "_unit", lambda function, threads, key: (started.append(key["x"]) or key["x"],
                                                                         1.0, False, []))
    keys = [{"x": x} for x in (3, 1, 4, 1, 5)]
    assert fanout.compute(None, keys, "serial", cost=lambda x: x) == [3, 1, 4, 1, 5]
    assert started == [5, 4, 3, 1, 1]
    assert fanout.longest_first(keys, None) == [0, 1, 2, 3, 4]
    assert experiment.setting_cost(TOY) < experiment.setting_cost(TOY.__class__(step2_steps=100))


def test_parts_computed_together_start_in_order_and_come_back_per_part(monkeypatch):
    started = []
    monkeypatch.setattr(fanout, "log", lambda line: None)
    monkeypatch.setattr(fanout, "_unit", lambda function, threads, key: (
        started.append((function, key["x"])) or (function, key["x"]), 1.0, False, []))
    first, second = [{"x": x} for x in (1, 2)], [{"x": x} for x in (7, 9, 8)]
    assert fanout.compute_together([("a", first, None), ("b", second, lambda x: x)], "serial") == [
        [("a", 1), ("a", 2)], [("b", 7), ("b", 9), ("b", 8)]]
    assert started == [("a", 1), ("a", 2), ("b", 9), ("b", 8), ("b", 7)]


def test_notebooks_share_one_cluster_started_by_avalib_workers(tmp_path, monkeypatch):
    """``python -m avalib.workers local:2 -- COMMAND`` runs COMMAND with $AVALIB_SCHEDULER at a
    live cluster's address, so sweeps of separate processes run on the same two workers, with
    the tables of a serial run."""
    import subprocess
    import sys

    monkeypatch.setenv("AVALIB_CACHE_DIR", str(tmp_path / "shared"))
    script = ("import os, pandas as pd; from avalib import fanout; import tests.test_fanout as t; "
              "frame, *_ = t._sweep(None); print(os.environ['AVALIB_SCHEDULER'], fanout.ledger()['workers']); "
              f"frame.to_pickle({str(tmp_path / 'frame.pkl')!r})")
    done = subprocess.run([sys.executable, "-m", "avalib.workers", "local:2", "--", sys.executable, "-c", script],
                          capture_output=True, text=True, cwd=cache.REPOSITORY_ROOT)
    assert done.returncode == 0, done.stderr
    address, workers = done.stdout.strip().splitlines()[-1].split()
    assert address.startswith("tcp://127.0.0.1:") and workers == "2"
    monkeypatch.setenv("AVALIB_CACHE_DIR", str(tmp_path / "serial"))
    serial, *_ = _sweep("serial")
    pd.testing.assert_frame_equal(serial, pd.read_pickle(tmp_path / "frame.pkl"), check_exact=True)


def test_avalib_workers_names_a_bad_scheduler_and_a_missing_command(capsys):
    from avalib import workers

    assert workers.main(["local:zero", "--", "true"]) == 2
    assert "scheduler='local:zero' is unknown" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        workers.main(["local:2"])


def test_progress_lines_carry_the_notebook_name(tmp_path):
    import io

    from avalib.follow import Follow

    stream, path = io.StringIO(), tmp_path / "progress"
    with Follow(path, stream, interval=60, prefix="03 | ") as follow:
        path.write_text("step 1: 1/2 done\nstep ")
        follow._copy()
        with open(path, "a") as file:
            file.write("1: 2/2 done\n")
    assert stream.getvalue() == "03 | step 1: 1/2 done\n03 | step 1: 2/2 done\n"
