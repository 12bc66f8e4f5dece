"""The findings in sentences and the main claims in one table, for the front page: a template per
study, filled from the records of ``avalib.findings`` and the committed tables they point to
(found by file name under the results folder). Every number and verdict a sentence gives is read
from a committed file; a template whose files are missing says nothing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from avalib.claims import EQUIVALENT, FAILS, HOLDS, INCONCLUSIVE
from avalib.findings import DIVERGED, SURVEYS, plain, run_ended, studies
from avalib.nguyen.report import AUTHORS_RUN_TO_RUN_SPREAD
from avalib.plotting import words

NGUYEN, ZEMOURI = "Nguyen, Abdalla & Amer (2024)", "Zemouri (2020)"
PLAIN_WORDS = {HOLDS: "holds", EQUIVALENT: "is equivalent", FAILS: "does not hold",
               INCONCLUSIVE: "is inconclusive", DIVERGED: "diverged"}
COUNTED = {HOLDS: "hold", EQUIVALENT: "equivalent", FAILS: "do not hold", INCONCLUSIVE: "inconclusive",
           DIVERGED: "diverged"}
ORDER = (HOLDS, EQUIVALENT, FAILS, INCONCLUSIVE, DIVERGED)
MEANING = ("A claim **holds** where the seeds show the claimed effect; it **does not hold** where "
           "they show the effect is not there beyond its margin (not that the opposite holds); "
           "**equivalent**: no effect beyond a margin named per measure; **inconclusive** otherwise; "
           "**diverged**: training diverged in all seeds but at most one, too few to judge.")


def number(value) -> str:
    """A number as the committed tables write it (4 decimals, 1 from 100 up, signs kept)."""
    value = float(value)
    text = f"{value:.1f}" if abs(value) >= 100 else f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def signed(value) -> str:
    text = number(value)
    return text if text.startswith("-") or text == "0" else "+" + text


def _and(items) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def _interval(row) -> str:
    """The effect with its 95 % interval and seeds, from a record."""
    if str(row["effect"]) in ("", "nan"):
        return ""
    return (f"effect {signed(row['effect'])}, 95 % {signed(row['interval_low'])} to "
            f"{signed(row['interval_high'])} over {row['seeds']} seeds")


def _kinds(frame: pd.DataFrame):
    """(kind, its rows) in ``ORDER``."""
    return [(answer, frame[frame["kind"] == answer]) for answer in ORDER if (frame["kind"] == answer).any()]


def by_kind(cells: pd.DataFrame, where: str = "condition") -> str:
    """One claim's verdicts grouped by kind, each with the conditions (or datasets) it came
    under: "holds under the authors' code; does not hold under the true gradients"."""
    parts = []
    for answer, group in _kinds(cells):
        places = [p for p in dict.fromkeys(group[where]) if p]
        preposition = "on" if where == "dataset" else "under"
        parts.append(PLAIN_WORDS[answer] + (f" {preposition} {_and(places)}" if places else ""))
    return "; ".join(parts)


def headline(frame: pd.DataFrame) -> str:
    """A study's first claim and its verdicts by condition, with the seeds (its numbers are in
    the main claims' table)."""
    first = frame.iloc[0]
    cells = frame[(frame["claim"] == first["claim"]) & (frame["dataset"] == first["dataset"])]
    seeds = _and(dict.fromkeys(str(s) for s in cells["seeds"] if str(s) not in ("", "0")))
    again = cells[cells["judged_again_in"].ne("")]
    later = ""
    if len(again):
        row = again.iloc[0]
        later = f", judged again: {row['earlier_seeds']} seeds had left it {row['earlier_kind']}"
    return (f"\"{first['claim']}\" ({first['section']}) {by_kind(cells)}"
            + (f" ({seeds} seeds{later})" if seeds else "") + ".")


def _table(root: Path, name: str, **read) -> pd.DataFrame | None:
    """Every committed table of that file name, one after the other (notebooks 04 and 06 both
    write a ``summary.csv``, one row per dataset and model), or None where there is none."""
    paths = sorted(root.glob(f"*/{name}"))
    return pd.concat([pd.read_csv(path, **read) for path in paths]) if paths else None


