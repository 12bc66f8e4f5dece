"""The study's front page, ``results/README.md``, generated from the committed results: findings
first (each paper's verdicts counted), then one compact matrix of one-word verdicts per paper
(a row per claim, a column per condition: protocol, dataset, AVA variant, budget), each linking to
the claims table that holds its numbers, then the runs behind them. Every number on the page is
read from a file under ``results/``; nothing is typed by hand.

    python -m avalib.front_page        # writes results/README.md and README.md's generated part
"""

from __future__ import annotations

import datetime
import json
import re
import sys
import textwrap
from pathlib import Path

import pandas as pd

from avalib.atomic import write_text
from avalib.claims import CLAIM_COLUMNS, EQUIVALENT, FAILS, FEW_SEEDS, HOLDS, INCONCLUSIVE
from avalib.download import REPOSITORY_ROOT
from avalib.results import published_root

ORDER = (HOLDS, EQUIVALENT, FAILS, INCONCLUSIVE)
AVA_ON_REAL_IMAGES = "ava_claims.csv"        # notebook 04's AVA-vs-VAE table, grouped by claim


def word(verdict: str) -> str:
    """A verdict in a word or two: holds, equivalent, does not hold, inconclusive, "diverged (k of
    n seeds)" or "too few seeds"."""
    verdict = str(verdict)
    diverged = re.search(r"diverged in (\d+)(?: of (\d+))? seeds", verdict)
    if diverged:
        return f"diverged ({diverged[1]} of {diverged[2]} seeds)" if diverged[2] else f"diverged ({diverged[1]} seeds)"
    if FEW_SEEDS in verdict:
        return "too few seeds"
    return verdict.split(" (")[0]


def kind(verdict: str) -> str:
    """Which of the four answers a verdict is (a diverged or seedless claim is inconclusive)."""
    first = str(verdict).split(" (")[0]
    return first if first in ORDER else INCONCLUSIVE


def _wrapped(text: str, bullet: bool = False) -> list[str]:
    """A paragraph (or a list item) wrapped at 100 characters; links are never broken."""
    return textwrap.wrap(text, 100, initial_indent="- " if bullet else "", subsequent_indent="  " if bullet else "",
                         break_long_words=False, break_on_hyphens=False)


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _counts(verdicts: pd.Series) -> dict[str, int]:
    kinds = verdicts.map(kind)
    return {answer: int((kinds == answer).sum()) for answer in ORDER}


