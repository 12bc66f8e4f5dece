"""``make verify``: retrain a stratified random sample of the committed units of work and compare
each result's fingerprint with the committed one, bit for bit.

Every notebook commits ``results/<stem>/fingerprints.csv``: one row per unit (its name, key,
the sha256 of its result, seconds, numerics mode, CPU model, and its call spelled as JSON,
``cache.call_spelling``). The sample takes ``units`` rows per notebook, spread over the unit kinds
(a judge, a step-1 model, a setting, ...) and drawn at random within a kind by ``seed``; a row is
recomputed from its call with the cache off (``$AVALIB_NO_CACHE``: the units it asks for are
retrained too), under this process's numerics. A unit whose key differs from the committed one
(the code, the data or torch changed since) is "same (the code changed since)" where its bits
agree, else "stale": no comparison. Rows of another numerics
mode are left out (their bits were never a claim across machines) and counted.

The table (notebook, unit, key, committed and recomputed fingerprints, same?, the CPU models,
seconds) is printed and written to ``results/verification.csv`` and ``.md``, beside the rows
other CPUs wrote there of fingerprints still committed (one verification per CPU model); exit 1 if any
sampled unit differs or is stale, 2 if there is nothing to verify.

Run: ``python -m avalib.verify [--units N|all] [--seed S] [--notebooks STEM,...] [--scheduler local:2]``; with
``--runs A B`` it compares two runs of one notebook instead (``same_runs``: ``make test-cluster``
checks a SLURM run against a local one): exit 1 where they differ.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

from avalib import cache, fanout, numerics
from avalib.atomic import atomic_path
from avalib.download import REPOSITORY_ROOT

RESULTS = REPOSITORY_ROOT / "results"


def committed(root: Path = RESULTS) -> pd.DataFrame:
    """Every committed fingerprint row, with its notebook; a unit several notebooks used is kept
    once, under the first notebook that lists it."""
    frames = [pd.read_csv(path).assign(notebook=path.parent.name)
              for path in sorted(root.glob("*/fingerprints.csv"))]
    if not frames:
        return pd.DataFrame(columns=["notebook", "unit", "key", "fingerprint", "seconds",
                                     "numerics", "cpu_model", "call"])
    return pd.concat(frames, ignore_index=True).drop_duplicates(["unit", "key"])


def sample(rows: pd.DataFrame, units: int | None, seed: int) -> pd.DataFrame:
    """``units`` rows per notebook (all: ``None``), taking the unit kinds in turn, each kind's
    rows in a random order drawn by ``seed``."""
    if units is None:
        return rows
    picked = []
    for _, notebook in rows.groupby("notebook", sort=True):
        kinds = [kind.sample(frac=1.0, random_state=seed) for _, kind in notebook.groupby("unit", sort=True)]
        turns = [kind.iloc[[i]] for i in range(max(map(len, kinds))) for kind in kinds if i < len(kind)]
        picked.extend(turns[:units])
    return pd.concat(picked) if picked else rows.iloc[:0]


def recompute(call: str) -> dict:
    """The unit ``call`` spells, computed afresh here: its key and the fingerprint of its result."""
    function, arguments = cache.call_of(call)
    start = time.perf_counter()
    result = function(**arguments)
    return {"key_here": cache.key_digest(function, arguments), "fingerprint_here": cache.fingerprint(result),
            "cpu_model_here": numerics.cpu_model(), "seconds_here": round(time.perf_counter() - start, 1)}


SAME, SAME_NEWER_CODE = "same", "same (the code changed since)"
REPRODUCED = (SAME, SAME_NEWER_CODE)          # the statuses of a unit whose bits agree


def status(same: bool, same_key: bool) -> str:
    """A recomputed unit's verdict: the same bits (also where the code changed since without
    changing them: the committed number is reproduced by today's code), DIFFERENT under the same
    key, or stale where both the key and the bits differ (the code changed: no comparison)."""
    if same:
        return SAME if same_key else SAME_NEWER_CODE
    return "DIFFERENT" if same_key else "stale (the code changed since, and the bits)"


def verified(rows: pd.DataFrame, scheduler: str | None = None) -> pd.DataFrame:
    """The table of ``rows`` recomputed (the cache off for them and every unit they ask for)."""
    os.environ[cache.NO_CACHE_VARIABLE] = "1"       # the workers inherit it
    done = fanout.compute(recompute, [{"call": call} for call in rows["call"]], scheduler,
                          label="verify")
    table = pd.concat([rows.reset_index(drop=True), pd.DataFrame(done)], axis=1)
    table["same"] = table["fingerprint"] == table["fingerprint_here"]
    table["status"] = [status(same, key == here)
                       for key, here, same in zip(table["key"], table["key_here"], table["same"])]
    return table.rename(columns={"fingerprint": "fingerprint_committed", "cpu_model": "cpu_model_committed",
                                 "seconds": "seconds_committed"})[
        ["notebook", "unit", "key", "key_here", "fingerprint_committed", "fingerprint_here", "status",
         "cpu_model_committed", "cpu_model_here", "seconds_committed", "seconds_here"]]


def merged(table: pd.DataFrame, previous: pd.DataFrame | None, current: pd.DataFrame) -> pd.DataFrame:
    """One verification per CPU model, of the committed fingerprints only: ``table``'s rows, after
    the rows of ``previous`` (the written table) whose ``cpu_model_here`` is another CPU's and whose
    committed fingerprint ``current`` (``committed``) still lists, so a run on one machine replaces
    its own earlier rows, keeps what other machines measured, and a rerun notebook's new
    fingerprints are never reported as verified by a comparison with the old ones."""
    if previous is None or previous.empty:
        return table
    listed = pd.MultiIndex.from_frame(current[["notebook", "unit", "fingerprint"]])
    still = pd.MultiIndex.from_frame(previous[["notebook", "unit", "fingerprint_committed"]]).isin(listed)
    kept = previous[~previous["cpu_model_here"].isin(set(table["cpu_model_here"])) & still]
    return pd.concat([kept, table], ignore_index=True) if len(kept) else table


def write(table: pd.DataFrame, root: Path = RESULTS) -> None:
    """``verification.csv`` and ``.md`` beside the notebooks' folders (fingerprints shortened to
    16 hex digits in the Markdown), the rows other CPUs wrote of units still committed kept
    (``merged``)."""
    path = root / "verification.csv"
    table = merged(table, pd.read_csv(path) if path.exists() else None, committed(root))
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)
    short = table.assign(fingerprint_committed=table["fingerprint_committed"].str[:16],
                         fingerprint_here=table["fingerprint_here"].str[:16])
    models = sorted(set(table["cpu_model_committed"]) | set(table["cpu_model_here"]))
    per_cpu = "; ".join(f"on {cpu}: {int(rows['status'].isin(REPRODUCED).sum())} of {len(rows)}"
                        for cpu, rows in table.groupby("cpu_model_here", sort=False))
    text = (f"# Units retrained and compared bit for bit\n\n{len(table)} units retrained; "
            f"{int(table['status'].isin(REPRODUCED).sum())} the same bit for bit ({per_cpu}). "
            f"CPU models: {', '.join(models)}.\n\n"
            + short.to_markdown(index=False) + "\n")
    with atomic_path(root / "verification.md") as temporary:
        temporary.write_text(text, encoding="utf-8")


# Columns that measure the wall clock or the machine, not the computation (cache.WALL_CLOCK, and the
# fingerprint rows' own bookkeeping).
_NOT_COMPUTED = {*cache.WALL_CLOCK, "from_cache", "cpu_model"}


def same_runs(first: Path, second: Path) -> list[str]:
    """What differs between two runs of one notebook (results folders): the fingerprint of any
    unit, or any CSV table (wall-clock columns left out); empty where they are the same bit for bit."""
    differences = []
    prints = [pd.read_csv(folder / "fingerprints.csv").drop_duplicates(["unit", "key"]).set_index(["unit", "key"])
              for folder in (first, second)]
    if not prints[0]["fingerprint"].sort_index().equals(prints[1]["fingerprint"].sort_index()):
        differences.append("fingerprints.csv: the units or their fingerprints differ")
    for path in sorted(first.glob("*.csv")):
        other = second / path.name
        if path.name == "fingerprints.csv":
            continue
        if not other.exists():
            differences.append(f"{path.name}: only in {first.name}")
            continue
        tables = [pd.read_csv(p) for p in (path, other)]
        tables = [t.drop(columns=[c for c in t.columns if c in _NOT_COMPUTED]) for t in tables]
        if not tables[0].equals(tables[1]):
            differences.append(f"{path.name}: differs")
    return differences


def beside(made: list[dict], theirs: pd.DataFrame, number: str) -> pd.DataFrame:
    """The units ``made`` here (``cache.recorded``'s rows) beside notebook ``number``'s
    fingerprint of the same key (its ``fingerprints.csv``): unit, key, fingerprint_in_<number>,
    fingerprint_here, same. A unit whose key that notebook never listed (its code, data or numerics
    differ) has no fingerprint there and is not the same."""
    here = pd.DataFrame(made, columns=["unit", "key", "fingerprint"]).drop_duplicates("key")
    table = here.merge(theirs[["key", "fingerprint"]].drop_duplicates("key"), on="key", how="left",
                       suffixes=("_here", f"_in_{number}"))
    table["same"] = table["fingerprint_here"] == table[f"fingerprint_in_{number}"]
    return table[["unit", "key", f"fingerprint_in_{number}", "fingerprint_here", "same"]]


def same_computation(compared: pd.DataFrame) -> bool:
    """Whether every unit of a ``beside`` table is the other notebook's bit for bit."""
    return bool(len(compared)) and bool(compared["same"].all())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", default="3", help="units per notebook, or 'all' (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="draws the sample (default 0)")
    parser.add_argument("--scheduler", default=None, help="serial, local:N, ... (avalib.fanout)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results folder (default results/)")
    parser.add_argument("--notebooks", default=None,
                        help="comma-separated notebook stems to sample from (default: every notebook)")
    parser.add_argument("--runs", type=Path, nargs=2, metavar=("A", "B"),
                        help="compare two runs of one notebook (results folders) instead")
    args = parser.parse_args(argv)
    if args.runs:
        differences = same_runs(*args.runs)
        for line in differences:
            print(f"DIFFERENT: {line}", file=sys.stderr)
        if not differences:
            units = len(pd.read_csv(args.runs[0] / "fingerprints.csv"))
            print(f"the two runs are the same bit for bit: {units} unit fingerprints and every table")
        return 1 if differences else 0
    if args.units != "all" and not (args.units.isdigit() and int(args.units) >= 1):
        parser.error(f"--units={args.units!r}: allowed: a whole number >= 1, or 'all'")
    rows = committed(args.results)
    if args.notebooks:
        wanted = args.notebooks.split(",")
        unknown = sorted(set(wanted) - set(rows["notebook"]))
        if unknown:
            parser.error(f"--notebooks={args.notebooks!r}: {', '.join(unknown)} commit no fingerprints; "
                         f"allowed: {', '.join(sorted(set(rows['notebook'])))}")
        rows = rows[rows["notebook"].isin(wanted)]
    mode = numerics.mode()
    other = rows[rows["numerics"] != mode]
    rows = rows[rows["numerics"] == mode]
    if other.size:
        print(f"left out: {len(other)} committed units computed under another numerics mode "
              f"than this process's {mode!r}")
    if rows.empty:
        print(f"nothing to verify: no committed fingerprints under {args.results} for numerics={mode}",
              file=sys.stderr)
        return 2
    table = verified(sample(rows, None if args.units == "all" else int(args.units), args.seed),
                     args.scheduler)
    write(table, args.results)
    with pd.option_context("display.width", 220, "display.max_colwidth", 18):
        print(table.to_string(index=False))
    bad = table[~table["status"].isin(REPRODUCED)]
    print(f"{len(table) - len(bad)} of {len(table)} units the same bit for bit "
          f"(here: {numerics.cpu_model()}, numerics {mode})")
    return 1 if len(bad) else 0


if __name__ == "__main__":
    sys.exit(main())
