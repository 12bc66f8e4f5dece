"""The results conventions: tables in CSV and Markdown, figures, provenance, the index."""

import dataclasses
import hashlib
import json
import subprocess

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from avalib import claims, fanout, front_page, results


def example(stem: str, **parameters):
    """A notebook's parameters as ``RunRecord`` takes them: a dataclass with a ``stem``."""
    kind = dataclasses.make_dataclass("Example", [(name, object) for name in parameters], frozen=True)
    kind.stem = stem
    return kind(**parameters)


def test_run_record_writes_tables_figures_provenance(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_DIR_VARIABLE, str(tmp_path))
    record = results.RunRecord(example("99_example", profile="smoke", seeds=[3]))
    record.table("numbers", pd.DataFrame({"a": [1.23456789]}))
    figure, axis = plt.subplots()
    axis.plot([0, 1])
    record.figure("line", figure)
    provenance = record.finish()
    folder = tmp_path / "99_example"
    assert {p.name for p in folder.iterdir()} == {"numbers.csv", "numbers.md", "line.png",
                                                  "provenance.json"}
    assert "1.2346" in (folder / "numbers.csv").read_text()
    saved = json.loads((folder / "provenance.json").read_text())
    assert saved["parameters"] == {"profile": "smoke", "seeds": [3]} == provenance["parameters"]
    for key in ("git_commit", "torch", "numpy", "python", "device", "torch_threads",
                "started_utc", "ended_utc", "wall_seconds"):
        assert key in saved
    assert saved["device"] == "cpu" and len(saved["scipy"].split(".")) >= 2
    assert saved["requirements_lock_sha256"] == hashlib.sha256(
        (results.REPOSITORY_ROOT / "requirements.lock").read_bytes()).hexdigest()
    assert len(saved["data_manifest_sha256"]) == 64
    assert saved["units"] == fanout.ledger() and set(saved["units"]) == {"units", "from_cache", "unit_seconds", "computed_seconds", "workers"}
    front_page.write_front_page(tmp_path)
    assert "[`99_example`](99_example/99_example.ipynb)" in (tmp_path / front_page.RUNS).read_text()


def _claims_table(tmp_path, stem, rows, extra=None):
    record = results.RunRecord(example(stem, profile="default"))
    record.table("claims", claims.claims_frame(rows, extra), index=False)
    record.finish()


def test_the_front_page_shows_one_word_per_condition_in_a_matrix_per_study(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_DIR_VARIABLE, str(tmp_path))
    rows = [claims.Claim("Paper A (2020)", "4", "X beats Y", "X - Y = +0.1", "paired t", verdict,
                         "98_claims/measures.csv", condition, seeds=seeds, effect=0.1,
                         interval_low=0.05, interval_high=0.15)
            for verdict, condition, seeds in (("holds", "protocol 1", 5), ("inconclusive", "protocol 2", 5),
                                              ("equivalent (no effect beyond +-0.02 BM)", "protocol 4", 5))]
    _claims_table(tmp_path, "98_claims", rows)
    record = results.RunRecord(example("98_wide", profile="default"))
    record.table("wide", pd.DataFrame({"v": [1.0]}, index=pd.MultiIndex.from_tuples([("a", 2)], names=["k", "z"])))
    record.finish()
    assert "('a', 2)" not in (tmp_path / "98_wide" / "wide.md").read_text()
    page = front_page.write_front_page(tmp_path).read_text()
    assert "## Paper A (2020): every claim" in page and "98_claims" not in front_page.INTRODUCTION
    assert "| claim | protocol 1 | protocol 2 | protocol 4 |" in page
    row = next(line for line in page.splitlines() if line.startswith("| 4: X beats Y"))
    assert row == "| 4: X beats Y | holds | inconclusive | equivalent |"
    assert "[`98_claims/claims.csv`](98_claims/claims.csv)" in " ".join(page.split())
    assert max(len(line) for line in page.splitlines() if not line.startswith(("|", "<img"))) <= 100
    assert (tmp_path / "verdict_matrix.png").stat().st_size > 1000 and "verdict_matrix.png" in page
    assert list(pd.read_csv(tmp_path / "verdicts.csv")["kind"]) == ["holds", "inconclusive", "equivalent"]


