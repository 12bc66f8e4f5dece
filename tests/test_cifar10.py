"""CIFAR-10: the offline PNG copy decoded to the published figures of the canonical data, and end
to end on a synthetic archive in the CIFAR python layout (no registry ships the real file): the
manifest's verification and the archive reader; and notebook 06 end to end on the offline copy."""

import hashlib
import io
import pickle
import tarfile

import numpy as np
import pytest
import torch

from avalib import data, download, runs


def _archive(path, per_batch=8):
    generator = np.random.default_rng(0)

    def member(archive, name, payload):
        raw = pickle.dumps(payload)
        info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
        info.size = len(raw)
        archive.addfile(info, io.BytesIO(raw))
    with tarfile.open(path, "w:gz") as archive:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            member(archive, name, {b"data": generator.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                                   b"labels": list(generator.integers(0, 10, per_batch))})
        member(archive, "batches.meta", {b"label_names": [f"class{i}".encode() for i in range(10)]})


@pytest.fixture
def synthetic_cifar(tmp_path, monkeypatch, mirror_dir):
    """A mirror holding a synthetic cifar-10-python.tar.gz and a manifest that names its sha256."""
    mirror = tmp_path / "mirror"
    (mirror / "cifar10").mkdir(parents=True)
    archive = mirror / "cifar10" / "cifar-10-python.tar.gz"
    _archive(archive)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    lines = download.MANIFEST_PATH.read_text().splitlines()
    rows = [line if not line.startswith("cifar10-python\t") else "\t".join(
        ["cifar10-python", "cifar10/cifar-10-python.tar.gz", str(archive.stat().st_size), digest,
         "synthetic", "synthetic", "test"]) for line in lines]
    manifest = tmp_path / "MANIFEST.tsv"
    manifest.write_text("\n".join(rows) + "\n")
    for entry in download.read_manifest(download.MANIFEST_PATH):     # the other datasets: real
        if entry.dataset not in ("cifar10-python", "cifar10"):          # online: the archive only
            target = mirror / entry.file
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.symlink_to(mirror_dir / entry.file)
    monkeypatch.setenv(download.MANIFEST_VARIABLE, str(manifest))
    monkeypatch.setenv(download.MIRROR_VARIABLE, str(mirror))
    monkeypatch.setenv(download.RAW_DIR_VARIABLE, str(tmp_path / "raw"))
    data._load_cached.cache_clear()
    yield archive
    data._load_cached.cache_clear()


def test_the_offline_copy_decodes_to_the_published_figures(mirror_dir, monkeypatch, tmp_path):
    """Channel means and SDs over the 50,000 training images (pixels / 255), class counts, the first
    labels and the first pixel, as ../shared/README.md lists them: a wrong channel order or row
    layout fails."""
    if not (mirror_dir / "cifar10" / "test_batch.png").exists():
        pytest.skip("the mirror holds no CIFAR-10 copy")
    data._load_cached.cache_clear()
    train, test = data.load_dataset("cifar10", "train"), data.load_dataset("cifar10", "test")
    assert train.images.shape == (50_000, 3, 32, 32) and test.images.shape == (10_000, 3, 32, 32)
    assert train.images.mean((0, 2, 3)).tolist() == pytest.approx([0.4914, 0.4822, 0.4465], abs=5e-5)
    assert train.images.std((0, 2, 3)).tolist() == pytest.approx([0.2470, 0.2435, 0.2616], abs=5e-5)
    assert train.labels.bincount().tolist() == [5000] * 10 and test.labels.bincount().tolist() == [1000] * 10
    assert train.labels[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert test.labels[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert (train.images[0, :, 0, 0] * 255).round().tolist() == [59, 62, 63]
    assert train.class_names[0] == "airplane" and train.class_names[9] == "truck"
    data._load_cached.cache_clear()


def test_the_loader_reads_a_verified_archive(synthetic_cifar):
    train, test = data.load_dataset("cifar10", "train"), data.load_dataset("cifar10", "test")
    assert train.images.shape == (40, 3, 32, 32) and test.images.shape == (8, 3, 32, 32)
    assert train.class_names[3] == "class3" and 0 <= float(train.images.min()) <= float(train.images.max()) <= 1


def test_a_tampered_archive_is_rejected(synthetic_cifar):
    synthetic_cifar.write_bytes(synthetic_cifar.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(download.ChecksumMismatchError):
        data.load_dataset("cifar10", "train")


def test_notebook_06_runs_section_4_5_and_the_survey_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("AVALIB_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("AVALIB_CACHE_DIR", str(tmp_path / "cache"))
    assert runs.main(["06_cifar10", "--profile", "smoke", "-p", "models", "[vae, gan]"]) == 0
    folder = tmp_path / "results" / "06_cifar10"
    assert (folder / "cifar10_reconstructions.png").exists() and (folder / "samples_cifar10.png").exists()
    import pandas as pd
    metrics = pd.read_csv(folder / "cifar10_metrics.csv")
    assert sorted(set(metrics.model)) == ["plain_vae", "zemouri"] and sorted(set(metrics.seed)) == [0, 1]
    summary = pd.read_csv(folder / "cifar10_summary.csv", index_col="metric")
    assert (summary.seeds == 2).all() and summary.judge_test_accuracy.between(0, 1).all()
    surveys = pd.read_csv(folder / "runs.csv")
    assert sorted(set(surveys.model)) == ["GAN", "VAE"] and set(surveys.dataset) == {"cifar10"}
    inception = pd.read_csv(folder / "inception_score_vs_paper.csv")
    assert set(inception.dataset) == {"CIFAR-10"}          # the paper's Table 3 where measured here
    claims = pd.read_csv(folder / "claims.csv")
    assert set(claims.evidence.str.split("/").str[0]) == {"06_cifar10"}
    assert set(claims.paper) == {"Kapoor et al. (GANs and VAEs study)", "Aymen (2023)"}