def nguyen(root: Path, frame: pd.DataFrame) -> list[str]:
    sentences = [headline(frame)]
    # The paper's gap per ranking claim: to the rival nearest in the paper's own table.
    gaps = frame.assign(gap=pd.to_numeric(frame["paper_difference"], errors="coerce")).dropna(subset=["gap"])
    gaps = gaps.groupby("claim", sort=False)["gap"].agg(lambda g: g.loc[g.abs().idxmin()])
    if len(gaps):
        strict = frame[frame["strict_kind"].ne("") & frame["strict_kind"].ne(frame["kind"])]
        inside = gaps[gaps.abs() < AUTHORS_RUN_TO_RUN_SPREAD]
        sentences.append(
            f"In {len(inside)} of its {len(gaps)} ranking claims the paper's Table 3 separates the models "
            f"by at most {number(inside.abs().max())} BM (the headline: {signed(gaps.iloc[0])} BM), less "
            f"than the {number(AUTHORS_RUN_TO_RUN_SPREAD)} BM by which the authors' own two logged runs "
            f"differ per cell; judged so that a difference inside that spread cannot make a claim hold, "
            f"{len(strict)} cells change verdict (marked + in the matrix).")
    baselines = _table(root, "trivial_baselines.csv")
    table_3 = _table(root, "bm_table_3.csv", header=[0, 1], index_col=[0, 1])
    if baselines is not None and table_3 is not None:
        means = table_3[("mean", "Mean")].xs("reference", level=0).dropna()
        above = baselines[baselines["bm_reference"] > means.max()].sort_values("bm_reference", ascending=False)
        if len(above):
            named = _and(f"{image} {number(bm)}" for image, bm in zip(above["image"], above["bm_reference"]))
            sentences.append(
                f"The balance metric rewards images without content: under the authors' code "
                f"{len(above)} of {len(baselines)} trivial images score above every trained model's BM "
                f"mean (the highest, {means.idxmax()}: {number(means.max())}): {named}.")
    summary = _table(root, "summary.csv")
    if summary is not None and "classifier_inception_score" in summary:
        printed = summary[summary["model"].map(plain).str.endswith(plain("paper"))]
        vae = summary[summary["model"].eq("VAE") & summary["dataset"].isin(printed["dataset"])]
        if len(printed) and len(vae):
            datasets = _and(plain(d) for d in dict.fromkeys(printed["dataset"]))
            sentences.append(
                f"Trained by the printed rules, every AVA variant's samples collapse on {datasets}: a "
                f"classifier Inception score of at most {number(printed.classifier_inception_score.max())} "
                f"(1: every sample looks alike to the classifier; the VAE's "
                f"{number(vae.classifier_inception_score.min())} to {number(vae.classifier_inception_score.max())}) "
                f"and a class coverage of at most {number(printed.class_coverage.max())} (the VAE's "
                f"{number(vae.class_coverage.min())} to {number(vae.class_coverage.max())}).")
    exact = frame[frame["dataset"].ne("") & frame["condition"].str.endswith(plain("exact"))]
    if len(exact):
        counted = [f"{len(group)} {COUNTED[answer]}" + (f" ({_and(dict.fromkeys(group['claim']))})"
                                                         if answer == HOLDS else "") for answer, group in _kinds(exact)]
        none = "" if (exact["kind"] == FAILS).any() else ", none does not hold"
        sentences.append(f"With the true gradients, the AVA variants' claims on real images, each against "
                         f"the VAE: of {len(exact)} cells, {_and(counted)}{none}.")
    return sentences


def zemouri(root: Path, frame: pd.DataFrame) -> list[str]:
    sentences = [headline(frame)]
    main = frame["condition"].value_counts().index[0]
    under = frame[frame["condition"] == main]
    labels = under["section"].str.extract(r"\((\w+)\)", expand=False).fillna(under["section"])
    grouped = "; ".join(f"{COUNTED[k]}: {_and(labels[g.index])}" for k, g in _kinds(under))
    sentences.append(f"Of its {len(under)} claims under {main}, {grouped}.")
    several = frame.groupby("claim").filter(lambda g: g["condition"].nunique() > 1)
    changing = several.groupby("claim", sort=False)["kind"].nunique()
    if len(changing):
        sentences.append(f"{(changing > 1).sum()} of the {len(changing)} claims judged under several "
                         f"budgets (n_dis, Algorithm 2 iterations) get a different verdict under another.")
    step_1 = _table(root, "step1_over_seeds.csv", header=[0, 1], index_col=[0, 1])
    if step_1 is not None:
        accuracy = step_1[("classifier_test_accuracy", "mean")].unstack("Kz")
        accuracy = accuracy.reindex(list(dict.fromkeys(step_1.index.get_level_values(0))))
        if {2, 100} <= set(accuracy.columns):
            listed = _and(f"{plain(d)} {number(row[2])} / {number(row[100])}"
                          for d, row in accuracy.iterrows())
            sentence = (f"Step 1's latent classifier (test accuracy at K_z = 2 / K_z = 100, mean over "
                        f"seeds): {listed}")
            curves = _table(root, "step1_learning_curves.csv")
            if curves is not None and "diverged_at_iteration" in curves:
                diverged = curves.dropna(subset=["diverged_at_iteration"]).drop_duplicates(["dataset", "Kz", "seed"])
                if len(diverged):
                    named = _and(f"{plain(r.dataset)} at K_z = {r.Kz}, seed {r.seed}, at "
                                 f"iteration {int(r.diverged_at_iteration)}" for r in diverged.itertuples())
                    sentence += (f"; {len(diverged)} of {len(curves.drop_duplicates(['dataset', 'Kz', 'seed']))} "
                                 f"of its longer learning curves diverged ({named})")
            sentences.append(sentence + ".")
    # Of two notebooks' tables of that name (a table that moved), the latest run's (run_ended).
    paths = sorted(root.glob("*/cifar10_summary.csv"), key=lambda path: run_ended(path.parent))
    if paths:
        cifar = pd.read_csv(paths[-1], index_col=0)
        compared = cifar[cifar["compares_the_models"].astype(str).eq("True")]
        listed = _and(f"{words(metric)} {number(row.zemouri_mean)} vs {number(row.plain_vae_mean)}"
                      for metric, row in compared.iterrows())
        sentences.append(f"On CIFAR-10 (section 4.5, Fig. 10), Zemouri's model against a plain VAE of the same "
                         f"networks, mean over {int(compared['seeds'].min())} seeds: {listed} (the judge's test "
                         f"accuracy: {number(compared['judge_test_accuracy'].iloc[0])}).")
    return sentences