def test_a_table_that_judges_earlier_claims_again_replaces_their_cells_with_a_mark(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_DIR_VARIABLE, str(tmp_path))
    for stem, verdict, extra in (("98_claims", "inconclusive", {}),
                                 ("99_again", "holds", {"verdict_in_98": "inconclusive", "seeds_in_98": 3})):
        test = claims.Claim("Paper A (2020)", "4", "X beats Y", "X - Y = +0.1", "paired t", verdict,
                            f"{stem}/claims.csv", "protocol 1", seeds=3 if stem == "98_claims" else 6)
        other = claims.Claim("Paper A (2020)", "5", "Z", "Z = 1", "t", "inconclusive", f"{stem}/claims.csv",
                             "protocol 1", seeds=3)
        _claims_table(tmp_path, stem, [test, other] if stem == "98_claims" else [test], [extra] if extra else None)
    page = front_page.front_page(tmp_path)
    assert "| 4: X beats Y | holds* |" in page and "| 5: Z | inconclusive |" in page
    assert page.count("| 4: X beats Y") == 1
    assert "judged again on more seeds in `99_again` (replacing `98_claims`'s)" in " ".join(page.split())


def test_only_the_default_profile_publishes_into_committed_results(monkeypatch):
    monkeypatch.delenv(results.RESULTS_DIR_VARIABLE, raising=False)
    assert results.published_root("default") == results.REPOSITORY_ROOT / "results"
    for profile in ("smoke", "paper"):
        assert results.published_root(profile).parent == results.REPOSITORY_ROOT / "build"


def test_a_notebook_run_by_hand_never_writes_into_the_published_results(monkeypatch):
    monkeypatch.delenv(results.RESULTS_DIR_VARIABLE, raising=False)
    record = results.RunRecord(example("96_by_hand", profile="default"))
    assert record.directory == results.REPOSITORY_ROOT / "build" / "results-interactive" / "96_by_hand"
    record.directory.rmdir()


def test_an_unknown_profile_is_named_with_the_allowed_ones():
    with pytest.raises(ValueError, match=r"profile='big' is unknown; allowed: smoke, default, paper"):
        results.RunRecord(example("97_bad", profile="big"))


def test_provenance_calls_a_checkout_dirty_for_code_not_for_what_runs_write(tmp_path, monkeypatch):
    """A default run rewrites results/ and README.md's generated part: the next run's provenance
    still names a clean commit; a changed module does not."""
    def git(*arguments):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *arguments], cwd=tmp_path,
                       check=True, capture_output=True)

    (tmp_path / "results").mkdir()
    for name in ("README.md", "results/README.md", "code.py", "notes.md"):
        (tmp_path / name).write_text("x\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "start")
    monkeypatch.setattr(results, "REPOSITORY_ROOT", tmp_path)
    (tmp_path / "README.md").write_text("y\n")
    (tmp_path / "results" / "README.md").write_text("y\n")
    assert not results._git_commit().endswith("+uncommitted-changes")
    (tmp_path / "notes.md").write_text("y\n")
    assert results._git_commit().endswith("+uncommitted-changes")
    git("checkout", "-q", "--", "notes.md")
    (tmp_path / "code.py").write_text("y\n")
    assert results._git_commit().endswith("+uncommitted-changes")


def test_fingerprints_list_the_units_of_this_run_only(tmp_path, monkeypatch):
    from avalib import cache

    monkeypatch.setenv(results.RESULTS_DIR_VARIABLE, str(tmp_path))
    monkeypatch.setenv(cache.CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    cache.unit(_square, x=2)                                         # another run's unit
    record = results.RunRecord(example("99_example", profile="smoke", seeds=[3]))
    cache.unit(_square, x=3)
    cache.unit(_square, x=3)                                         # loaded: listed once
    record.finish()
    rows = pd.read_csv(tmp_path / "99_example" / "fingerprints.csv")
    assert list(rows["unit"]) == ["_square"] and rows["fingerprint"].str.len().tolist() == [64]


def _square(x):
    return x * x


def test_runs_together_count_overlapping_executions_once_and_a_pause_not_at_all(tmp_path):
    def run(name, start, end, computed):
        (tmp_path / name).mkdir()
        (tmp_path / name / "provenance.json").write_text(json.dumps({
            "started_utc": f"2026-01-01T{start}:00+00:00", "ended_utc": f"2026-01-01T{end}:00+00:00",
            "units": {"units": 1, "computed_seconds": computed, "workers": 2}}))

    run("a", "10:00", "11:00", 3000.0)    # a and b at once on one cluster: 10:00-11:30
    run("b", "10:30", "11:30", 2400.0)
    run("c", "13:00", "13:30", 3000.0)    # after a pause
    line = front_page._together(tmp_path)
    assert "120.0 min while some notebook ran" in line and "140.0 min of units" in line
    assert line.endswith("efficiency 58 %.")
    shared = front_page._shared_efficiency(tmp_path)          # a and b shared their 2 workers
    assert shared == {"a": " (with b at once: 50 %)", "b": " (with a at once: 50 %)"}
