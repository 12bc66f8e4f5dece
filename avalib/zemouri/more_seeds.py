"""More seeds for the claims of notebook 03 that a few more seeds would decide (notebook 05).

Notebook 03 reports, for every inconclusive claim, the seeds its observed effect and spread would
need to reach a verdict at the table's Holm level (``seeds_needed``, a power estimate). Here every
such claim with ``seeds_needed <= max_seeds`` is given that many seeds: its settings at seeds
0 .. n-1, those notebook 03 measured read from its tables (``metrics.csv``; a source with a
budget pilot, as notebook 07 has, also ``budget_pilot.csv``),
the others trained with notebook 03's own configs (read from its ``provenance.json``, so the two
cannot differ). Whether this machine computes what notebook 03 computed is asked of the
fingerprints (``fingerprints_compared``): notebook 03's first setting is trained here first and
every unit it makes is compared with 03's ``fingerprints.csv``. Where all are the same, 03's rows
pool as they are; otherwise every block a setting is added to is trained here whole (``plan``).
The pooled table is judged again by ``avalib.zemouri.claims.verdicts``, the same claims and the
same Holm family as notebook 03's; a claim that shares the added settings (e.g. D shares A's
beta = 0 settings) is judged on them too.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import pandas as pd

from avalib import cache, verify
from avalib.verify import same_computation  # noqa: F401 (notebook 05 asks it)
from avalib.claims import INCONCLUSIVE
from avalib.results import earlier_run, relative
from avalib.zemouri import experiment
from avalib.zemouri.claims import RESTORED, verdicts
from avalib.zemouri.focus import CLAIM_SETTINGS, FOCUS, LARGE_BETAS
from avalib.zemouri.run import AblationRun
from avalib.zemouri.trainer import ZemouriConfig

SOURCE = "03_beta_gamma_ablation"
SETTING_INDEX = experiment.SETTING_INDEX
BLOCK = ["dataset", "n_dis", "step2_steps", "seed"]   # one machine measures a block's settings (both K_z)
CONDITION = re.compile(r"n_dis = (\d+), (\d+) Algorithm 2 iterations")


@dataclasses.dataclass(frozen=True)
class Source:
    """Notebook 03's finished run: its parameters, claims, and every metrics row its claims read
    (the sweep's, and the budget pilot's at the longest budget, as notebook 03 pools them)."""

    folder: Path
    run: AblationRun
    claims: pd.DataFrame
    measured: pd.DataFrame
    git_commit: str
    fingerprints: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)   # none: empty

    @classmethod
    def read(cls, folder: Path) -> "Source":
        run, commit, fingerprints = earlier_run(folder, AblationRun)
        metrics = pd.read_csv(folder / "metrics.csv")
        pilot_file = folder / "budget_pilot.csv"
        pilot = pd.read_csv(pilot_file) if pilot_file.exists() else pd.DataFrame()
        measured = experiment.judged_rows(metrics, pilot, _pilot_steps(run))
        claims = pd.read_csv(folder / "claims.csv").fillna({"condition": ""})
        return cls(folder, run, claims, measured, commit, fingerprints)

    @property
    def where(self) -> str:
        return relative(self.folder)

    def summary(self) -> pd.Series:
        """What the pooled claims build on, in a few numbers."""
        return pd.Series({"folder": self.where, "datasets": ", ".join(self.run.datasets),
                          "seeds (every setting a claim uses)": ", ".join(map(str, self.run.seeds)),
                          "claims": len(self.claims), "of section 4.4": ", ".join(self.run.claim_letters),
                          "metrics rows": len(self.measured)})

    @property
    def budget(self) -> str:
        """The words notebook 03 gave its sweep's budget (the ``budget`` of its first claim)."""
        return str(self.claims.budget.iloc[0])


def wanted(claims: pd.DataFrame, max_seeds: int) -> pd.DataFrame:
    """The inconclusive claims whose power estimate asks for more seeds than they have, and at
    most ``max_seeds``."""
    needed = pd.to_numeric(claims.seeds_needed, errors="coerce")
    keep = (claims.verdict.astype(str).str.startswith(INCONCLUSIVE) & (needed <= max_seeds)
            & (needed > claims.seeds))
    return claims[keep]


