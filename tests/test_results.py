"""The results conventions: tables in CSV and Markdown, figures, provenance, the index."""

import json

import matplotlib.pyplot as plt
import pandas as pd

from avalib import results


def test_run_record_writes_tables_figures_provenance(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_DIR_VARIABLE, str(tmp_path))
    record = results.RunRecord("99_example", {"smoke": True, "seed": 3})
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
    assert saved["parameters"] == {"smoke": True, "seed": 3} == provenance["parameters"]
    for key in ("git_commit", "torch", "numpy", "python", "device", "torch_threads",
                "started_utc", "ended_utc", "wall_seconds"):
        assert key in saved
    index = results.write_results_index(tmp_path).read_text()
    assert "99_example/numbers.csv" in index and "99_example/line.png" in index


def test_smoke_runs_never_write_into_committed_results(monkeypatch):
    monkeypatch.delenv(results.RESULTS_DIR_VARIABLE, raising=False)
    assert results.results_root(smoke=True).name == "smoke-results"
    assert results.results_root(smoke=False).name == "results"
