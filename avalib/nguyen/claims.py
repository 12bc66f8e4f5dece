"""The ranking claims of Nguyen et al. (2024) section 4 (Table 3's text) as data, judged per protocol
by the study's verdict rule (``avalib.claims``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from avalib import claims as rule
from avalib.nguyen.report import (AGREEMENT_BAND, AUTHORS_RUN_TO_RUN_SPREAD, MODELS, STATISTICS,
                                  paper_table_3)

PAPER = "Nguyen, Abdalla & Amer (2024)"
EVIDENCE = "01_nguyen_bm_tables/claims.csv"


@dataclass(frozen=True)
class RankingClaim:
    """"``left``'s ``statistic`` (of Table 3) is ``relation`` than each of ``rivals``'s"."""

    words: str
    statistic: str
    left: str
    relation: str
    rivals: tuple[str, ...]
    section: str = "4, Table 3"


def _others(model: str) -> tuple[str, ...]:
    return tuple(m for m in MODELS if m != model)


CLAIMS = [
    RankingClaim("AVA5 is the best DGM because it gains the highest BM mean", "Mean", "AVA5", ">", _others("AVA5")),
    RankingClaim("AVA5 produces the highest stability given the smallest SD", "SD", "AVA5", "<",
                 _others("AVA5"), "5 (conclusion)"),
    RankingClaim("AVA3 is the best DGM [for similarity] because it gains the lowest BM mean", "Mean",
                 "AVA3", "<", _others("AVA3")),
    RankingClaim("AVA1 [is] better than GAN: a larger BM mean", "Mean", "AVA1", ">", ("GAN",)),
    RankingClaim("AVA2 [is] better than GAN: a larger BM mean", "Mean", "AVA2", ">", ("GAN",)),
    RankingClaim("AVA5's BM mean is larger than the pole GAN's", "Mean", "AVA5", ">", ("GAN",)),
    RankingClaim("AVA3 ... is better than the pole VAE: a smaller BM mean", "Mean", "AVA3", "<", ("VAE",)),
    RankingClaim("AVA2 [has a] BM maximum larger than GAN's", "Maximum", "AVA2", ">", ("GAN",)),
    RankingClaim("AVA5 [has a] BM maximum larger than GAN's", "Maximum", "AVA5", ">", ("GAN",)),
    RankingClaim("AVA3 [has a] BM minimum smaller than VAE's", "Minimum", "AVA3", "<", ("VAE",)),
    RankingClaim("AVA4 [has a] BM minimum smaller than VAE's", "Minimum", "AVA4", "<", ("VAE",)),
    RankingClaim("AVA1 [has an] SD smaller than GAN's", "SD", "AVA1", "<", ("GAN",)),
    RankingClaim("AVA2 [has an] SD smaller than GAN's", "SD", "AVA2", "<", ("GAN",)),
    RankingClaim("AVA3 [has an] SD no larger than VAE's", "SD", "AVA3", "<=", ("VAE",)),
    RankingClaim("AVA4 [has an] SD no larger than VAE's", "SD", "AVA4", "<=", ("VAE",)),
]


def _by_model(per_seed: pd.DataFrame) -> pd.DataFrame:
    """(model, seed) x statistic -> model x statistic of per-seed arrays (ordered by seed)."""
    grouped = per_seed.sort_index().groupby(level="model")
    return pd.DataFrame({statistic: grouped[statistic].apply(lambda s: s.to_numpy())
                         for statistic in STATISTICS})


# A difference within the authors' own run-to-run spread is one their Table 3 cannot resolve: the
# equivalence margin of every claim, under both verdicts.
EQUIVALENCE = rule.Equivalence(AUTHORS_RUN_TO_RUN_SPREAD, f"+-{AUTHORS_RUN_TO_RUN_SPREAD:g} BM, the authors' run-to-run spread")


def _test(ours: pd.DataFrame, claim: RankingClaim, strict_margin: float,
          equivalence_margin: float) -> tuple[rule.Test, str]:
    """The claim against each rival (paired over seeds: every model of a protocol draws
    seed k's initial weights and noise from the same seed streams), combined."""
    margin = equivalence_margin if claim.relation in ("<=", ">=") else strict_margin
    tests = [rule.compare(ours.loc[claim.left, claim.statistic], ours.loc[rival, claim.statistic],
                          claim.relation, margin, paired=True, equivalence=EQUIVALENCE)
             for rival in claim.rivals]
    combined, index = rule.against_all(tests, claim.relation)
    return combined, claim.rivals[index]


def _identical(ours: pd.DataFrame, claim: RankingClaim, rival: str) -> bool:
    """Whether ``claim.left`` and ``rival`` gave the same statistic in every seed (one computation)."""
    left, right = ours.loc[claim.left, claim.statistic], ours.loc[rival, claim.statistic]
    return len(left) == len(right) and bool((left == right).all())


def _diverged(ours: pd.DataFrame, claim: RankingClaim) -> int:
    """The seeds at which ``claim.left`` or a rival has no statistic (a learning rate diverged)."""
    values = np.array([ours.loc[model, claim.statistic] for model in (claim.left, *claim.rivals)], dtype=float)
    return int(np.isnan(values).any(axis=0).sum())


def verdicts(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Every claim under every protocol, judged twice by the study's rule (paired over seeds,
    Holm over the whole table; equivalence within the authors' run-to-run spread): ``verdict`` on
    our seed spread (strict claims against 0, "no larger than" within AGREEMENT_BAND), and
    ``verdict_vs_authors_spread`` with differences smaller than the authors' run-to-run spread not
    counting (margin AUTHORS_RUN_TO_RUN_SPREAD)."""
    paper = paper_table_3()
    rows, seeds_tests, authors_tests = [], [], []
    for protocol in per_seed.index.get_level_values("protocol").unique():
        ours = _by_model(per_seed.loc[protocol])
        for claim in CLAIMS:
            seeds, rival = _test(ours, claim, 0.0, AGREEMENT_BAND)
            authors, _ = _test(ours, claim, AUTHORS_RUN_TO_RUN_SPREAD, AUTHORS_RUN_TO_RUN_SPREAD)
            seeds_tests.append(seeds)
            authors_tests.append(authors)
            paper_difference = paper.loc[claim.statistic, claim.left] - paper.loc[claim.statistic, rival]
            rows.append(dict(claim=claim, protocol=protocol, rival=rival, test=seeds,
                             paper_difference=paper_difference, identical=_identical(ours, claim, rival),
                             diverged=_diverged(ours, claim), runs=len(ours.loc[claim.left, claim.statistic])))
    decisions = rule.decide(seeds_tests)
    authors_verdicts = rule.verdict_words(rule.decide(authors_tests))
    records, extra = [], []
    for row, decision, authors_verdict in zip(rows, decisions, authors_verdicts):
        claim, test = row["claim"], row["test"]
        if test.seeds < 2 and row["diverged"]:
            diverged = f"{rule.INCONCLUSIVE} (diverged in {row['diverged']} of {row['runs']} seeds)"
            decision = dataclasses.replace(decision, verdict=diverged)
            authors_verdict = diverged
        versus = "every other model" if len(claim.rivals) > 1 else claim.rivals[0]
        records.append(rule.judged(
            PAPER, claim.section, claim.words,
            f"{claim.statistic} {claim.left} - {row['rival']} = {test.difference:+.4f} "
            f"(95 % {test.low:+.4f} to {test.high:+.4f}, {test.seeds} seeds"
            + ("; identical in every seed" if row["identical"] else "")
            + f"; paper {row['paper_difference']:+.4f})",
            f"{claim.left} {claim.relation} {versus}: {test.method}, Holm", EVIDENCE, test, decision,
            condition=row["protocol"]))
        extra.append(dict(statistic=claim.statistic, relation=claim.relation, versus=row["rival"],
                          paper_difference=row["paper_difference"], standard_error=test.standard_error,
                          p_holds_holm=decision.p_holds, p_fails_holm=decision.p_fails,
                          p_equivalent_holm=decision.p_equivalent,
                          diverged_seeds=row["diverged"], verdict_vs_authors_spread=authors_verdict))
    return rule.claims_frame(records, extra)