def variant(claim, sweep: tuple[int, int]) -> tuple[int, int]:
    """(n_dis, Algorithm 2 iterations) of a claim row: its ``n_dis`` and ``step2_steps``
    columns; where they are empty, the sweep's own (``sweep``). A claims table written before
    the rows carried them names the budget in its ``condition`` only, read by ``CONDITION``."""
    n_dis, steps = getattr(claim, "n_dis", None), getattr(claim, "step2_steps", None)
    if pd.notna(n_dis) and pd.notna(steps) and str(n_dis) != "":
        return int(float(n_dis)), int(float(steps))
    condition = getattr(claim, "condition", "")
    found = CONDITION.search(condition) if isinstance(condition, str) else None
    return (int(found[1]), int(found[2])) if found else sweep


def settings(claim, run: AblationRun) -> tuple[list[ZemouriConfig], bool]:
    """The settings (seed left at the base's) a claim of section 4.4 reads at ``condition``, and
    whether they are budget-pilot runs (scored along one run, as notebook 03 measures the longest
    budget) rather than sweep settings: those of the sweep its letter's ``focus.CLAIM_SETTINGS``
    covers (a B claim's pilot: the pilot's betas)."""
    base, section = run.base, claim.section
    n_dis, steps = variant(claim, (base.n_dis, base.step2_steps))
    at = dataclasses.replace(base, n_dis=n_dis, step2_steps=steps)
    letter = _letter(section)
    pilot = (steps != base.step2_steps and steps not in getattr(run, "focus_step2_steps", ())
             and _pilot_steps(run) and steps == max(_pilot_steps(run)))
    if letter[:1] not in CLAIM_SETTINGS:
        raise ValueError(f"claim section {section!r}: no settings known (allowed: A, B0-B4, C, D)")
    reads = CLAIM_SETTINGS[letter[:1]]
    betas = run.pilot_betas if pilot and letter.startswith("B") else run.betas
    grid = [(d, k, g, b) for d in run.datasets for k in run.latent_sizes for g in run.gammas for b in betas
            if reads.covers(d, k, g, b)]
    return [dataclasses.replace(at, dataset=d, latent_size=k, gamma=g, beta=b) for d, k, g, b in grid], bool(pilot)


def _pilot_steps(run: AblationRun) -> list[int]:
    """The budgets of the source's pilot (notebook 07 runs one; notebook 03 none)."""
    return list(getattr(run, "pilot_steps", ()))


def _key(config: ZemouriConfig) -> tuple:
    """A setting as its row's SETTING_INDEX values (``experiment.setting_columns``)."""
    return tuple(experiment.setting_columns(config)[column] for column in SETTING_INDEX)


def _letter(section: str) -> str:
    """The claim's letter in section 4.4: "4.4 (B3)" -> "B3"."""
    return section.split("(")[-1].rstrip(")")


def _block(key: tuple) -> tuple:
    """A setting's block (``BLOCK``): the setting, its K_z, beta and gamma left out."""
    return tuple(value for column, value in zip(SETTING_INDEX, key) if column in BLOCK)


def fingerprints_compared(source: Source, check: ZemouriConfig, scheduler: str | None = None,
                          threads: int = 1) -> pd.DataFrame:
    """``check`` trained and scored here as notebook 03 does (its example count too, so that every
    unit has 03's key), and every unit that made (the judge,
    step 1, the warm-up, the trained model, its scores) beside notebook 03's fingerprint of the
    same key: unit, key, fingerprint in 03, here, same. A unit whose key 03 never listed (its code,
    data or numerics differ) has no 03 fingerprint and is not the same."""
    run = source.run
    with cache.recorded() as made:                       # 03's units (kept: 05 lists them too)
        experiment.sweep([check], run.test_size, run.example_count, run.judge, scheduler, threads)
    return verify.beside(made, source.fingerprints, "03")


def plan(chosen: pd.DataFrame, source: Source, complete_blocks: bool = True
         ) -> tuple[list[ZemouriConfig], list[ZemouriConfig]]:
    """(sweep settings, pilot runs) to train: each chosen claim's settings at seeds 0 ..
    seeds_needed - 1 that notebook 03 did not measure; with ``complete_blocks`` (this machine's
    bits are not shown to be 03's, ``same_computation``) also every setting notebook 03 measured
    in a block (``BLOCK``: dataset, n_dis, budget, seed) where one is trained here, so that each
    seed of a block, and so every comparison a claim makes within a seed, is measured on one
    machine (the same seed can give other numbers on another CPU); each setting once."""
    have = {tuple(row) for row in source.measured[SETTING_INDEX].itertuples(index=False)}
    sweep, pilot = {}, {}
    for claim in chosen.itertuples():
        configs, is_pilot = settings(claim, source.run)
        for seed in range(int(claim.seeds_needed)):
            for config in configs:
                config = dataclasses.replace(config, seed=seed)
                if _key(config) not in have:
                    (pilot if is_pilot else sweep)[_key(config)] = config
    for planned in (sweep, pilot) if complete_blocks else ():
        blocks = {_block(key): config for key, config in planned.items()}
        for key in have:
            if _block(key) in blocks:
                row = dict(zip(SETTING_INDEX, key))
                planned[key] = dataclasses.replace(blocks[_block(key)], latent_size=row["Kz"], beta=row["beta"],
                                                   gamma=row["gamma"])
    return tuple(sorted(configs.values(), key=lambda c: (c.seed, c.dataset, c.latent_size, c.gamma, c.beta))
                 for configs in (sweep, pilot))


