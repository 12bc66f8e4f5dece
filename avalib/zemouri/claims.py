"""The claims of Zemouri (2020) section 4.4 as data, each a test on the seed spread of the sweep's
metrics, judged by the study's one rule (``avalib.claims``). Every threshold is named once here.
A setting trained with one seed decides nothing: its claims are inconclusive until more seeds run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from avalib import claims as rule
from avalib.zemouri.focus import CLAIM_LETTERS, FOCUS, LARGE_BETAS

PAPER = "Zemouri (2020)"
EVIDENCE = "03_beta_gamma_ablation/metrics.csv"

SHARPER = 0.10                   # eps_1: sharpness ratio above beta = 0's by this fraction
LABELS_LOST = 0.10               # eps_2: label agreement this far below beta = 0's
BLURRED = 0.9                    # sharpness ratio below this: blurrier than the real images
AGREEMENT_KEPT = 0.05            # "still matching": agreement within this of beta = 0's
RESTORED = 0.05                  # C: gamma = 0.1 raises agreement by more than this
NO_BETTER_THAN_MEAN = 0.8        # D: pixel MSE / the mean image's MSE above this
# C: a rise of agreement smaller than the claim's own margin is no restoring: gamma = 0.1 is
# "equivalent" to gamma = 0 in a pair when the change lies within +-RESTORED.
NO_RESTORING = rule.Equivalence(RESTORED, f"+-{RESTORED:g} label agreement")


def _at(frame: pd.DataFrame, **where) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    return frame[mask]


def _seeds(frame: pd.DataFrame, column: str, **where) -> np.ndarray:
    """The values of ``column`` at one setting, one per seed (ordered by seed)."""
    return _at(frame, **where).sort_values("seed")[column].to_numpy(dtype=float)


def _pair(frame: pd.DataFrame, column: str, first: dict, second: dict) -> tuple[np.ndarray, np.ndarray]:
    """``column`` at two settings over the seeds both have (paired by seed)."""
    a, b = (_at(frame, **where).set_index("seed")[column] for where in (first, second))
    common = sorted(set(a.index) & set(b.index))
    return a[common].to_numpy(dtype=float), b[common].to_numpy(dtype=float)


def thresholds_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, K_z, [n_dis, step2_steps,] seed) at gamma = 0: eps_1, the first beta > 0 whose sharpness ratio
    exceeds beta = 0's by SHARPER, and eps_2, the first beta whose label agreement falls
    LABELS_LOST below beta = 0's; NaN when never reached."""
    rows = []
    keys = ["dataset", "Kz", *[c for c in ("n_dis", "step2_steps") if c in frame], "seed"]
    for values, group in _at(frame, gamma=0.0).groupby(keys, sort=False):
        group = group.sort_values("beta")
        base = group.iloc[0]
        sharper = group[(group.beta > 0) & (group.sharpness_ratio > (1 + SHARPER) * base.sharpness_ratio)]
        broken = group[(group.beta > 0) & (group.label_agreement < base.label_agreement - LABELS_LOST)]
        rows.append({**dict(zip(keys, values)),
                     "epsilon_1": float(sharper.beta.min()) if len(sharper) else float("nan"),
                     "epsilon_2": float(broken.beta.min()) if len(broken) else float("nan")})
    return pd.DataFrame(rows)


def _all(tests: list[rule.Test], relation: str) -> rule.Test:
    return rule.against_all(tests, relation)[0]


def _mean(values: np.ndarray) -> float:
    return float(np.nanmean(values)) if len(values) and np.isfinite(values).any() else float("nan")


