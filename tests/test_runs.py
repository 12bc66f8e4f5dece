"""Safe runs: parameters are checked before a kernel starts; a failed run publishes nothing."""

import dataclasses

import pytest

from avalib import results, runs


def test_every_notebook_default_and_smoke_parameters_pass_their_checks():
    for stem in runs.RUNS:
        for profile in ("default", "smoke", "paper"):
            assert runs.resolve(stem, profile)["profile"] == profile


def test_each_notebook_class_is_exactly_its_parameters_cell():
    for stem in runs.RUNS:
        assert sorted(runs.run_class(stem).parameter_names()) == sorted(runs.declared(stem)), stem


def test_a_run_nests_the_trainer_configs_it_builds():
    run = runs.run_class("03_beta_gamma_ablation")(**runs.resolve("03_beta_gamma_ablation", "smoke"))
    assert (run.base.train_size, run.base.n_dis, run.judge.epochs) == (300, 2, 1)
    recorded = dataclasses.asdict(run)
    assert recorded["base"]["warmup_steps"] == 3 and recorded["judge"]["train_size"] == 500


@pytest.mark.parametrize("stem, overrides, message", [
    ("01_nguyen_bm_tables", {"sample_learning_rates": [0.123]}, r"\[0.123\] not among the learning rates"),
    ("02_latent_space", {"step1_epochs": -3}, r"parameter step1_epochs=-3: must be >= 1"),
    ("02_latent_space", {"datasets": "mnist"}, r"parameter datasets='mnist': must be a list of strings"),
    ("02_latent_space", {"datasets": ["mnist", "orbit"]}, r"distinct names from: mnist, fashion_mnist"),
    ("02_latent_space", {"seeds": [0, "1"]}, r"parameter seeds=\[0, '1'\]: must be a list of integers"),
    ("04_vae_vs_gan", {"epochs": 0}, r"parameter epochs=0: must be >= 1"),
    ("04_vae_vs_gan", {"device": "gpu"}, r"parameter device='gpu': allowed: cpu, cuda, cuda:N, mps"),
    ("01_nguyen_bm_tables", {"protocols": ["exact", "adam"]}, r"from: reference, reference_value_derivative"),
    ("03_beta_gamma_ablation", {"betas": [0.0, -0.1]}, r"parameter betas=\[0.0, -0.1\]: must be .* >= 0"),
    ("04_vae_vs_gan", {"models": ["vae", "vqvae"]}, r"models=.*: .*from: vae, gan, zemouri"),
    ("04_vae_vs_gan", {"epoch": 3}, r"unknown parameter\(s\) epoch for 04_vae_vs_gan; its parameters: profile"),
    ("06_cifar10", {"models": ["gan", "zemouri"]}, r"parameter models=\['gan', 'zemouri'\]: must include 'vae'"),
    ("06_cifar10", {"zemouri_steps": 0}, r"parameter zemouri_steps=0: must be >= 1"),
    ("07_beta_thresholds", {"latent_sizes": [100]}, r"parameter latent_sizes=\[100\]: must include 2 \(the beta claims"),
])
def test_a_bad_parameter_is_named_with_its_value_and_what_is_allowed(stem, overrides, message):
    with pytest.raises(ValueError, match=message):
        runs.resolve(stem, "default", overrides)


def test_a_missing_profile_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setattr(runs, "NOTEBOOKS", tmp_path)
    (tmp_path / "00_datasets.ipynb").symlink_to(runs.REPOSITORY_ROOT / "notebooks" / "00_datasets.ipynb")
    with pytest.raises(ValueError, match="profile='paper'.*does not exist"):
        runs.resolve("00_datasets", "paper")


def test_the_command_line_reports_bad_input_without_a_traceback(capsys):
    assert runs.main(["02_latent_space", "-p", "step1_epochs", "-3"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("avalib.runs: parameter step1_epochs=-3") and "Traceback" not in error


def test_a_failed_run_leaves_the_published_folder_as_it_was(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(results.RESULTS_DIR_VARIABLE, str(tmp_path / "published"))
    monkeypatch.setenv("AVALIB_DATA_MIRROR", str(tmp_path / "nonexistent"))
    monkeypatch.setenv("AVALIB_DATA_DIR", str(tmp_path / "raw"))
    folder = tmp_path / "published" / "00_datasets"
    folder.mkdir(parents=True)
    (folder / "splits.md").write_text("committed")
    assert runs.main(["00_datasets", "--profile", "smoke"]) == 1
    assert "left as they were" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["splits.md"]
    assert (folder / "splits.md").read_text() == "committed"


def test_publish_replaces_the_folder_as_a_whole(tmp_path):
    final, staging = tmp_path / "results" / "00", tmp_path / "staging" / "00"
    final.mkdir(parents=True)
    (final / "old.csv").write_text("old")
    staging.mkdir(parents=True)
    (staging / "new.csv").write_text("new")
    runs.publish(staging, final)
    assert [p.name for p in final.iterdir()] == ["new.csv"] and not staging.exists()
    assert sorted(p.name for p in final.parent.iterdir()) == ["00"]


def test_a_bad_scheduler_is_named():
    with pytest.raises(ValueError, match=r"parameter scheduler='threads': allowed: serial, local:N"):
        runs.resolve("03_beta_gamma_ablation", "default", {"scheduler": "threads"})
    assert runs.resolve("03_beta_gamma_ablation", "default", {"scheduler": "local:2"})["scheduler"] == "local:2"


def test_a_profile_given_as_a_parameter_and_unparsable_yaml_are_one_line_errors(capsys):
    assert runs.main(["00_datasets", "-p", "profile", "smoke"]) == 2
    assert runs.main(["02_latent_space", "-p", "seeds", "[0,"]) == 2
    first, second = capsys.readouterr().err.strip().splitlines()
    assert "-p profile: the profile is chosen by --profile" in first
    assert second.startswith("avalib.runs: -p seeds '[0,': not a YAML value")


def test_the_runner_shows_the_kernels_progress_on_its_own_stdout(tmp_path, monkeypatch, capfd, mirror_dir):
    """A kernel has no terminal: its progress lines reach the runner through a file; the kernel's
    own TCP warning does not reach the terminal."""
    monkeypatch.delenv("AVALIB_QUIET", raising=False)
    monkeypatch.setenv(results.RESULTS_DIR_VARIABLE, str(tmp_path / "published"))
    overrides = ["-p", "protocols", "[paper]", "-p", "seeds", "[0]", "-p", "learning_rates", "[0.1]",
                 "-p", "sample_learning_rates", "[0.1]", "-p", "image_count", "2"]
    assert runs.main(["01_nguyen_bm_tables", "--profile", "smoke", *overrides]) == 0
    out, err = capfd.readouterr()
    assert "without encryption" not in out + err
    assert "models x protocols: 1/7 done" in out and "min elapsed" in out and "min left" in out
    assert "cached: train_variant" in out
    executed = (tmp_path / "published" / "01_nguyen_bm_tables" / "01_nguyen_bm_tables.ipynb").read_text()
    assert "models x protocols" not in executed                # never in the published notebook


def test_published_notebooks_name_paths_relative_to_the_repository(tmp_path):
    root = tmp_path / "repo"
    text = f'"input_path": "{root}/notebooks/01.ipynb", mirror {tmp_path}/shared/datasets, cwd {root}'
    assert runs.relative_paths(text, root) == \
        '"input_path": "notebooks/01.ipynb", mirror ../shared/datasets, cwd .'