def train(sweep: list[ZemouriConfig], pilot: list[ZemouriConfig], source: Source,
          scheduler: str | None = None, threads: int = 1) -> pd.DataFrame:
    """The metrics rows of the planned settings, trained and scored as notebook 03 does (its test
    images, its judge; a pilot run scored at every pilot budget, its longest kept)."""
    run, frames = source.run, []
    if sweep:
        frames.append(experiment.sweep(sweep, run.test_size, 1, run.judge, scheduler, threads)[0])
    if pilot:
        base = [dataclasses.replace(c, step2_steps=run.base.step2_steps) for c in pilot]
        curves = experiment.pilot_curves(base, _pilot_steps(run), run.judge, run.test_size, scheduler, threads)
        frames.append(curves[curves.step2_steps == max(_pilot_steps(run))])
    columns = list(source.measured.columns)
    return (pd.concat(frames, ignore_index=True)[columns] if frames
            else pd.DataFrame(columns=columns))


def reproduction_setting(source: Source) -> ZemouriConfig:
    """Notebook 03's first measured setting (its first dataset and K_z, beta = gamma = 0, its
    first seed), to train again here: pooling seeds from two runs is sound only where the same
    seed gives the same numbers."""
    run = source.run
    return dataclasses.replace(run.base, dataset=run.datasets[0], latent_size=run.latent_sizes[0],
                               beta=0.0, gamma=0.0, seed=run.seeds[0])


def _metrics(source: Source) -> list[str]:
    return [c for c in source.measured.columns if c not in SETTING_INDEX]


def measured_twice(source: Source, added: pd.DataFrame) -> pd.DataFrame:
    """Every setting both notebook 03 and this notebook measured, one row per (setting, metric):
    03's value (its tables hold 5 decimals), this machine's (rounded alike) and the difference."""
    metrics = _metrics(source)
    ours, theirs = (frame.set_index(SETTING_INDEX)[metrics].astype(float) for frame in (added, source.measured))
    both = ours.index.intersection(theirs.index)
    long = {name: frame.loc[both].stack().rename(name) for name, frame in
            (("notebook 03", theirs), ("here", ours.round(5)))}
    frame = pd.concat(long.values(), axis=1)
    frame.index = frame.index.set_names(SETTING_INDEX + ["metric"])
    return frame.assign(difference=lambda f: (f["here"] - f["notebook 03"]).round(5))


def reproduction_check(source: Source, twice: pd.DataFrame) -> pd.DataFrame:
    """Per metric, over the settings measured twice (``measured_twice``): how many, how many gave
    the same 5 decimals, the mean and largest |difference|, and beside them notebook 03's SD over
    seeds of the same settings (mean over them): a difference of that size acts as another seed."""
    spread = source.measured.groupby([c for c in SETTING_INDEX if c != "seed"])[_metrics(source)].std()
    settings = twice.reset_index()
    rows = {}
    for metric, part in settings.groupby("metric", sort=False):
        groups = part[[c for c in SETTING_INDEX if c != "seed"]].itertuples(index=False)
        sd = spread.loc[list(groups), metric].mean()
        size = part.difference.abs()
        rows[metric] = {"settings": len(part), "identical": int((size == 0).sum()),
                        "mean |difference|": size.mean(), "largest |difference|": size.max(),
                        "SD over seeds (03)": sd, "mean |difference| / SD": size.mean() / sd if sd else math.nan}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("metric")


