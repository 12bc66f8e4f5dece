"""make verify: committed fingerprint rows are recomputed from their spelled calls and compared bit
for bit; a changed result is named, a sample is stratified by notebook and unit kind."""

import pandas as pd
import pytest

from avalib import cache, verify
from avalib.zemouri import units
from avalib.zemouri.trainer import ZemouriConfig

TOY = ZemouriConfig(dataset="toy", latent_size=3, train_size=None, step1_epochs=1, warmup_steps=2,
                    step2_steps=2, batch_size=16, widths=(2, 3, 4), hidden=8, classifier_hidden=8)


@pytest.fixture
def results(tmp_path, monkeypatch):
    """A results folder with one notebook whose fingerprints.csv lists a toy step-1 model and its
    warm-up (the latter asks for the former through the cache)."""
    monkeypatch.setenv(cache.NO_CACHE_VARIABLE, "")            # restored after the test
    with cache.recorded(keep=False) as made:
        cache.timed_unit(units.warm_start, config=TOY)
    rows = pd.DataFrame(made)
    (tmp_path / "99_toy").mkdir()
    rows.to_csv(tmp_path / "99_toy" / "fingerprints.csv", index=False)
    return tmp_path


def test_every_committed_unit_recomputes_to_its_fingerprint(results, capsys):
    assert verify.main(["--results", str(results), "--units", "all"]) == 0
    table = pd.read_csv(results / "verification.csv")
    assert set(table["unit"]) == {"step1", "warm_start"} and (table["status"] == "same").all()
    assert "2 of 2 units the same bit for bit" in capsys.readouterr().out
    assert (results / "verification.md").read_text().startswith("# Units retrained")


def test_a_different_result_is_named_and_fails(results, capsys):
    path = results / "99_toy" / "fingerprints.csv"
    rows = pd.read_csv(path)
    rows.loc[0, "fingerprint"] = "0" * 64
    rows.to_csv(path, index=False)
    assert verify.main(["--results", str(results), "--units", "all"]) == 1
    assert pd.read_csv(results / "verification.csv")["status"].tolist().count("DIFFERENT") == 1


def test_nothing_to_verify_says_so(tmp_path, capsys):
    assert verify.main(["--results", str(tmp_path)]) == 2
    assert "nothing to verify" in capsys.readouterr().err


def test_the_sample_takes_the_unit_kinds_of_each_notebook_in_turn():
    rows = pd.DataFrame({"notebook": ["a"] * 5 + ["b"] * 2, "unit": ["judge", "setting", "setting",
                         "setting", "step1", "setting", "setting"], "key": list("1234567")})
    picked = verify.sample(rows, 3, seed=0)
    assert sorted(picked.loc[picked["notebook"] == "a", "unit"]) == ["judge", "setting", "step1"]
    assert len(picked[picked["notebook"] == "b"]) == 2
    assert picked.equals(verify.sample(rows, 3, seed=0))


def test_notebooks_narrow_the_sample_and_an_unknown_one_is_named(results, capsys):
    (results / "98_other").mkdir()
    pd.read_csv(results / "99_toy" / "fingerprints.csv").assign(key="0" * 16, fingerprint="0" * 64).to_csv(
        results / "98_other" / "fingerprints.csv", index=False)
    assert verify.main(["--results", str(results), "--units", "all", "--notebooks", "99_toy"]) == 0
    with pytest.raises(SystemExit):
        verify.main(["--results", str(results), "--notebooks", "97_none"])
    assert "97_none commit no fingerprints; allowed: 98_other, 99_toy" in capsys.readouterr().err


def test_a_bad_unit_count_is_named():
    with pytest.raises(SystemExit):
        verify.main(["--units", "some"])


def test_two_runs_are_the_same_unless_a_fingerprint_or_a_table_differs(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for folder, seconds in ((first, 1.0), (second, 9.0)):
        folder.mkdir()
        pd.DataFrame({"unit": ["step1"], "key": ["k"], "fingerprint": ["f"], "seconds": [seconds],
                      "cpu_model": ["x"]}).to_csv(folder / "fingerprints.csv", index=False)
        pd.DataFrame({"metric": [0.5], "train_seconds": [seconds]}).to_csv(folder / "table.csv", index=False)
    assert verify.same_runs(first, second) == []          # seconds and CPU are not the computation
    pd.DataFrame({"metric": [0.25], "train_seconds": [1.0]}).to_csv(second / "table.csv", index=False)
    assert verify.same_runs(first, second) == ["table.csv: differs"]
    assert verify.main(["--runs", str(first), str(second)]) == 1


def test_a_unit_whose_code_changed_but_whose_bits_agree_is_the_same():
    assert verify.status(True, True) == "same" and verify.status(True, False) == verify.SAME_NEWER_CODE
    assert verify.status(False, True) == "DIFFERENT" and verify.status(False, False).startswith("stale")


def test_a_verification_keeps_what_other_cpus_measured_of_units_still_committed(tmp_path):
    row = {"notebook": "n", "unit": "u", "key": "k", "key_here": "k", "fingerprint_committed": "f" * 64,
           "fingerprint_here": "f" * 64, "status": "same", "cpu_model_committed": "A",
           "seconds_committed": 1.0, "seconds_here": 1.0}
    (tmp_path / "n").mkdir()
    fingerprints = tmp_path / "n" / "fingerprints.csv"
    pd.DataFrame([{"unit": "u", "key": "k", "fingerprint": "f" * 64}]).to_csv(fingerprints, index=False)
    verify.write(pd.DataFrame([{**row, "cpu_model_here": "B"}]), tmp_path)
    verify.write(pd.DataFrame([{**row, "cpu_model_here": "C"}]), tmp_path)
    verify.write(pd.DataFrame([{**row, "cpu_model_here": "C", "status": "DIFFERENT"}]), tmp_path)
    table = pd.read_csv(tmp_path / "verification.csv")
    assert table["cpu_model_here"].tolist() == ["B", "C"]          # C's second run replaced its first
    assert table["status"].tolist() == ["same", "DIFFERENT"]
    assert "on B: 1 of 1; on C: 0 of 1" in (tmp_path / "verification.md").read_text()
    # the notebook reran: its new fingerprint replaces the one B and C compared with
    pd.DataFrame([{"unit": "u", "key": "k2", "fingerprint": "e" * 64}]).to_csv(fingerprints, index=False)
    verify.write(pd.DataFrame([{**row, "key": "k2", "fingerprint_committed": "e" * 64,
                                "fingerprint_here": "e" * 64, "cpu_model_here": "D"}]), tmp_path)
    assert pd.read_csv(tmp_path / "verification.csv")["cpu_model_here"].tolist() == ["D"]