def surveys(root: Path, frame: pd.DataFrame) -> list[str]:
    sentences = []
    for paper, claims in frame.groupby("paper", sort=False):
        verdicts = {}            # claims with the same verdicts on the same datasets, together
        for claim, cells in claims.groupby("claim", sort=False):
            verdicts.setdefault(by_kind(cells, "dataset"), []).append(f"\"{claim}\"")
        sentences.append(f"{paper}: " + "; ".join(_and(named) + " " + (verdict.replace("holds", "hold", 1).replace(
            "is ", "are ", 1) if len(named) > 1 else verdict) for verdict, named in verdicts.items()) + ".")
    summary = _table(root, "summary.csv")
    if summary is not None and {"VAE", "GAN", "Zemouri"} <= set(summary["model"]):
        means = summary.pivot(index="dataset", columns="model", values="frechet_distance")
        listed = _and(f"{plain(d)} {number(r['VAE'])} / {number(r['Zemouri'])} / {number(r['GAN'])}"
                      for d, r in means.iterrows())
        sentences.append(f"The hybrids in the same table: Frechet distance of samples to test images, VAE / "
                         f"Zemouri / GAN: {listed}.")
    return sentences


TEMPLATES = {NGUYEN: nguyen, ZEMOURI: zemouri, SURVEYS: surveys}


def findings(root: Path, frame: pd.DataFrame) -> dict[str, list[str]]:
    """Study -> its sentences."""
    return {name: TEMPLATES[name](root, part) for name, part in studies(frame).items() if name in TEMPLATES}


# The main claims (study, the claim's first words, condition or dataset): the papers' headlines
# under the conditions that answer them.
MAIN = [(NGUYEN, "AVA5 is the best DGM", "authors' code"), (NGUYEN, "AVA5 is the best DGM", "true gradients"),
        (NGUYEN, "samples closer to the data", "AVA5, true gradients"),
        (NGUYEN, "samples closer to the data", "AVA5, printed rules"),
        (ZEMOURI, "At beta = 0, K_z = 100", ""), (ZEMOURI, "beta = 0.1: generative effect", ""),
        (ZEMOURI, "Reconstruction is impossible for Omniglot", ""),
        (SURVEYS, "Output Quality", "MNIST"), (SURVEYS, "Training Stability", "MNIST"),
        (SURVEYS, "GANs have a higher Inception Score", "MNIST")]


def main_claims(frame: pd.DataFrame) -> pd.DataFrame:
    """The ``MAIN`` claims' cells (the first cell of each: the first dataset, the first measure,
    the most judged condition of Zemouri's): the paper's number where it printed one, ours with
    its 95 % interval over seeds, the verdict."""
    rows = []
    for name, part in studies(frame).items():
        for study, first_words, where in MAIN:
            if study != name:
                continue
            cells = part[part["claim"].str.startswith(first_words)]
            if where:
                cells = cells[cells["condition"].eq(where) | (cells["condition"].eq("") & cells["dataset"].eq(where))]
            else:
                cells = cells[cells["condition"].eq(part["condition"].value_counts().index[0])]
            if not len(cells):
                continue
            row = cells.iloc[0]
            paper = pd.to_numeric(pd.Series([row["paper_difference"]]), errors="coerce").iloc[0]
            ours = "-" if str(row["effect"]) in ("", "nan") else (
                f"{signed(row['effect'])} ({signed(row['interval_low'])} to {signed(row['interval_high'])}; "
                f"{row['seeds']} seeds)")
            author = row["paper"].split(",")[0].split(" (")[0]
            section = row["section"] if row["section"].startswith(author) else f"{author} {row['section']}"
            rows.append({"claim": f"{section}: {row['claim']}"
                         + (f" [{row['measure'].split(' (')[0]}]" if row["measure"] else ""),
                         "condition": ", ".join(p for p in (row["condition"], row["dataset"]) if p),
                         "paper's number": signed(paper) if pd.notna(paper) else "words only",
                         "ours: effect (95 % interval; seeds)": ours,
                         "verdict": row["kind"] + ("*" if row["judged_again_in"] else "")})
    return pd.DataFrame(rows)
