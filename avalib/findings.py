"""The study's answers as records: every claim x condition cell of every committed claims table,
with typed columns, and what the front page builds from them (one matrix per paper, the main
claims, the findings in sentences). Nothing here knows a notebook by name: a table that judges an
earlier table's claims again says so by its ``verdict_in_NN`` column, a table of one claim per
model by its file (``MODEL_TABLE``).

A record (``RECORD_COLUMNS``): the paper, its section and words (``claim``), the measure where one
claim is measured more than one way, the dataset and the condition in plain words (protocol,
AVA variant, budget), the verdict's kind (``KINDS``) and its text, the seeds and the seeds that
diverged, the effect with its 95 % interval over seeds, the paper's own difference where it
printed one, the strict kind (a difference inside the authors' run-to-run spread not counted),
the table that judged the cell again on more seeds and the kind it had before, the evidence, and
the table it comes from.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from avalib.claims import CLAIM_COLUMNS, EQUIVALENT, FAILS, HOLDS, INCONCLUSIVE
from avalib.nguyen.report import PROTOCOL_NAMES
from avalib.plotting import DATASET_NAMES

DIVERGED = "diverged"
KINDS = (HOLDS, EQUIVALENT, FAILS, INCONCLUSIVE, DIVERGED)
MODEL_TABLE = "ava_claims.csv"        # one claim per dataset x model, beside a claims table
AGAIN = re.compile(r"^verdict_in_(\d\d)$")

# Conditions in words: the AVA protocols (PROTOCOL_NAMES, whose rules train the models) and the
# datasets (DATASET_NAMES).
PROTOCOL_LEGEND = ("authors' code: the update rules of the authors' published code (value derivative: "
                   "with the derivative of the value it logs); printed rules: as the paper prints them; "
                   "true gradients: of the objectives it states")

RECORD_COLUMNS = ["paper", "section", "claim", "measure", "dataset", "condition", "test", "kind", "verdict",
                  "seeds", "diverged_seeds", "effect", "interval_low", "interval_high", "paper_difference",
                  "strict_kind", "judged_again_in", "earlier_kind", "earlier_seeds", "seeds_needed",
                  "seed_sensitive", "evidence", "table"]


def _dataset_name(condition: str) -> str | None:
    """A dataset's name in words where ``condition`` names one (in any case), else None."""
    return DATASET_NAMES.get(condition, DATASET_NAMES.get(condition.lower()))


def plain(condition: str) -> str:
    """A condition in words: a protocol, a dataset, or "AVA3, true gradients" for a model."""
    condition = str(condition)
    if condition in PROTOCOL_NAMES:
        return PROTOCOL_NAMES[condition]
    if name := _dataset_name(condition):
        return name
    model, _, protocol = condition.partition(" ")
    return f"{model}, {PROTOCOL_NAMES[protocol]}" if protocol in PROTOCOL_NAMES else condition


def kind(verdict: str, diverged=0, seeds=0) -> str:
    """Which of ``KINDS`` a verdict is: its first words; "diverged" where seeds diverged and
    fewer than two were left to judge (``seeds`` counts the seeds judged); "inconclusive" for any
    other undecided text."""
    first = str(verdict).split(" (")[0]
    if first == INCONCLUSIVE and _number(diverged) > 0 and _number(seeds) < 2:
        return DIVERGED
    return first if first in KINDS else INCONCLUSIVE


def _number(value) -> float:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return 0.0 if pd.isna(number) else float(number)


def _column(frame: pd.DataFrame, name: str, default="") -> pd.Series:
    return frame[name] if name in frame else pd.Series(default, index=frame.index)


def _measure(frame: pd.DataFrame) -> pd.Series:
    """The measure of each row where the table names one; else the words before the first colon
    of ``measured`` for a claim measured more than one way under one condition (a table written
    before claims carried a ``measure`` column), "" otherwise."""
    if "measure" in frame:
        return frame["measure"].fillna("").astype(str)
    repeated = frame.duplicated(["paper", "claim", "condition"], keep=False)
    words = frame["measured"].astype(str).str.split(":").str[0].str.replace(r" \(SD shown\)", "", regex=True)
    return words.where(repeated, "")


