"""The front page's answers: records typed from the claims tables, sentences whose every number is
in a committed file, the main claims found, and the page short enough to read."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from avalib import answers, claims, findings, front_page

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
DECIMAL = re.compile(r"(?<![\w.])[-+]?\d+\.\d+(?![\w.])")


def words(text: str) -> int:
    """Words a reader reads: whitespace-separated tokens with a letter or digit (a table's ``|``
    and ``---`` are not words)."""
    return sum(1 for token in text.split() if re.search(r"[A-Za-z0-9]", token))


def _committed_values() -> np.ndarray:
    """Every number of every committed CSV: its cells, and the decimals written inside its text."""
    values = []
    for path in RESULTS.rglob("*.csv"):
        frame = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
        cells = pd.Series(frame.to_numpy().ravel())
        values.append(pd.to_numeric(cells, errors="coerce").dropna().to_numpy())
        values.append(np.array([float(t) for t in DECIMAL.findall(" ".join(cells))]))
    return np.sort(np.concatenate(values))


def _found(text: str, values: np.ndarray) -> list[str]:
    """The decimals of ``text`` that no committed number gives at the precision shown."""
    missing = []
    for token in DECIMAL.findall(text):
        number, places = float(token), len(token.split(".")[1])
        near = values[np.searchsorted(values, number - 10 ** -places):np.searchsorted(values, number + 10 ** -places)]
        if not np.any(np.abs(near - number) <= 0.5 * 10 ** -places + 1e-12):
            missing.append(token)
    return missing


def test_every_number_of_the_findings_and_main_claims_is_in_a_committed_table():
    frame = findings.records(RESULTS)
    sentences = " ".join(s for part in answers.findings(RESULTS, frame).values() for s in part)
    main = answers.main_claims(frame).to_string()
    assert _found(sentences + " " + main, _committed_values()) == []


def test_every_study_has_sentences_and_every_main_claim_is_found():
    frame = findings.records(RESULTS)
    said = answers.findings(RESULTS, frame)
    assert set(said) == {answers.NGUYEN, answers.ZEMOURI, findings.SURVEYS}
    assert all(2 <= len(sentences) <= 5 for sentences in said.values()), {k: len(v) for k, v in said.items()}
    assert len(answers.main_claims(frame)) == len(answers.MAIN)


def test_the_committed_front_page_is_what_the_results_give_and_under_2000_words():
    page = (RESULTS / "README.md").read_text()
    assert page == front_page.front_page(RESULTS), "run `python -m avalib.front_page`"
    assert words(page) <= 2000, words(page)
    assert front_page.FIGURE in page.split("## The main claims")[0], "the headline figure comes before the tables"


def test_the_readme_is_under_1500_words():
    assert words((ROOT / "README.md").read_text()) <= 1500


def _claim(verdict, condition, seeds=5, **fields):
    return claims.Claim("Paper A (2020)", "4", "X beats Y", "X - Y = +0.1", "paired t", verdict,
                        "a/claims.csv", condition, seeds=seeds, **fields)


def test_records_are_typed_with_plain_conditions_and_kinds(tmp_path):
    (tmp_path / "01_a").mkdir()
    table = claims.claims_frame([_claim("holds", "reference"), _claim("inconclusive (diverged in 8 of 8 seeds)",
                                                                      "paper", seeds=0),
                                 _claim("inconclusive (fewer than 2 seeds with finite values)", "exact", seeds=1)],
                                [{"diverged_seeds": 0, "verdict_vs_authors_spread": "inconclusive"},
                                 {"diverged_seeds": 8, "verdict_vs_authors_spread": "inconclusive"},
                                 {"diverged_seeds": 0, "verdict_vs_authors_spread": "inconclusive"}])
    table.to_csv(tmp_path / "01_a" / "claims.csv", index=False)
    frame = findings.records(tmp_path)
    assert list(frame["condition"]) == ["authors' code", "printed rules", "true gradients"]
    assert list(frame["kind"]) == ["holds", "diverged", "inconclusive"]
    assert list(findings.cell_marks(frame)) == ["+", "", ""]
    assert list(findings.matrix(frame).loc["4: X beats Y"]) == ["holds+", "diverged", "inconclusive"]


def test_a_cell_two_runs_judge_is_the_latest_runs(tmp_path):
    """A claim that moved to another notebook: the former notebook's older run still lists it."""
    for folder, verdict, ended in (("03_x", "holds", "2026-01-01T00:00:00"), ("07_y", "does not hold",
                                                                              "2026-02-01T00:00:00")):
        (tmp_path / folder).mkdir()
        claims.claims_frame([claims.Claim(answers.ZEMOURI, "4.4 (B3)", "beta = 0.1 loses labels", "m", "t",
                                          verdict, f"{folder}/metrics.csv", "", seeds=3)]).to_csv(
            tmp_path / folder / "claims.csv", index=False)
        (tmp_path / folder / "provenance.json").write_text(json.dumps({"ended_utc": ended}))
    frame = findings.records(tmp_path)
    assert list(frame["kind"]) == ["does not hold"] and list(frame["table"]) == ["07_y/claims.csv"]


def test_zemouri_findings_read_the_cifar10_summary_of_section_4_5s_notebook_first(tmp_path):
    """The latest run's summary is read (06's); another notebook's file of that name (an older run)
    only where 06 has none."""
    (tmp_path / "03_x").mkdir()
    (tmp_path / "06_cifar10").mkdir()
    table = claims.claims_frame([claims.Claim(answers.ZEMOURI, "4.4 (A)", "K_z = 100 is better", "m", "paired t",
                                              "holds", "03_x/metrics.csv", "", seeds=3)])
    table.to_csv(tmp_path / "03_x" / "claims.csv", index=False)
    summary = pd.DataFrame({"metric": ["pixel_mse", "feature_loss"], "zemouri_mean": [0.0312, 1.0],
                            "plain_vae_mean": [0.0401, 2.0], "seeds": [3, 3],
                            "judge_test_accuracy": [0.7961, 0.7961], "compares_the_models": [True, False]})
    summary.to_csv(tmp_path / "06_cifar10" / "cifar10_summary.csv", index=False)
    summary.assign(zemouri_mean=9.0).to_csv(tmp_path / "03_x" / "cifar10_summary.csv", index=False)
    for folder, ended in (("03_x", "2026-01-01T00:00:00"), ("06_cifar10", "2026-02-01T00:00:00")):
        (tmp_path / folder / "provenance.json").write_text(json.dumps({"ended_utc": ended}))
    said = answers.findings(tmp_path, findings.records(tmp_path))[answers.ZEMOURI]
    assert said[-1] == ("On CIFAR-10 (section 4.5, Fig. 10), Zemouri's model against a plain VAE of the same "
                        "networks, mean over 3 seeds: pixel MSE 0.0312 vs 0.0401 (the judge's test accuracy: 0.7961).")
    (tmp_path / "06_cifar10" / "cifar10_summary.csv").unlink()
    said = answers.findings(tmp_path, findings.records(tmp_path))[answers.ZEMOURI]
    assert "pixel MSE 9 vs 0.0401" in said[-1]
