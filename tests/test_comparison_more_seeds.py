"""Notebook 08: the AVA claims of notebook 04 judged again on more seeds. Pooling 04's committed
rows with the added seeds judges exactly what one run over every seed would; 04's first run is
compared unit by unit with its fingerprints; the front page shows 08's cell in 04's place, marked
where it moved."""

import types

import pandas as pd
import pytest

from avalib import cache, findings
from avalib.comparison import claims, experiment, more_seeds
from avalib.domain_classifier import DomainClassifierConfig
from tests.test_comparison_ava import TOY

JUDGE = DomainClassifierConfig("toy", train_size=None, epochs=1)
MODELS, SEEDS, FOCUS = ["vae", "gan", "ava1_exact"], [0, 1], [2]


@pytest.fixture()
def source():
    with cache.recorded() as made:
        runs, _, _ = experiment.run_comparison(MODELS, ["toy"], SEEDS, TOY, JUDGE, 32)
    runs = runs.round(more_seeds.DECIMALS)
    run = types.SimpleNamespace(datasets=["toy"], models=MODELS, seeds=SEEDS, base=TOY, judge=JUDGE, test_size=32)
    return more_seeds.Source(None, run, runs, claims.ava_table(runs, more_seeds.SOURCE)[0], "commit",
                             pd.DataFrame(made))


def test_the_pooled_seeds_judge_what_one_run_over_every_seed_would(source):
    added = more_seeds.added_runs(source, ["toy"], ["vae", "ava1_exact"], [*SEEDS, *FOCUS])
    assert sorted(added.seed) == [2, 2]                        # 04's seeds are read, not retrained
    pooled = more_seeds.pooled(source, added)
    table, records = more_seeds.judged_again(source, pooled, "08_ava_more_seeds")
    whole = experiment.run_comparison(MODELS, ["toy"], SEEDS, TOY, JUDGE, 32)[0]
    whole = pd.concat([whole, experiment.run_comparison(["vae", "ava1_exact"], ["toy"], FOCUS, TOY, JUDGE, 32)[0]])
    once, _ = claims.ava_table(whole.round(more_seeds.DECIMALS), "08_ava_more_seeds")
    columns = ["dataset", "model", "claim", "seeds", "verdict", "effect", "interval_low", "interval_high"]
    timed = table.measure.isin(claims.NOT_TIMED)                # wall clock: another run, other seconds
    assert timed.sum() == 1
    pd.testing.assert_frame_equal(table.loc[~timed, columns], once.loc[~timed, columns])
    assert (table.seeds == 3).all() and (table.seeds_in_04 == 2).all()
    assert table.verdict_in_04.tolist() == source.ava_claims.verdict.tolist()
    assert {r.evidence for r in records} == {"08_ava_more_seeds/ava_claims.csv"}


def test_04s_first_run_is_compared_unit_by_unit_with_its_fingerprints(source, monkeypatch):
    monkeypatch.setenv("AVALIB_NO_CACHE", "1")                 # every unit trained again here
    compared = more_seeds.fingerprints_compared(source)
    assert set(compared.unit) == {"train", "train_model", "score_run"} and compared.same.all()
    other = more_seeds.Source(None, source.run, source.runs, source.ava_claims, "commit",
                              source.fingerprints.assign(fingerprint="0" * 64))
    assert not more_seeds.fingerprints_compared(other).same.any()


def test_a_focus_outside_04_names_the_parameter(source):
    with pytest.raises(ValueError, match=r"parameter focus_models=\['zemouri'\]: must be among notebook 04's"):
        source.check(["toy"], ["zemouri"])


def test_the_front_page_shows_08s_cell_in_04s_place_marked_where_it_moved(source, tmp_path):
    added = more_seeds.added_runs(source, ["toy"], ["vae", "ava1_exact"], FOCUS)
    later, later_records = more_seeds.judged_again(source, more_seeds.pooled(source, added), "08_ava_more_seeds")
    earlier, earlier_records = claims.ava_table(source.runs, more_seeds.SOURCE)
    for folder, table, records in (("04_vae_vs_gan", earlier, earlier_records),
                                   ("08_ava_more_seeds", later, later_records)):
        (tmp_path / folder).mkdir()
        table.to_csv(tmp_path / folder / findings.MODEL_TABLE, index=False)
        claims.verdicts(records).to_csv(tmp_path / folder / "claims.csv", index=False)
    cells = findings.records(tmp_path)
    assert set(cells.table) == {"08_ava_more_seeds/ava_claims.csv"} and len(cells) == len(later)
    assert cells.judged_again_in.eq("08_ava_more_seeds").all()          # every cell has a seed more
    assert cells.earlier_seeds.eq("2").all() and cells.seeds.eq("3").all()