def _claims(frame: pd.DataFrame, letters=CLAIM_LETTERS) -> list[tuple]:
    """(section, words, measured, test text, test) of the claims of section 4.4 whose letter is
    in ``letters`` (A, B: B0-B4 of the focus, C, D) on ``frame`` (one n_dis and budget)."""
    records = []

    def add(section, words, measured, test_text, test):
        records.append((section, words, measured, test_text, test))

    datasets = list(dict.fromkeys(frame["dataset"]))
    def focus(column, beta, gamma=0.0):
        return _seeds(frame, column, dataset=FOCUS, Kz=2, beta=beta, gamma=gamma)

    def against_zero(column, beta):
        """(column at beta, column at beta = 0) of the focus, paired by seed."""
        return _pair(frame, column, dict(dataset=FOCUS, Kz=2, beta=beta, gamma=0.0),
                     dict(dataset=FOCUS, Kz=2, beta=0.0, gamma=0.0))

    if "A" in letters:
        mse = {d: _pair(frame, "pixel_mse", dict(dataset=d, Kz=100, beta=0.0, gamma=0.0),
                        dict(dataset=d, Kz=2, beta=0.0, gamma=0.0)) for d in datasets}
        add("4.4 (A)", "At beta = 0, K_z = 100 reconstructs better than K_z = 2",
            "; ".join(f"{d}: pixel MSE {_mean(big):.4f} (K_z=100) vs {_mean(small):.4f} (K_z=2)"
                      for d, (big, small) in mse.items()),
            "K_z = 100's pixel MSE < K_z = 2's on every dataset",
            _all([rule.compare(big, small, "<") for big, small in mse.values()], "<"))

    if "B" in letters:
        thresholds = thresholds_table(frame)
        own = thresholds[(thresholds.dataset == FOCUS) & (thresholds.Kz == 2)].sort_values("seed")
        eps1, eps2 = own.epsilon_1.to_numpy(dtype=float), own.epsilon_2.to_numpy(dtype=float)
        grid = sorted(set(frame.beta))
        on_grid = (f"; thresholds on the beta grid {', '.join(f'{b:g}' for b in grid)}: each lies between "
                   "its grid value and the one below it, so the grid bounds the answer")
        add("4.4 (B0)", "As beta rises, reconstructions pass from blurred to sharper-and-matching to not "
                   "matching (MNIST, K_z = 2)",
            f"eps_1 = {_mean(eps1):g}, eps_2 = {_mean(eps2):g} (mean over seeds; definitions in B4){on_grid}",
            "eps_1 < eps_2 (grid-valued: exact sign-flip test)", rule.compare(eps1, eps2, "<", discrete=True))

        sharp0, agree0 = focus("sharpness_ratio", 0.0), focus("label_agreement", 0.0)
        low = {b: focus("sharpness_ratio", b) for b in (0.001, 0.003)}
        add("4.4 (B1)", "beta <= 0.003: reconstruction dominant, blurred outputs",
            f"sharpness ratio {_mean(sharp0):.2f} at beta = 0, "
            + ", ".join(f"{_mean(v):.2f} at {b}" for b, v in low.items()),
            f"sharpness ratio < {BLURRED} and no more than {SHARPER:.0%} above beta = 0's, at 0.001 and 0.003",
            _all([rule.compare(v, np.full_like(v, BLURRED), "<") for v in low.values()]
                 + [rule.compare(v / zero, np.ones_like(v), "<=", SHARPER)
                    for v, zero in (against_zero("sharpness_ratio", b) for b in low)], "<"))

        middle = {b: (focus("sharpness_ratio", b), focus("label_agreement", b)) for b in (0.005, 0.01)}
        add("4.4 (B2)", "0.005 <= beta <= 0.01: clearer, more realistic outputs that still match",
            "; ".join(f"beta = {b}: sharpness {_mean(s):.2f}, agreement {_mean(a):.3f}"
                      for b, (s, a) in middle.items()) + f" (beta = 0: {_mean(sharp0):.2f}, {_mean(agree0):.3f})",
            f"sharpness ratio more than {SHARPER:.0%} above beta = 0's and agreement within "
            f"{AGREEMENT_KEPT} of it, at 0.005 and 0.01",
            _all([rule.compare(s / zero, np.ones_like(s), ">", SHARPER)
                  for s, zero in (against_zero("sharpness_ratio", b) for b in middle)]
                 + [rule.compare(*against_zero("label_agreement", b), ">=", AGREEMENT_KEPT) for b in middle],
                 ">"))

        high = focus("label_agreement", 0.1)
        add("4.4 (B3)", "beta = 0.1: generative effect dominant, most outputs do not match their inputs",
            f"label agreement {_mean(high):.3f} at beta = 0.1 vs {_mean(agree0):.3f} at beta = 0",
            f"agreement < 0.5 and more than {LABELS_LOST} below beta = 0's",
            _all([rule.compare(high, np.full_like(high, 0.5), "<"),
                  rule.compare(*against_zero("label_agreement", 0.1), "<", LABELS_LOST)], "<"))

        add("4.4 (B4)", "0.003 < eps_1 <= 0.005 and 0.01 < eps_2 <= 0.1 (MNIST, K_z = 2)",
            f"eps_1 = {_mean(eps1):g}, eps_2 = {_mean(eps2):g}{on_grid}",
            "on the beta grid: eps_1 above 0.003 and below 0.01 (i.e. 0.005), eps_2 above 0.01 and "
            "below 0.5 (i.e. 0.1); eps_1 is the first beta whose sharpness ratio exceeds beta = 0's by "
            f"{SHARPER:.0%}, eps_2 the first whose agreement falls {LABELS_LOST} below beta = 0's "
            "(grid-valued: exact sign-flip tests)",
            _all([rule.compare(eps1, np.full_like(eps1, 0.003), ">", discrete=True),
                  rule.compare(np.full_like(eps1, 0.01), eps1, ">", discrete=True),
                  rule.compare(eps2, np.full_like(eps2, 0.01), ">", discrete=True),
                  rule.compare(np.full_like(eps2, 0.5), eps2, ">", discrete=True)], ">"))

    if "C" in letters:
        pairs, restore_tests = [], []
        for d in datasets:                   # every large-beta pair, not only those that lost labels
            for k in sorted(set(frame.Kz)):
                for b in LARGE_BETAS:
                    with_gamma, without = _pair(frame, "label_agreement",
                                                dict(dataset=d, Kz=k, beta=b, gamma=0.1),
                                                dict(dataset=d, Kz=k, beta=b, gamma=0.0))
                    if len(without) and len(with_gamma):
                        pairs.append(f"{d} K_z={k} beta={b}: {_mean(without):.2f} -> {_mean(with_gamma):.2f}")
                        restore_tests.append(rule.compare(with_gamma, without, ">", RESTORED,
                                                          equivalence=NO_RESTORING))
        add("4.4 (C)", "gamma = 0.1 restores class agreement where large beta (0.1, 0.5) lost it",
            f"label agreement at gamma = 0 -> 0.1 in all {len(pairs)} (dataset, K_z, large beta) pairs: "
            + "; ".join(pairs),
            f"agreement rises by more than {RESTORED} in every pair (paired over seeds; no pair "
            f"selected by its gamma = 0 value); equivalent: within +-{RESTORED} in every pair",
            _all(restore_tests, ">") if restore_tests else rule.Test(float("nan"), float("nan"), 0,
                                                                     float("nan"), float("nan")))

    omniglot = next((d for d in datasets if d.startswith("omniglot")), None)
    if "D" in letters and omniglot:
        def ratio(d, k):
            return (_seeds(frame, "pixel_mse", dataset=d, Kz=k, beta=0.0, gamma=0.0)
                    / _seeds(frame, "mean_image_mse", dataset=d, Kz=k, beta=0.0, gamma=0.0))
        two, hundred = ratio(omniglot, 2), ratio(omniglot, 100)
        add("4.4 (D)", "Reconstruction is impossible for Omniglot in 2-D (but not in 100-D)",
            "pixel MSE / the mean image's at beta = 0, K_z = 2: "
            + "; ".join(f"{d} {_mean(ratio(d, 2)):.2f}" for d in datasets)
            + f"; {omniglot} at K_z = 100: {_mean(hundred):.2f}",
            f"{omniglot}'s K_z = 2 ratio above {NO_BETTER_THAN_MEAN} (no better than the mean image) "
            f"and its K_z = 100 ratio below it",
            _all([rule.compare(two, np.full_like(two, NO_BETTER_THAN_MEAN), ">"),
                  rule.compare(np.full_like(hundred, NO_BETTER_THAN_MEAN), hundred, ">")], ">"))

    return records


