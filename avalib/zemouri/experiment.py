"""What notebooks 02 and 03 call: step-1 quality, the 2-D latent space, and reconstruction metrics
per (dataset, K_z, beta, gamma) for the pictures of Zemouri (2020) section 4.4."""

from __future__ import annotations

import dataclasses
import functools

import pandas as pd
import torch

from avalib.data import load_dataset
from avalib.fanout import compute
from avalib.domain_classifier import DomainClassifier, DomainClassifierConfig, domain_classifier, judge, train_judges
from avalib.metrics import frechet_distance, laplacian_sharpness
from avalib.training import in_batches
from avalib.zemouri import trainer, units
from avalib.zemouri.model import ZemouriModel, feature_reconstruction_loss, kl_loss
from avalib.zemouri.focus import CLAIM_LETTERS, FOCUS, FOCUS_LATENT_SIZE, claims_use
from avalib.zemouri.trainer import ZemouriConfig, reconstruct

ACTIVE_UNIT_VARIANCE = 0.01       # Burda et al. (2016)'s threshold for an active latent unit
PAPER_BETAS = (0.0, 0.001, 0.003, 0.005, 0.01, 0.1, 0.5)
PAPER_GAMMAS = (0.0, 0.1)
STEP1_SCORES = ("classifier_test_accuracy", "test_kl_nats", "active_units")   # _step1_scores' keys


def test_images(dataset: str, count: int | None, seed: int = 0):
    return load_dataset(dataset, "test").subset(count, seed)


@torch.no_grad()
def _step1_scores(model: ZemouriModel, test_count: int | None) -> dict:
    test = test_images(model.config.dataset, test_count)
    device = model.config.device
    mean, log_variance = in_batches(model.encoder, test.images, device=device)
    logits, = in_batches(model.classifier, mean, device=device)
    return {"classifier_test_accuracy": float((logits.argmax(1) == test.labels).float().mean()),
            "test_kl_nats": float(kl_loss(mean, log_variance, "sum")),
            "active_units": int((mean.var(0) > ACTIVE_UNIT_VARIANCE).sum())}


@torch.no_grad()
def step1_row(model: ZemouriModel, test_count: int | None) -> dict:
    """Classifier accuracy on the test split (on the posterior mean), the test KL (eq. 4, summed
    over latent units, nats per image) and the active latent units (Burda et al. 2016: the
    variance over test images of a unit's posterior mean exceeds ACTIVE_UNIT_VARIANCE)."""
    config = model.config
    return {"dataset": config.dataset, "Kz": config.latent_size, "seed": config.seed,
            "kl_reduction": config.kl_reduction, "kl_weight": config.kl_weight,
            "kl_weight_per_unit": kl_weight_per_unit(config),
            "classes": int(load_dataset(config.dataset, "train").labels.max()) + 1,
            **_step1_scores(model, test_count),
            "train_last_epoch_cat": model.history["step1"]["last_epoch_cat"]}


def kl_weight_per_unit(config: ZemouriConfig) -> float:
    """The weight each latent unit's KL gets in eq. 6 as trained: kl_weight, divided by K_z when
    the KL is averaged over units (so the mean makes the objective depend on K_z)."""
    return config.kl_weight / (config.latent_size if config.kl_reduction == "mean" else 1)


def _in_eval_mode(model: ZemouriModel, call) -> None:
    """``call()`` with every network in eval mode and no gradients, then the modes restored."""
    modes = [network.training for network in model.networks()]
    for network in model.networks():
        network.eval()
    with torch.no_grad():
        call()
    for network, mode in zip(model.networks(), modes):
        network.train(mode)