def _table_records(folder: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A claims table's rows as records (the datasets of a claims table are its conditions)."""
    condition = frame["condition"].astype(str)
    dataset = condition.map(lambda c: _dataset_name(c) or "")
    seeds, diverged = _column(frame, "seeds", 0), _column(frame, "diverged_seeds", 0)
    strict = _column(frame, "verdict_vs_authors_spread")
    return pd.DataFrame({
        "paper": frame["paper"], "section": frame["section"], "claim": frame["claim"],
        "measure": _measure(frame), "dataset": dataset,
        "condition": condition.where(dataset.eq(""), "").map(lambda c: plain(c) if c else ""),
        "test": frame["test"],
        "kind": [kind(v, d, s) for v, d, s in zip(frame["verdict"], diverged, seeds)],
        "verdict": frame["verdict"], "seeds": seeds, "diverged_seeds": diverged,
        "effect": _column(frame, "effect"), "interval_low": _column(frame, "interval_low"),
        "interval_high": _column(frame, "interval_high"),
        "paper_difference": _column(frame, "paper_difference"),
        "strict_kind": [kind(v, d, s) if v else "" for v, d, s in zip(strict, diverged, seeds)],
        "judged_again_in": "", "earlier_kind": "", "earlier_seeds": "",
        "seeds_needed": _column(frame, "seeds_needed"), "seed_sensitive": _column(frame, "seed_sensitive"),
        "evidence": frame["evidence"], "table": f"{folder}/claims.csv"})


def _model_records(folder: str, paper: str, section: str, table: pd.DataFrame) -> pd.DataFrame:
    """A table of one claim per dataset x model (``MODEL_TABLE``) as records: the condition is
    the model (its AVA variant and protocol)."""
    return pd.DataFrame({
        "paper": paper, "section": section, "claim": table["claim"], "measure": "",
        "dataset": table["dataset"].map(plain), "condition": table["model"].map(plain),
        "test": table["test"],
        "kind": [kind(v, d, s) for v, d, s in zip(table["verdict"], table["diverged seeds"], table["seeds"])],
        "verdict": table["verdict"], "seeds": table["seeds"], "diverged_seeds": table["diverged seeds"],
        "effect": table["effect"], "interval_low": table["interval_low"], "interval_high": table["interval_high"],
        "paper_difference": "", "strict_kind": "", "judged_again_in": "", "earlier_kind": "",
        "earlier_seeds": "", "seeds_needed": table["seeds_needed"], "seed_sensitive": table["seed_sensitive"],
        "evidence": f"{folder}/{MODEL_TABLE}", "table": f"{folder}/{MODEL_TABLE}"})


def _judged_again(part: pd.DataFrame, frame: pd.DataFrame, folder: str, again: list) -> pd.DataFrame:
    """``part`` (the records of ``frame``) where ``frame`` has an earlier table's verdicts
    (``verdict_in_NN``): (NN, part) is added to ``again`` (its cells replace that table's), and a
    cell whose seeds or kind moved is marked as judged again in ``folder``, with the earlier kind
    and seeds in ``earlier_*`` (a cell judged on the same seeds to the same kind is not marked)."""
    for column in frame.columns:
        if found := AGAIN.match(column):
            earlier_kind = frame[column].map(kind).to_numpy()
            earlier_seeds = _column(frame, f"seeds_in_{found[1]}").astype(str).to_numpy()
            moved = (earlier_kind != part["kind"].to_numpy()) | (earlier_seeds != part["seeds"].astype(str).to_numpy())
            part["judged_again_in"] = pd.Series(folder, index=part.index).where(moved, "")
            part["earlier_kind"] = pd.Series(earlier_kind, index=part.index).where(moved, "")
            part["earlier_seeds"] = pd.Series(earlier_seeds, index=part.index).where(moved, "")
            again.append((found[1], part))
    return part


def records(root: Path) -> pd.DataFrame:
    """Every claim x condition cell of every claims table under ``root``, final verdicts only:
    where a later table judges an earlier one's claim again (its ``verdict_in_NN`` column), the
    later cell replaces the earlier, which keeps its kind and seeds in ``earlier_*``."""
    parts, again = [], []
    for path in sorted(root.glob("*/claims.csv")):
        frame = pd.read_csv(path, keep_default_na=False, dtype=str)
        if not set(CLAIM_COLUMNS[:8]) <= set(frame.columns):
            continue
        folder = path.parent.name
        models = frame["evidence"].str.endswith(MODEL_TABLE) & (path.parent / MODEL_TABLE).exists()
        if models.any():
            first = frame[models].iloc[0]
            table = pd.read_csv(path.parent / MODEL_TABLE, keep_default_na=False, dtype=str)
            parts.append(_judged_again(_model_records(folder, first["paper"], first["section"], table),
                                       table, folder, again))
        parts.append(_judged_again(_table_records(folder, frame[~models]), frame[~models], folder, again))
    frame = pd.concat(parts, ignore_index=True)[RECORD_COLUMNS] if parts else pd.DataFrame(columns=RECORD_COLUMNS)
    key = ["paper", "claim", "condition", "measure", "dataset"]
    for number, later in again:
        # The later cell takes the earlier one's place, so each table keeps its order of claims.
        is_later = frame["table"].eq(later["table"].iloc[0])
        replacing = {tuple(row[key]): row for _, row in frame[is_later].iterrows()}
        is_earlier = frame["table"].str.startswith(number + "_")
        replaced = {tuple(row[key]) for _, row in frame[is_earlier].iterrows()} & set(replacing)
        rows = [replacing[tuple(row[key])] if earlier and tuple(row[key]) in replaced else row
                for (_, row), earlier, later_row in zip(frame.iterrows(), is_earlier, is_later)
                if not (later_row and tuple(row[key]) in replaced)]
        frame = pd.DataFrame(rows, columns=RECORD_COLUMNS)
    return _latest_runs(root, frame, key).reset_index(drop=True)


def run_ended(folder: Path) -> str:
    """When the run in ``folder`` finished (``provenance.json``'s ``ended_utc``; "" for none)."""
    path = folder / "provenance.json"
    return json.loads(path.read_text()).get("ended_utc", "") if path.exists() else ""


def _latest_runs(root: Path, frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Where two tables judge the same cell and neither judges the other's again (a claim that
    moved to another notebook, whose former notebook's committed run predates the move), the
    cell of the run that finished last (``provenance.json``'s ``ended_utc``) is kept."""
    ended = {table: run_ended(root / table.split("/")[0]) for table in frame["table"].unique()}
    latest = frame.assign(ended=frame["table"].map(ended)).groupby(key, sort=False)["ended"].transform("max")
    return frame[frame["table"].map(ended).eq(latest)]


def row_labels(frame: pd.DataFrame) -> pd.Series:
    """A matrix row per claim: section, the claim, [its measure] and (its dataset where the
    columns are not the datasets)."""
    # where the row names its dataset, a section's parenthesis (e.g. "(tested on real images)") is dropped
    section = frame["section"].where(frame["dataset"].eq("") | frame["condition"].eq(""),
                                     frame["section"].str.replace(r" \(.*\)$", "", regex=True))
    label = section + ": " + frame["claim"]
    label = label + frame["measure"].map(lambda m: f" [{m}]" if m else "")
    return label + [f" ({d})" if d and c else "" for d, c in zip(frame["dataset"], frame["condition"])]


def column_labels(frame: pd.DataFrame) -> pd.Series:
    """A matrix column per condition: the condition in words, else the dataset."""
    return frame["condition"].where(frame["condition"].ne(""), frame["dataset"]).replace("", "verdict")


MARKS = {"again": "*", "strict": "+"}


def cell_marks(frame: pd.DataFrame) -> pd.Series:
    """A cell's marks: ``*`` judged again on more seeds by a later table, ``+`` the strict
    reading (differences inside the authors' run-to-run spread not counted) gives another kind."""
    again = frame["judged_again_in"].ne("").map({True: MARKS["again"], False: ""})
    strict = (frame["strict_kind"].ne("") & frame["strict_kind"].ne(frame["kind"])).map(
        {True: MARKS["strict"], False: ""})
    return again + strict


def matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """One paper's records as claims x conditions of kinds with their marks ("" where a claim was
    not judged under a condition), in the order the tables list them."""
    cells = frame.assign(row=row_labels(frame), column=column_labels(frame),
                         cell=frame["kind"] + cell_marks(frame))
    table = cells.pivot_table(index="row", columns="column", values="cell", aggfunc="first", sort=False)
    columns = list(dict.fromkeys(cells["column"]))
    first = [c for c in PROTOCOL_NAMES.values() if c in columns]
    return table.reindex(index=list(dict.fromkeys(cells["row"])),
                         columns=first + [c for c in columns if c not in first]).fillna("")


def papers(frame: pd.DataFrame) -> list[str]:
    """The papers in the order their first claims appear."""
    return list(dict.fromkeys(frame["paper"]))


def counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many cells of each kind."""
    return {answer: int(frame["kind"].eq(answer).sum()) for answer in KINDS}


# The study's three bodies of work: a paper's claims are shown under its study (the two surveys
# share one matrix).
SURVEYS = "VAE vs GAN: the two surveys"
STUDIES = {"Kapoor et al. (GANs and VAEs study)": SURVEYS, "Aymen (2023)": SURVEYS}


def study(paper: str) -> str:
    """The body of work a paper's claims belong to (the paper itself, or ``SURVEYS``)."""
    return STUDIES.get(paper, paper)


def studies(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The records of each study, in the order their first claims appear; a survey's rows say
    which survey."""
    frame = frame.assign(study=frame["paper"].map(study))
    surveyed = frame["study"].ne(frame["paper"])
    frame.loc[surveyed, "section"] = frame.loc[surveyed, "paper"].str.split(" \\(").str[0] + ", " \
        + frame.loc[surveyed, "section"]
    return {name: part.drop(columns="study") for name, part in frame.groupby("study", sort=False)}
