"""The study's front page, ``results/README.md``, generated from the committed results: the
findings in sentences per study (``avalib.answers``), the headline figure of every claim's verdict
(``verdict_matrix.png``), the main claims with their numbers, one matrix of verdicts per study
built from the claims' records (``avalib.findings``; also written whole as ``verdicts.csv``), and
the runs behind them. Every number on the page is read from a file under ``results/``; nothing is
typed by hand, and no notebook is named in this code.

    python -m avalib.front_page        # writes results/README.md and README.md's generated part
"""

from __future__ import annotations

import datetime
import json
import re
import sys
import textwrap
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from avalib import answers, findings
from avalib.atomic import atomic_path, write_text
from avalib.download import REPOSITORY_ROOT
from avalib.nguyen.report import PROTOCOL_NAMES
from avalib.results import published_root

FIGURE = "verdict_matrix.png"
RECORDS = "verdicts.csv"
NEAR = 10           # an undecided cell this many seeds or fewer from a verdict is counted as near


def _wrapped(text: str, bullet: bool = False) -> list[str]:
    """A paragraph (or a list item) wrapped at 100 characters; links are never broken."""
    return textwrap.wrap(text, 100, initial_indent="- " if bullet else "", subsequent_indent="  " if bullet else "",
                         break_long_words=False, break_on_hyphens=False)


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _markdown(table: pd.DataFrame, label: str) -> list[str]:
    """A matrix (or any table) as Markdown rows, its index the first column named ``label``."""
    lines = ["| " + " | ".join([label, *[_cell(c) for c in table.columns]]) + " |",
             "| " + " | ".join(["---"] * (len(table.columns) + 1)) + " |"]
    return lines + ["| " + " | ".join([_cell(i), *[_cell(v) for v in row]]) + " |" for i, row in table.iterrows()]


def _marks_legend(frame: pd.DataFrame) -> str:
    """The marks a study's matrix uses, in words, from its records."""
    words = []
    again = frame[frame["judged_again_in"].ne("")]
    if len(again):
        earlier = sorted({t.split("/")[0] for t in frame["table"]} - set(again["judged_again_in"]))
        words.append(f"{findings.MARKS['again']} judged again on more seeds in "
                     f"`{again['judged_again_in'].iloc[0]}` (replacing {', '.join(f'`{e}`' for e in earlier)}'s)")
    if (findings.cell_marks(frame).str.contains("\\" + findings.MARKS["strict"])).any():
        words.append(f"{findings.MARKS['strict']} another verdict when a difference inside the authors' "
                     f"run-to-run spread does not count (`strict_kind`)")
    return "; ".join(words)


def _undecided(frame: pd.DataFrame) -> str:
    """One line: the undecided cells, how many a power estimate puts within ``NEAR`` seeds of a
    verdict, how many are seed-sensitive."""
    undecided = frame[frame["kind"].eq(findings.INCONCLUSIVE)]
    if not len(undecided):
        return ""
    needed = pd.to_numeric(undecided["seeds_needed"], errors="coerce")
    sensitive = undecided["seed_sensitive"].astype(str).eq("True")
    return (f"Undecided: {len(undecided)} cells ({int((needed <= NEAR).sum())} within {NEAR} seeds of a "
            f"verdict, {int(sensitive.sum())} seed-sensitive: [`{RECORDS}`]({RECORDS})).")


def _study_section(name: str, frame: pd.DataFrame) -> list[str]:
    tables = ", ".join(f"[`{t}`]({t})" for t in dict.fromkeys(frame["table"]))
    legend = [f"Numbers: {tables}."]
    protocols = tuple(PROTOCOL_NAMES.values())
    if frame["condition"].map(lambda c: c.endswith(protocols)).any():
        legend.append(f"Conditions: {findings.PROTOCOL_LEGEND}.")
    if marks := _marks_legend(frame):
        legend.append(f"Marks: {marks}.")
    if line := _undecided(frame):
        legend.append(line)
    return [f"## {name}: every claim", "", *_wrapped(" ".join(legend)), "",
            *_markdown(findings.matrix(frame), "claim"), ""]


def _minutes(seconds) -> str:
    return f"{seconds / 60:.1f} min" if seconds is not None else "-"


def _provenances(root: Path):
    """(results folder, its provenance, the cost of its units) of every notebook run."""
    for path in sorted(root.glob("*/provenance.json")):
        provenance = json.loads(path.read_text())
        yield path.parent.name, provenance, provenance.get("units") or {}


RUNS = "runs.md"


def runs_page(root: Path) -> str:
    """``runs.md``: every notebook's run (commit, end, compute, wall, workers, efficiency, units
    and the cache's share, its files), all runs together, the compute and hardware."""
    return "\n".join(["# The runs behind the study's numbers", "", *_runs(root)[2:]]) + "\n"