def pooled(source: Source, added: pd.DataFrame, check: ZemouriConfig,
           complete_blocks: bool = True) -> pd.DataFrame:
    """Notebook 03's rows and the added ones, ``notebook`` saying where each was measured. With
    ``complete_blocks`` every row of a block (``BLOCK``) trained here is this notebook's, every
    other row 03's (``check``, trained only to compare, counts as 03's where its block is 03's);
    without (the same computation as 03's) every row 03 measured is 03's, the others this one's."""
    def blocks(frame):
        return pd.MultiIndex.from_frame(frame[BLOCK])
    keys = pd.MultiIndex.from_frame(added[SETTING_INDEX])
    if not complete_blocks:
        new = added[~keys.isin(pd.MultiIndex.from_frame(source.measured[SETTING_INDEX]))]
        return pd.concat([source.measured.assign(notebook=SOURCE[:2]), new.assign(notebook="05")],
                         ignore_index=True)
    trained = blocks(added[~keys.isin([_key(check)])]).unique()
    new = added[blocks(added).isin(trained)]
    old = source.measured[~blocks(source.measured).isin(trained)]
    return pd.concat([old.assign(notebook=SOURCE[:2]), new.assign(notebook="05")], ignore_index=True)


def judged_again(source: Source, rows: pd.DataFrame, chosen: pd.DataFrame, evidence: str) -> pd.DataFrame:
    """Every claim of notebook 03 judged on the pooled rows (its rule, its Holm family), kept where
    the claim was chosen or its seeds, verdict or effect changed (a block measured again here
    moves the claims that read it); with notebook 03's seeds, verdict and effect beside."""
    run = source.run
    claims = verdicts(rows.drop(columns="notebook"), budget=source.budget, letters=run.claim_letters,
                      sweep=(run.base.n_dis, run.base.step2_steps))
    key = ["section", "condition"]
    before = source.claims.set_index(key)[["seeds", "verdict", "effect"]].rename(
        columns={"seeds": "seeds_in_03", "verdict": "verdict_in_03", "effect": "effect_in_03"})
    claims = claims.join(before, on=key)
    picked = claims.set_index(key).index.isin(chosen.set_index(key).index)
    claims["chosen"] = picked
    claims["evidence"] = evidence
    effect, earlier = (pd.to_numeric(claims[c], errors="coerce").round(4) for c in ("effect", "effect_in_03"))
    moved = ~((effect == earlier) | (effect.isna() & earlier.isna()))
    changed = (claims.seeds != claims.seeds_in_03) | (claims.verdict != claims.verdict_in_03) | moved
    return claims[picked | changed].reset_index(drop=True)


def seed_differences(rows: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """Per seed, the difference each re-judged claim of A, C and B3 tests (A: K_z = 100's pixel
    MSE minus K_z = 2's; C: agreement at gamma = 0.1 minus gamma = 0; B3: agreement at beta = 0.1
    minus beta = 0), one row per (claim, condition, pair, seed), for the figure; its ``metric``
    says which side of 0 (or of the margin) supports the claim."""
    out, sweep = [], tuple(int(v) for v in rows.groupby(["n_dis", "step2_steps"]).size().idxmax())

    def add(claim, pair, left, right, column, supports, margin=math.nan):
        a, b = (rows[(rows[list(w)] == pd.Series(w)).all(axis=1)].set_index("seed")[column]
                for w in (left, right))
        for seed in sorted(set(a.index) & set(b.index)):
            out.append({"claim": f"{claim.section}, {claim.condition}", "pair": pair, "seed": seed,
                        "difference": float(a[seed] - b[seed]), "margin": margin,
                        "metric": f"{column} (difference within a seed; {supports} supports the claim)"})

    for claim in claims.itertuples():
        n_dis, steps = variant(claim, sweep)
        letter = _letter(claim.section)
        at = {"n_dis": n_dis, "step2_steps": steps}
        if letter == "A":
            for d in dict.fromkeys(rows.dataset):
                add(claim, d, {**at, "dataset": d, "Kz": 100, "beta": 0.0, "gamma": 0.0},
                    {**at, "dataset": d, "Kz": 2, "beta": 0.0, "gamma": 0.0}, "pixel_mse", "below 0")
        elif letter == "C":
            for d in dict.fromkeys(rows.dataset):
                for k in sorted(set(rows.Kz)):
                    for b in LARGE_BETAS:
                        add(claim, f"{d} K_z={k} beta={b}", {**at, "dataset": d, "Kz": k, "beta": b, "gamma": 0.1},
                            {**at, "dataset": d, "Kz": k, "beta": b, "gamma": 0.0}, "label_agreement",
                            "above the margin", RESTORED)
        elif letter == "B3":
            add(claim, "beta 0.1 - beta 0", {**at, "dataset": FOCUS, "Kz": 2, "beta": 0.1, "gamma": 0.0},
                {**at, "dataset": FOCUS, "Kz": 2, "beta": 0.0, "gamma": 0.0}, "label_agreement", "below 0")
    return pd.DataFrame(out, columns=["claim", "pair", "seed", "difference", "margin", "metric"])