def step1_learning_curve(config: ZemouriConfig, epochs, test_count: int | None) -> pd.DataFrame:
    """Unit: step 1's test accuracy, KL and active units after each of ``epochs`` (one run of
    max(epochs) epochs; the point at e epochs is the model ``step1_epochs = e`` trains): whether
    a collapse is the method or the budget. A run whose loss w L_kl + L_cat (eq. 6) stops being
    finite is a result, not an error: from the epoch it diverged in on, its rows hold no scores
    (NaN) and say the Algorithm 1 iteration (counted from 1) and the epoch where that happened."""
    run, rows, diverged = trainer.Algorithm1(config), [], None
    for epoch in sorted(epochs):
        key = {"dataset": config.dataset, "Kz": config.latent_size, "seed": config.seed, "epoch": epoch}
        if diverged is None:
            try:
                run.advance(epoch)
            except FloatingPointError:
                diverged = {"diverged_at_iteration": run.step + 1,
                            "diverged_in_epoch": run.step // run.per_epoch + 1}
        if diverged is None:
            _in_eval_mode(run.model, lambda: rows.append(
                {**key, **_step1_scores(run.model, test_count),
                 "diverged_at_iteration": None, "diverged_in_epoch": None}))
        else:
            rows.append({**key, **dict.fromkeys(STEP1_SCORES, float("nan")), **diverged})
    return pd.DataFrame(rows).astype({"diverged_at_iteration": "Int64", "diverged_in_epoch": "Int64"})


def divergence_note(curves: pd.DataFrame) -> str:
    """One Markdown line per learning curve that diverged, e.g. "omniglot_alphabets, K_z = 100,
    seed 0: the step-1 loss is not finite at iteration 2472 (epoch 11); no scores from then on";
    "" where none did."""
    if "diverged_at_iteration" not in curves:
        return ""
    diverged = curves.dropna(subset=["diverged_at_iteration"]).drop_duplicates(["dataset", "Kz", "seed"])
    return "\n".join(f"- {row.dataset}, K_z = {row.Kz}, seed {row.seed}: the step-1 loss w L_kl + L_cat "
                     f"is not finite at iteration {row.diverged_at_iteration} (epoch {row.diverged_in_epoch});"
                     " no scores from then on." for row in diverged.itertuples())


@torch.no_grad()
def latent_codes(model: ZemouriModel, test_count: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior means of test images and their labels (the points of Fig. 7)."""
    test = test_images(model.config.dataset, test_count)
    return in_batches(model.encoder, test.images, device=model.config.device)[0], test.labels


@torch.no_grad()
def latent_grid(model: ZemouriModel, codes: torch.Tensor, steps: int = 15) -> torch.Tensor:
    """Images decoded from a steps x steps grid spanning the 2nd-98th percentiles of the codes
    of a 2-D latent space (Fig. 8), row-major from (low z1, high z2)."""
    low, high = codes.quantile(0.02, dim=0), codes.quantile(0.98, dim=0)
    z1 = torch.linspace(float(low[0]), float(high[0]), steps)
    z2 = torch.linspace(float(high[1]), float(low[1]), steps)
    grid = torch.stack(torch.meshgrid(z2, z1, indexing="ij"), dim=-1).flip(-1).reshape(-1, 2)
    return in_batches(model.decoder, grid, device=model.config.device)[0]


GRID_DATASETS = ("mnist", "fashion_mnist")      # Fig. 8's


def latent_grids(base: ZemouriConfig, datasets, latent_sizes, panels: dict[str, tuple],
                 scheduler: str | None = None, threads: int = 1, steps: int = 15) -> dict[str, torch.Tensor]:
    """Fig. 8 per dataset of ``GRID_DATASETS`` among ``datasets`` (where K_z = 2 is among
    ``latent_sizes``): ``latent_grid`` of the step-2 decoder at beta = gamma = 0 over the test
    codes of ``panels[dataset]`` (``latent_codes``); the settings trained first as units on
    ``scheduler``, all at once."""
    configs = {name: dataclasses.replace(base, dataset=name, latent_size=2)
               for name in GRID_DATASETS if name in datasets and 2 in latent_sizes}
    compute(units.setting, [{"config": config} for config in configs.values()], scheduler, threads,
            "latent grid")
    return {name: latent_grid(units.trained(config), panels[name][0], steps) for name, config in configs.items()}


@torch.no_grad()
def reconstruction_metrics(model: ZemouriModel, images: torch.Tensor, labels: torch.Tensor,
                           classifier: DomainClassifier,
                           real_judgement: tuple[torch.Tensor, torch.Tensor]) -> dict:
    """Pixel MSE, the deep-feature loss L_rec (eq. 9), label agreement of reconstructions under
    the independent domain classifier (share predicted as the true label), sharpness of outputs
    relative to the inputs (Laplacian ratio, 1 = as sharp), and the Frechet distance between
    reconstructions and inputs on the domain classifier's features. ``real_judgement`` is
    ``judge(classifier, images)``, computed once per test set by the caller."""
    decoded = reconstruct(model, images)
    features = [in_batches(lambda batch: tuple(model.encoder.encode(batch)[2]), x, device=model.config.device)
                for x in (images, decoded)]
    real_probabilities, real_features = real_judgement
    probabilities, decoded_features = judge(classifier, decoded)
    return {"pixel_mse": float((decoded - images).pow(2).mean()),
            "feature_loss": float(feature_reconstruction_loss(*features, model.config.alphas)),
            "label_agreement": float((probabilities.argmax(1) == labels).float().mean()),
            "label_agreement_inputs": float((real_probabilities.argmax(1) == labels).float().mean()),
            "sharpness_ratio": laplacian_sharpness(decoded) / laplacian_sharpness(images),
            "frechet_distance": frechet_distance(decoded_features, real_features)}


@functools.lru_cache(maxsize=4)
def _scoring_context(judge_config: DomainClassifierConfig, dataset: str, test_count: int):
    """What every setting of one dataset is scored against: the test images, the judge, its
    judgement of the real images and the mean image's pixel MSE. Kept for the next setting of the
    same process (a memo of a deterministic function: every setting of a sweep shares it, and
    judging 1,000 real images took 0.5 s a setting)."""
    test = test_images(dataset, test_count)
    classifier, _ = domain_classifier(judge_config.on(dataset))
    return (test, classifier, judge(classifier, test.images),
            float((test.images - test.images.mean(0)).pow(2).mean()))


def setting_columns(config: ZemouriConfig) -> dict:
    """A setting as its metrics row's SETTING_INDEX values."""
    return {"dataset": config.dataset, "Kz": config.latent_size, "n_dis": config.n_dis,
            "step2_steps": config.step2_steps, "gamma": config.gamma, "beta": config.beta,
            "seed": config.seed}


SETTING_INDEX = ["dataset", "Kz", "n_dis", "step2_steps", "gamma", "beta", "seed"]


def judged_rows(metrics: pd.DataFrame, pilot: pd.DataFrame, pilot_steps) -> pd.DataFrame:
    """The rows section 4.4's claims read: the sweep's ``metrics``, and the budget ``pilot``'s rows
    at its longest budget (``max(pilot_steps)``) where that is not a budget the sweep trains."""
    if not len(pilot) or not pilot_steps:
        return metrics.reset_index(drop=True)
    longest = pilot[(pilot.step2_steps == max(pilot_steps)) & ~pilot.step2_steps.isin(metrics.step2_steps)]
    return pd.concat([metrics, longest[[c for c in metrics.columns if c in longest]]], ignore_index=True)


def score_setting(config: ZemouriConfig, judge_config: DomainClassifierConfig, test_count: int,
                  example_count: int) -> dict:
    """Unit: the trained ``config`` (``units.trained``) scored on the first ``test_count``
    test images (drawn with seed 0: the same for every seed, so seeds are paired). Returns the
    metrics row and the reconstructions of the first ``example_count`` test images."""
    test, classifier, real_judgement, mean_image_mse = _scoring_context(judge_config, config.dataset,
                                                                        test_count)
    model = units.trained(config)
    row = {**setting_columns(config),
           **reconstruction_metrics(model, test.images, test.labels, classifier, real_judgement),
           "mean_image_mse": mean_image_mse}
    shown = reconstruct(model, test.images[:example_count])
    correct = judge(classifier, shown)[0].argmax(1) == test.labels[:example_count]
    return {"row": row, "examples": shown, "example_correct": correct}


def sweep_settings(base: ZemouriConfig, datasets, latent_sizes, betas, gammas, seeds,
                   focus_seeds=(), focus_n_dis=(), focus_step2_steps=(),
                   letters=CLAIM_LETTERS) -> list[ZemouriConfig]:
    """The settings of the sweep at ``base``'s n_dis and step2_steps: every (dataset, K_z, gamma,
    beta) at the first seed (the figures), and those a claim of ``letters`` uses (``claims_use``)
    at every seed;
    where the beta claims (B) are - the FOCUS dataset at K_z = 2, gamma = 0,
    every beta - also ``focus_seeds``, and the focus at all its seeds again at each n_dis of
    ``focus_n_dis`` and each budget of ``focus_step2_steps`` (Algorithm 2 iterations per setting).
    Settings sharing a step-1 model are consecutive."""
    grid = [dataclasses.replace(base, dataset=d, latent_size=k, gamma=g, beta=b, seed=s)
            for s in seeds for d in datasets for k in latent_sizes for g in gammas for b in betas
            if s == seeds[0] or claims_use(d, k, g, b, letters)]
    if (not (focus_seeds or focus_n_dis or focus_step2_steps)
            or FOCUS not in datasets or FOCUS_LATENT_SIZE not in latent_sizes or 0.0 not in gammas):
        return grid
    all_seeds = [*seeds, *[s for s in focus_seeds if s not in seeds]]
    focus = [dataclasses.replace(base, dataset=FOCUS, latent_size=FOCUS_LATENT_SIZE, gamma=0.0,
                                 beta=b, seed=s, **variant)
             for variant in [{}, *[{"n_dis": n} for n in focus_n_dis if n != base.n_dis],
                             *[{"step2_steps": t} for t in focus_step2_steps if t != base.step2_steps]]
             for s in all_seeds for b in betas]
    return grid + [config for config in focus if config not in grid]


def setting_cost(config: ZemouriConfig, **_) -> float:
    """A setting's work, for starting the longest first: its Algorithm 2 iterations, each one
    decoder update and ``n_dis`` critic updates (its scoring is the same for every setting)."""
    return config.step2_steps * (config.n_dis + 1)


def sweep(settings: list[ZemouriConfig], test_count: int, example_count: int,
          judge_config: DomainClassifierConfig, scheduler: str | None = None, threads: int = 1):
    """Train and score every setting (``sweep_settings``) as units of work on ``scheduler``
    (``avalib.fanout``): first the starts they share (step 1, warm-up), then the settings.
    Returns (metrics frame, examples, frames): ``examples[(dataset, Kz)]`` maps "input" and
    "g=.. b=.." to ``example_count`` images of the first setting's seed, n_dis and budget;
    ``frames`` the same keys to Fig. 9's frame colours (``figure_9_frames``)."""
    train_judges(judge_config, [c.dataset for c in settings], scheduler, threads)
    compute(units.step1, [{"config": c} for c in dict.fromkeys(c.stage("step1") for c in settings)],
            scheduler, threads, "step 1")
    compute(units.warm_start, [{"config": c} for c in dict.fromkeys(c.stage("warmup") for c in settings)],
            scheduler, threads, "warm-ups")
    scored = compute(score_setting, [{"config": c, "judge_config": judge_config,
                                     "test_count": test_count, "example_count": example_count}
                                    for c in settings], scheduler, threads, "settings", cost=setting_cost)
    frame = pd.DataFrame([unit["row"] for unit in scored])
    frame.attrs["test_count"] = test_count
    first = settings[0]
    examples, correct = {}, {}
    for config, unit in zip(settings, scored):
        if (config.seed, config.n_dis, config.step2_steps) == (first.seed, first.n_dis, first.step2_steps):
            key = (config.dataset, config.latent_size)
            shown = examples.setdefault(key, {"input": test_images(config.dataset, test_count)
                                              .images[:example_count]})
            shown[f"g={config.gamma} b={config.beta}"] = unit["examples"]
            correct.setdefault(key, {})[(config.gamma, config.beta)] = unit["example_correct"]
    return frame, examples, {key: figure_9_frames(marks) for key, marks in correct.items()}


def step2_learning_curve(config: ZemouriConfig, steps, judge_config: DomainClassifierConfig,
                         test_count: int) -> list[dict]:
    """Unit: the sweep's metrics of ``config`` after each of ``steps`` Algorithm 2 iterations (one
    run of max(steps) iterations from the shared warm-up; the point at s iterations is the model
    that ``step2_steps = s`` trains): the budget pilot."""
    test, classifier, real_judgement, _ = _scoring_context(judge_config, config.dataset, test_count)
    model, pair = units.warmed_up(config)
    run, rows = trainer.step2(model, pair, steps=0, encoded=units.encoded(model)), []
    for step in sorted(steps):
        _in_eval_mode(run.advance(step).model, lambda: rows.append(
            {**setting_columns(config), "step2_steps": step,
             **reconstruction_metrics(model, test.images, test.labels, classifier, real_judgement)}))
    return rows


def budget_pilot(base: ZemouriConfig, betas, seeds, steps, judge_config: DomainClassifierConfig,
                 test_count: int, scheduler: str | None = None, threads: int = 1) -> pd.DataFrame:
    """Learning curves of the beta claims' metrics (FOCUS dataset, K_z = 2, gamma = 0): one unit
    per (beta, seed), on ``scheduler``; one row per (beta, seed, Algorithm 2 iterations)."""
    configs = [dataclasses.replace(base, dataset=FOCUS, latent_size=FOCUS_LATENT_SIZE, gamma=0.0,
                                   beta=b, seed=s) for s in seeds for b in betas]
    return pilot_curves(configs, steps, judge_config, test_count, scheduler, threads)


def pilot_curves(configs: list[ZemouriConfig], steps, judge_config: DomainClassifierConfig,
                 test_count: int, scheduler: str | None = None, threads: int = 1) -> pd.DataFrame:
    """``step2_learning_curve`` of every config, as units on ``scheduler`` (the warm-ups first);
    one row per (config, Algorithm 2 iterations)."""
    train_judges(judge_config, [c.dataset for c in configs], scheduler, threads)
    compute(units.warm_start, [{"config": c} for c in dict.fromkeys(c.stage("warmup") for c in configs)],
            scheduler, threads, "pilot warm-ups")
    curves = compute(step2_learning_curve, [{"config": c, "steps": tuple(steps),
                                             "judge_config": judge_config, "test_count": test_count}
                                            for c in configs], scheduler, threads, "pilot curves")
    return pd.DataFrame([row for rows in curves for row in rows])


def step1_learning_curves(base: ZemouriConfig, datasets, latent_sizes, seeds, epochs,
                          test_count: int | None, scheduler: str | None = None,
                          threads: int = 1) -> pd.DataFrame:
    """``step1_learning_curve`` for every (dataset, K_z, seed), as units on ``scheduler``."""
    curves = compute(step1_learning_curve,
                     [{"config": dataclasses.replace(base, dataset=d, latent_size=k, seed=s).stage("step1"),
                       "epochs": tuple(epochs), "test_count": test_count}
                      for d in datasets for k in latent_sizes for s in seeds],
                     scheduler, threads, "step-1 learning curves")
    return pd.concat(curves, ignore_index=True)


def figure_9_frames(correct: dict[tuple[float, float], torch.Tensor]) -> dict[str, list]:
    """The paper's frames on the Fig. 9 grids, per row "g=.. b=..": red where the judge's label
    of a reconstruction differs from its input's, green where gamma > 0 restored the label that
    gamma = 0 lost at the same beta; no frame otherwise."""
    frames = {}
    for (gamma, beta), right in correct.items():
        lost = correct.get((0.0, beta))
        frames[f"g={gamma} b={beta}"] = [
            "red" if not ok else "green" if gamma > 0 and lost is not None and not lost[i] else None
            for i, ok in enumerate(right.tolist())]
    return frames


def step1_models(base: ZemouriConfig, datasets, latent_sizes, seeds=(0,), scheduler: str | None = None,
                 threads: int = 1) -> dict:
    """Step 1 (the encoder-classifier) for every (dataset, K_z, seed), keyed so; trained as units
    on ``scheduler`` first, then loaded."""
    configs = {(d, k, s): dataclasses.replace(base, dataset=d, latent_size=k, seed=s)
               for s in seeds for d in datasets for k in latent_sizes}
    compute(units.step1, [{"config": c.stage("step1")} for c in configs.values()], scheduler, threads,
            "step 1")
    return {key: units.encoder_classifier(config) for key, config in configs.items()}