def _runs_line(root: Path) -> list[str]:
    """The front page's last section: the compute and hardware line and a link to ``runs.md``."""
    line = compute_line(root)
    return ["## The runs", "", *_wrapped(f"{line} Each notebook's run, commit and cost: "
                                         f"[`{RUNS}`]({RUNS}).")] if line else []


def _runs(root: Path) -> list[str]:
    lines = ["## The runs behind these numbers", "",
             *_wrapped("Compute: the seconds every unit of work took when it was trained, summed "
                       "(also where this execution loaded it from the cache); wall: this "
                       "execution of the notebook; efficiency: the seconds of the units this "
                       "execution computed over wall x workers (the rest of the wall is loading, "
                       "scoring in the notebook and idle workers; where notebooks ran at once on "
                       "one cluster, also theirs together)."), "",
             "| notebook | commit | finished | compute | wall | workers | efficiency | units (from cache) | files |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    shared = _shared_efficiency(root)
    for folder, provenance, units in _provenances(root):
        lines.append(f"| [`{folder}`]({folder}/{folder}.ipynb) | `{provenance['git_commit'][:12]}` "
                     f"| {provenance['ended_utc']} | {_minutes(units.get('unit_seconds'))} "
                     f"| {_minutes(provenance['wall_seconds'])} | {units.get('workers', '-')} "
                     f"| {_efficiency(units, provenance['wall_seconds'])}{shared.get(folder, '')} "
                     f"| {units.get('units', '-')} ({units.get('from_cache', '-')}) "
                     f"| [{len(provenance['files'])} files]({folder}/provenance.json) |")
    together = " ".join(t for t in (_together(root), compute_line(root)) if t)
    return lines + (["", *_wrapped(together)] if together else [])


class _Run(NamedTuple):
    """A notebook's execution as the runs table counts it."""
    folder: str
    start: datetime.datetime
    stop: datetime.datetime
    computed: float              # seconds of the units it computed
    workers: int


def _at_once(root: Path) -> list[list[_Run]]:
    """The runs that record their computed seconds, in groups of runs whose executions overlapped
    (they shared one cluster's workers), in order of start."""
    runs = sorted((_Run(folder, datetime.datetime.fromisoformat(provenance["started_utc"]),
                        datetime.datetime.fromisoformat(provenance["ended_utc"]),
                        units.get("computed_seconds") or 0.0, units.get("workers") or 1)
                   for folder, provenance, units in _provenances(root) if "computed_seconds" in units),
                  key=lambda run: (run.start, run.stop))
    groups, end = [], None
    for run in runs:
        if end is None or run.start >= end:
            groups.append([])
        groups[-1].append(run)
        end = run.stop if end is None else max(end, run.stop)
    return groups


def _group_share(group: list[_Run]) -> tuple[float, float, int]:
    """A group of runs at once: the seconds some run of it was running, the seconds of the units
    they computed, and the most workers any used."""
    busy = (max(run.stop for run in group) - min(run.start for run in group)).total_seconds()
    return busy, sum(run.computed for run in group), max(run.workers for run in group)


def _together(root: Path) -> str:
    """The runs as one: the seconds of the units they computed over the time some notebook was
    running (the union of their executions, so notebooks that ran at once on one cluster count
    once and a pause between runs not at all) x the most workers any used; of the runs that
    record their computed seconds ("" where none does)."""
    shares = [_group_share(group) for group in _at_once(root)]
    busy, computed = sum(share[0] for share in shares), sum(share[1] for share in shares)
    workers = max((share[2] for share in shares), default=1)
    if not busy or not computed:
        return ""
    share = _percent(computed, busy, workers)
    return (f"All runs together: {_minutes(busy)} while some notebook ran (notebooks run at once "
            f"counted once), {_minutes(computed)} of units computed in them on up to {workers} "
            f"workers: efficiency {share}.")


def _efficiency(units: dict, wall_seconds: float) -> str:
    """computed seconds / (wall x workers), where the run recorded both."""
    if not units.get("units") or units.get("computed_seconds") is None or not wall_seconds:
        return "-"
    return _percent(units["computed_seconds"], wall_seconds, units.get("workers", 1))


def _percent(computed: float, wall: float, workers: int) -> str:
    """Worker efficiency in words: computed seconds / (wall x workers)."""
    return f"{100 * computed / (wall * workers):.0f} %"


def _shared_efficiency(root: Path) -> dict[str, str]:
    """For each run that shared its workers with runs at once, the group's efficiency: the units
    all of them computed over the time some of them ran x workers (a notebook's own share of a
    shared cluster says nothing of idle workers)."""
    shared = {}
    for group in _at_once(root):
        if len(group) > 1:
            busy, computed, workers = _group_share(group)
            for run in group:
                others = ", ".join(other.folder[:2] for other in group if other is not run)
                shared[run.folder] = f" (with {others} at once: {_percent(computed, busy, workers)})"
    return shared


INTRODUCTION = (
    "Every claim the papers make in words, judged by one rule "
    "([`avalib/claims.py`](../avalib/claims.py)): a one-sided test over seeds (t, or an exact "
    "permutation test where seeds tie or values lie on a grid), Holm-corrected over each claims "
    "table at a family-wise 5 %. " + answers.MEANING)


def _short_cpu(model: str) -> str:
    """A CPU model as a reader names it: without the trademark signs and the word "Processor"
    ("Intel(R) Xeon(R) Processor (family 6, ...)" is "Intel Xeon (family 6, ...)")."""
    return re.sub(r"\s+", " ", re.sub(r"\((R|TM)\)|\bProcessor\b", "", model)).strip()


def compute_line(root: Path) -> str:
    """The committed run's compute and hardware in one sentence: the units' seconds as trained,
    summed, and which notebooks ran on which CPU under which numerics."""
    seconds, machines = 0.0, {}
    for folder, provenance, units in _provenances(root):
        seconds += units.get("unit_seconds") or 0.0
        machine = (f"{provenance.get('cpu_count', '?')}-core {_short_cpu(provenance.get('cpu_model', 'unknown CPU'))}, "
                   f"{provenance.get('numerics', 'native')} numerics")
        machines.setdefault(machine, []).append(folder[:2])
    if not machines:
        return ""
    return (f"The committed run: {seconds / 3600:.1f} h of units as trained, on "
            + "; ".join(f"{machine} ({', '.join(numbers)})" for machine, numbers in machines.items()) + ".")


def _findings(root: Path, frame: pd.DataFrame) -> list[str]:
    lines = []
    for name, sentences in answers.findings(root, frame).items():
        lines += [f"**{name}**", "", *[line for s in sentences for line in _wrapped(s, bullet=True)], ""]
    return lines


def write_figure(root: Path, frame: pd.DataFrame) -> Path:
    """The headline figure, ``verdict_matrix.png``: every study's matrix, one colour per verdict."""
    from avalib import plotting
    import matplotlib.pyplot as plt

    matrices = {}
    for name, part in findings.studies(frame).items():
        matrix = findings.matrix(part)
        # the figure's row labels: the claim, [its measure's first words], (its dataset), no section
        short = part["claim"] + part["measure"].map(lambda m: f" [{m.split(' (')[0]}]" if m else "") \
            + [f" ({d})" if d and c else "" for d, c in zip(part["dataset"], part["condition"])]
        labels = dict(zip(findings.row_labels(part), short))
        matrices[name] = matrix.rename(index=labels) if len(set(labels.values())) == len(labels) else matrix
    figure = plotting.verdict_matrix_figure(matrices, legend=" ".join(
        f"{mark} {words}" for mark, words in ((findings.MARKS["again"], "judged again on more seeds;"),
                                             (findings.MARKS["strict"], "the strict reading differs."))))
    path = root / FIGURE
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def front_page(root: Path, frame: pd.DataFrame | None = None) -> str:
    frame = findings.records(root) if frame is None else frame
    studies = findings.studies(frame)
    main = answers.main_claims(frame)
    lines = ["# Adversarial VAEs, claim by claim", "", "## Findings", ""]
    if (root / FIGURE).exists():
        lines += [f'<img src="{FIGURE}" align="right" width="58%" alt="Every claim under every condition, '
                  f'one colour per verdict (the matrices below give the same cells in words)">', ""]
    lines += [*_findings(root, frame), *_wrapped(INTRODUCTION), ""]
    if len(main):
        lines += ["## The main claims", "", *_wrapped(
            "The paper's own number where it printed one (the gap in its table), ours with its 95 % "
            "interval over seeds, and the verdict (* judged again on more seeds)."), "",
            *_markdown(main.set_index("claim"), "claim"), ""]
    for name, part in studies.items():
        lines += _study_section(name, part)
    return "\n".join(lines + _runs_line(root)) + "\n"


def write_front_page(root: Path | None = None) -> Path:
    """Write ``<root>/README.md`` (``front_page``), with the headline figure, every record
    (``verdicts.csv``) and the runs (``runs.md``) beside it."""
    root = root or published_root()
    frame = findings.records(root)
    with atomic_path(root / RECORDS) as temporary:
        frame.to_csv(temporary, index=False)
    if len(frame):
        write_figure(root, frame)
    write_text(root / RUNS, runs_page(root))
    return write_text(root / "README.md", front_page(root, frame))


# README.md's part that the results write: between these two lines, replaced by ``readme_block``.
README_START = "<!-- generated from results/ by `python -m avalib.front_page`: do not edit by hand -->"
README_END = "<!-- end of the generated part -->"


def readme_block(root: Path) -> str:
    """What the study answers, for README.md: the findings in sentences and the compute line,
    from the committed results."""
    frame = findings.records(root)
    lines = [README_START, "", *_findings(root, frame)]
    if (root / FIGURE).exists():
        lines += [f"![Every claim under every condition, one colour per verdict](results/{FIGURE})", ""]
    if line := compute_line(root):
        lines += [*_wrapped(line), ""]
    return "\n".join([*lines, README_END])


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