def _matrix(frame: pd.DataFrame, rows: list[str], column: str, label: str) -> list[str]:
    """A Markdown table: one row per distinct ``rows`` value, one column per ``column`` value, the
    cell the one-word verdict ("" where the claim was not judged there)."""
    columns = list(dict.fromkeys(frame[column].fillna("").astype(str)))
    lines = ["| " + " | ".join([label, *[_cell(c) or "verdict" for c in columns]]) + " |",
             "| " + " | ".join(["---"] * (len(columns) + 1)) + " |"]
    for key, group in frame.groupby(rows, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        cells = {str(c): word(v) for c, v in zip(group[column].fillna("").astype(str), group["verdict"])}
        name = " - ".join(str(k) for k in key if str(k))
        lines.append("| " + " | ".join([_cell(name), *[cells.get(c, "") for c in columns]]) + " |")
    return lines


PLURAL = {HOLDS: "hold", EQUIVALENT: "equivalent", FAILS: "do not hold", INCONCLUSIVE: "inconclusive"}
SINGULAR = {HOLDS: "holds", EQUIVALENT: "equivalent", FAILS: "does not hold", INCONCLUSIVE: "inconclusive"}


def _sentence(paper: str, counts: dict[str, int], cells: str) -> str:
    total = sum(counts.values())
    parts = [f"{counts[answer]} {(SINGULAR if counts[answer] == 1 else PLURAL)[answer]}"
             for answer in ORDER if counts[answer]]
    return f"**{paper}**: of {total} {cells}, " + ", ".join(parts) + "."


def _claims(root: Path) -> list[tuple[str, pd.DataFrame]]:
    """(results folder, its claims table) for every notebook that wrote one in the current form."""
    found = []
    for path in sorted(root.glob("*/claims.csv")):
        frame = pd.read_csv(path, keep_default_na=False, dtype=str)
        if set(CLAIM_COLUMNS[:8]) <= set(frame.columns):
            found.append((path.parent.name, frame))
    return found


CHECK = "reproduction_check.csv"                 # a later run's setting of the earlier one, trained again
AGAIN = re.compile(r"^verdict_in_(\d\d)$")     # a table judging an earlier notebook's claims again


def _judged_again(tables: list[tuple[str, pd.DataFrame]]) -> dict[str, str]:
    """Notebook number -> the folder whose claims table judges its claims again on more seeds."""
    return {found[1]: folder for folder, frame in tables for column in frame.columns
            if (found := AGAIN.match(column))}


def _sections(root: Path) -> tuple[list[str], list[str]]:
    """(the findings' sentences, the matrices), one of each per (notebook, paper)."""
    findings, sections = [], []
    tables = _claims(root)
    again = _judged_again(tables)
    for folder, frame in tables:
        for paper, rows in frame.groupby("paper", sort=False):
            ava = rows.evidence.str.endswith(AVA_ON_REAL_IMAGES)
            if ava.all() and (root / folder / AVA_ON_REAL_IMAGES).exists():
                table = pd.read_csv(root / folder / AVA_ON_REAL_IMAGES, keep_default_na=False, dtype=str)
                table["row"] = table["claim"] + " (" + table["dataset"] + ")"
                findings.append(_sentence(f"{paper} on real images, notebook {folder}", _counts(table.verdict),
                                          "claim x dataset x AVA variant cells, each against the VAE"))
                sections += [f"## {paper}: its claims on real images, notebook {folder}", "",
                             *_wrapped(f"One row per claim and dataset, one column per AVA variant (its update "
                                       f"rules); numbers: [`{folder}/{AVA_ON_REAL_IMAGES}`]({folder}/{AVA_ON_REAL_IMAGES})."), "",
                             *_matrix(table, ["row"], "model", "claim (dataset)"), ""]
                continue
            conditions = [c for c in dict.fromkeys(rows.condition) if c]
            evidence = f"{folder}/claims.csv"
            cells = (f"claim x condition cells ({len(conditions)} conditions)" if len(conditions) > 1
                     else "claim" if len(rows) == 1 else "claims")
            findings.append(_sentence(f"{paper}, notebook {folder}", _counts(rows.verdict), cells))
            only = f" Judged on {conditions[0]} only." if len(conditions) == 1 else ""
            earlier = {column: found[1] for column in rows.columns if (found := AGAIN.match(column))}
            sections += [f"## {paper}: notebook {folder}", "",
                         *_wrapped(f"One row per claim{', one column per condition' if len(conditions) > 1 else ''}; "
                                   f"the numbers behind each cell (effect, 95 % interval over seeds, seeds, the "
                                   f"seeds an undecided claim would need): [`{evidence}`]({evidence}).{only}"), "",
                         *_notes(rows, again.get(folder[:2]), judged_again=bool(earlier))]
            if earlier:
                number = next(iter(earlier.values()))
                sections += [*_wrapped(f"These cells judge claims of notebook {number} again, on the seeds its "
                                       f"power estimates asked for pooled with its own, by the same rule and "
                                       f"Holm family; they replace its cells for the same claim and condition. "
                                       f"The second matrix is notebook {number}'s verdict on its seeds."
                                       + (f" The settings both runs measured, compared (the same seed need not give "
                                          f"the same numbers on another machine; each run's is in its "
                                          f"`provenance.json`): [`{folder}/{CHECK}`]({folder}/{CHECK})."
                                          if (root / folder / CHECK).exists() else "")), ""]
            named = rows.assign(row=rows.section + ": " + rows.claim
                                + rows.measured.str.extract(r"^([a-z_ ]+(?: \(SD shown\))?):", expand=False)
                                .fillna("").map(lambda m: f" [{m}]" if m else ""))
            sections += [*_matrix(named, ["row"], "condition", "claim"), ""]
            for column, words in [*SECOND_VERDICTS.items(),
                                  *[(c, f"Notebook {n}'s verdicts, on its own seeds:") for c, n in earlier.items()]]:
                if column in rows:
                    sections += [*_wrapped(words), "",
                                 *_matrix(named.assign(verdict=named[column]), ["row"], "condition", "claim"), ""]
    return findings, sections


# A claims table's further verdict column, shown as a second matrix, with what it asks.
SECOND_VERDICTS = {"verdict_vs_authors_spread": (
    "The same claims judged so that a difference smaller than the authors' own run-to-run spread "
    "does not count (a strict claim holds only beyond it): a claim that holds above but not here "
    "rests on a difference the paper's own runs cannot resolve.")}

NEAR = 10           # an undecided claim this many seeds or fewer from a verdict is named


def _short(row) -> str:
    """A claim named in a sentence: its section and first words, and its condition."""
    words = row.claim if len(row.claim) <= 60 else row.claim[:57].rsplit(" ", 1)[0] + " ..."
    return f"{row.section} \"{words}\"" + (f" ({row.condition})" if row.condition else "")


def _notes(rows: pd.DataFrame, again: str | None = None, judged_again: bool = False) -> list[str]:
    """Sentences under a paper's heading: the undecided claims within NEAR seeds of a verdict (the
    power estimate of its claims table; ``again``: the folder that runs those seeds; ``judged_again``:
    the table already pools such seeds, so none are added) and the seed-sensitive ones."""
    lines = []
    if "seeds_needed" in rows:
        needed = pd.to_numeric(rows.seeds_needed, errors="coerce")
        near = rows[(needed <= NEAR) & rows.verdict.map(kind).eq(INCONCLUSIVE)]
        if len(near):
            named = "; ".join(f"{_short(r)}: {int(float(r.seeds_needed))} seeds for \"{r.seeds_needed_for}\""
                              for r in near.itertuples())
            later = ""
            if again:
                later = f" Notebook {again} runs those seeds: [`{again}/claims.csv`]({again}/claims.csv)."
            elif judged_again:
                later = (" Not run: these claims already had the seeds an earlier estimate asked for, "
                         "and adding seeds until a verdict comes would be optional stopping.")
            lines += [*_wrapped(f"Undecided but within {NEAR} seeds of a verdict (a power estimate from the "
                                f"observed effect and spread): {named}.{later}"), ""]
    if "seed_sensitive" in rows:
        sensitive = rows[rows.seed_sensitive.astype(str).eq("True") & rows.verdict.eq(INCONCLUSIVE)]
        if len(sensitive):
            named = "; ".join(_short(r) for r in sensitive.itertuples())
            lines += [*_wrapped(f"Undecided and seed-sensitive (the per-seed differences vary more than their "
                                f"distance from the tested value, so the seeds' spread, itself uncertain, "
                                f"decides where they fall): {named}."), ""]
    return lines


def _minutes(seconds) -> str:
    return f"{seconds / 60:.1f} min" if seconds is not None else "-"


def _provenances(root: Path):
    """(results folder, its provenance, the cost of its units) of every notebook run."""
    for path in sorted(root.glob("*/provenance.json")):
        provenance = json.loads(path.read_text())
        yield path.parent.name, provenance, provenance.get("units") or {}


def _runs(root: Path) -> list[str]:
    lines = ["## The runs behind these numbers", "",
             *_wrapped("Compute: the seconds every unit of work took when it was trained, summed "
                       "(also where this execution loaded it from the cache); wall: this "
                       "execution of the notebook; efficiency: the seconds of the units this "
                       "execution computed over wall x workers (the rest of the wall is loading, "
                       "scoring in the notebook and idle workers)."), "",
             "| notebook | commit | finished | compute | wall | workers | efficiency | units (from cache) | files |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for folder, provenance, units in _provenances(root):
        lines.append(f"| [`{folder}`]({folder}/{folder}.ipynb) | `{provenance['git_commit'][:12]}` "
                     f"| {provenance['ended_utc']} | {_minutes(units.get('unit_seconds'))} "
                     f"| {_minutes(provenance['wall_seconds'])} | {units.get('workers', '-')} "
                     f"| {_efficiency(units, provenance['wall_seconds'])} "
                     f"| {units.get('units', '-')} ({units.get('from_cache', '-')}) "
                     f"| [{len(provenance['files'])} files]({folder}/provenance.json) |")
    together = _together(root)
    return lines + (["", *_wrapped(together)] if together else [])


def _together(root: Path) -> str:
    """The runs as one: the seconds of the units they computed over the time some notebook was
    running (the union of their executions, so notebooks that ran at once on one cluster count
    once and a pause between runs not at all) x the most workers any used; of the runs that
    record their computed seconds ("" where none does)."""
    spans, computed, workers = [], 0.0, 1
    for _, provenance, units in _provenances(root):
        if "computed_seconds" not in units:
            continue
        spans.append((datetime.datetime.fromisoformat(provenance["started_utc"]),
                      datetime.datetime.fromisoformat(provenance["ended_utc"])))
        computed += units.get("computed_seconds") or 0.0
        workers = max(workers, units.get("workers") or 1)
    busy, end = 0.0, None
    for start, stop in sorted(spans):
        if end is not None and start < end:
            start = end
        if stop > start:
            busy += (stop - start).total_seconds()
        end = stop if end is None else max(end, stop)
    if not busy or not computed:
        return ""
    share = f"{100 * computed / (busy * workers):.0f} %"
    return (f"All runs together: {_minutes(busy)} while some notebook ran (notebooks run at once "
            f"counted once), {_minutes(computed)} of units computed in them on up to {workers} "
            f"workers: efficiency {share}.")


def _efficiency(units: dict, wall_seconds: float) -> str:
    """computed seconds / (wall x workers), where the run recorded both."""
    if not units.get("units") or units.get("computed_seconds") is None or not wall_seconds:
        return "-"
    return f"{100 * units['computed_seconds'] / (wall_seconds * units.get('workers', 1)):.0f} %"


INTRODUCTION = (
    "Every claim the study's papers make in words, measured and judged by one rule "
    "([`avalib/claims.py`](../avalib/claims.py)): a one-sided test over seeds (t, or the exact "
    "sign-flip / permutation test where seeds tie or values lie on a grid), Holm-corrected over each "
    "claims table at a family-wise 5 %. A claim **holds** or **does not hold** where the seeds show "
    "it; it is **equivalent** where they show no effect beyond a margin named per measure; "
    "**inconclusive** otherwise, or **diverged** where training diverged in the seeds named. "
    "Generated by `make reproduce` from the files under `results/`.")


def front_page(root: Path) -> str:
    findings, sections = _sections(root)
    lines = ["# What the seeds show: adversarial VAEs, claim by claim", "",
             *_wrapped(INTRODUCTION), "",
             "## Findings", "", *[line for sentence in findings for line in _wrapped(sentence, bullet=True)], "",
             *sections, *_runs(root)]
    return "\n".join(lines) + "\n"


def write_front_page(root: Path | None = None) -> Path:
    """Write ``<root>/README.md`` (``front_page``)."""
    root = root or published_root()
    return write_text(root / "README.md", front_page(root))


# README.md's part that the results write: between these two lines, replaced by ``readme_block``.
README_START = "<!-- generated from results/ by `python -m avalib.front_page`: do not edit by hand -->"
README_END = "<!-- end of the generated part -->"


def readme_block(root: Path) -> str:
    """The notebooks' costs and findings for README.md, from the committed results: per notebook
    the compute its units took, the wall time of its execution, and its verdicts counted."""
    findings, _ = _sections(root)
    lines = [README_START, "",
             "| notebook | compute (its units, as trained) | wall (this execution) | finished |",
             "| --- | --- | --- | --- |"]
    for folder, provenance, units in _provenances(root):
        lines.append(f"| [`{folder}`](results/{folder}/{folder}.ipynb) | {_minutes(units.get('unit_seconds'))} "
                     f"| {_minutes(provenance['wall_seconds'])} | {provenance['ended_utc'][:10]} |")
    lines += ["", "Verdicts (every cell of every claims table; [`results/README.md`](results/README.md) "
              "shows them claim by claim):", ""]
    lines += [line for sentence in findings for line in _wrapped(sentence, bullet=True)]
    for file, caption in KEY_TABLES:
        if (root / file).exists():
            lines += ["", *_wrapped(f"{caption} ([`{file}`](results/{file})):"), "",
                      (root / file).read_text().rstrip()]
    return "\n".join([*lines, "", README_END])


# The tables README.md shows whole (results-relative path, what it answers).
KEY_TABLES = [
    ("01_nguyen_bm_tables/readings_vs_paper.md", "How close each protocol comes to the paper's Tables "
     "1-2 and 3: the share of cells within the agreement band of the printed value, and the mean and "
     "largest absolute difference"),
    ("01_nguyen_bm_tables/trivial_baselines.md", "What the balance metric rewards: the BM of trivial "
     "images, under the authors' code and under eq. 17 as printed"),
    ("02_latent_space/step1_over_seeds.md", "Zemouri's step 1 over seeds: the latent classifier's "
     "test accuracy and the KL per dataset and K_z"),
]


def update_readme(readme: Path, root: Path) -> Path:
    """Replace README.md's generated part with ``readme_block`` of ``root``."""
    text = readme.read_text()
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    return write_text(readme, text[:start] + readme_block(root) + text[end:])


if __name__ == "__main__":
    if sys.argv[1:]:
        sys.exit("usage: python -m avalib.front_page")
    root = published_root()
    print(f"wrote {write_front_page(root)}")
    readme = root.parent / "README.md"
    if root.resolve() == (REPOSITORY_ROOT / "results").resolve() and readme.exists():
        print(f"wrote {update_readme(readme, root)}")