def _variants(frame: pd.DataFrame, sweep: tuple[int, int] | None = None) -> list[tuple[int, int]]:
    """The (n_dis, step2_steps) of ``frame``'s rows, the sweep's own first: ``sweep`` where given,
    else the one with the most rows."""
    if "n_dis" not in frame:
        return [(None, None)]
    counts = frame.groupby(["n_dis", "step2_steps"]).size().sort_values(ascending=False, kind="stable")
    found = [tuple(int(v) for v in index) for index in counts.index]
    return sorted(found, key=lambda variant: variant != tuple(sweep)) if sweep else found


def verdicts(frame: pd.DataFrame, budget: str = "", letters=CLAIM_LETTERS,
             evidence: str = EVIDENCE, sweep: tuple[int, int] | None = None) -> pd.DataFrame:
    """The claims of section 4.4 whose letter is in ``letters`` (``focus.CLAIM_LETTERS``), each
    with its test on the seeds of ``frame`` (the sweep's metrics, one row per dataset, K_z,
    gamma, beta and seed, and where present n_dis and step2_steps), Holm over the whole table;
    ``evidence`` names the table they read. The sweep's own n_dis and budget (``sweep``: (n_dis,
    step2_steps), else the pair with the most rows; ``budget`` describes it) decide every claim; each further (n_dis, step2_steps) of the focus decides the
    beta claims (B) again, as rows with that condition. ``budget_dependent`` marks a B claim whose verdict differs between
    two budgets at one n_dis, among the budgets with at least 2 seeds for it. Each row says the
    seeds, the difference and its standard error, and its condition in words and as numbers
    (``n_dis``, ``step2_steps``; empty where the frame has no such columns)."""
    records, conditions = [], []
    variants = _variants(frame, sweep)
    for number, (n_dis, steps) in enumerate(variants):
        part = frame if n_dis is None else frame[(frame.n_dis == n_dis) & (frame.step2_steps == steps)]
        found = _claims(part, letters if number == 0 else [letter for letter in letters if letter == "B"])
        records += found
        condition = "" if n_dis is None else (f"n_dis = {n_dis}, {steps} Algorithm 2 iterations"
                                              + (" (the sweep's)" if number == 0 else ""))
        conditions += [(condition, n_dis, steps, budget if number == 0 else
                        f"{steps} Algorithm 2 iterations, n_dis = {n_dis}")] * len(found)
    tests = [record[-1] for record in records]
    decisions = rule.decide(tests)
    verdicts = rule.verdict_words(decisions)
    claims = [rule.judged(PAPER, section, words, measured, test_text, evidence, test, decision, condition[0])
              for (section, words, measured, test_text, test), decision, condition
              in zip(records, decisions, conditions)]
    by_n_dis: dict[tuple, set] = {}
    for (section, *_), verdict, (_, n_dis, _, _), test in zip(records, verdicts, conditions, tests):
        if test.seeds >= 2:              # a budget without the settings a claim needs decides nothing
            by_n_dis.setdefault((section, n_dis), set()).add(verdict)
    extra = [{"standard_error": test.standard_error, "budget": condition[3],
              "budget_dependent": len(by_n_dis.get((section, condition[1]), ())) > 1,
              "n_dis": condition[1], "step2_steps": condition[2]}
             for (section, *_), test, condition in zip(records, tests, conditions)]
    return rule.claims_frame(claims, extra)
