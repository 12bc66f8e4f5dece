"""The verified fetch: tampered files are rejected and removed, writes are atomic."""

import shutil
import urllib.error
import urllib.request

import pytest

from avalib import download
from avalib.atomic import atomic_path

ORBIT_01 = "orbit/base-100x64/01.png"


@pytest.fixture
def sandbox(tmp_path, monkeypatch, mirror_dir):
    """A private mirror holding one orbit file, and an empty private data/raw."""
    mirror, raw = tmp_path / "mirror", tmp_path / "raw"
    (mirror / "orbit/base-100x64").mkdir(parents=True)
    shutil.copy(mirror_dir / ORBIT_01, mirror / ORBIT_01)
    monkeypatch.setenv(download.MIRROR_VARIABLE, str(mirror))
    monkeypatch.setenv(download.RAW_DIR_VARIABLE, str(raw))
    entry = next(e for e in download.entries_for("orbit") if e.file == ORBIT_01)
    return mirror, raw, entry


def test_verified_copy_from_mirror(sandbox):
    mirror, raw, entry = sandbox
    path = download.fetch_file(entry)
    assert path == raw / ORBIT_01
    assert download.sha256_of(path) == entry.sha256


def test_tampered_mirror_file_is_rejected_and_nothing_is_left(sandbox):
    mirror, raw, entry = sandbox
    data = bytearray((mirror / ORBIT_01).read_bytes())
    data[100] ^= 0xFF                                     # same size, different content
    (mirror / ORBIT_01).write_bytes(bytes(data))
    with pytest.raises(download.ChecksumMismatchError) as error:
        download.fetch_file(entry)
    message = str(error.value)
    assert entry.sha256 in message and download.sha256_of(mirror / ORBIT_01) in message
    assert not any(p.is_file() for p in raw.rglob("*")), "no partial or unverified file in raw"


def test_tampered_local_copy_is_removed_and_fetched_again(sandbox):
    mirror, raw, entry = sandbox
    path = download.fetch_file(entry)
    path.write_bytes(b"corrupted")
    assert download.sha256_of(download.fetch_file(entry)) == entry.sha256


def test_missing_offline_names_url_and_mirror_variable(sandbox, monkeypatch):
    mirror, raw, entry = sandbox
    (mirror / ORBIT_01).unlink()

    def offline(*args, **kwargs):
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(download.DataUnavailableError) as error:
        download.fetch_file(entry)
    assert entry.canonical_url in str(error.value)
    assert download.MIRROR_VARIABLE in str(error.value)
    assert f"{download.MIRROR_VARIABLE}={download.shown(mirror)!r}" in str(error.value)
    assert f"={str(mirror)!r}" not in str(error.value)           # relative to the repository
    assert not (raw / ORBIT_01).exists()


def test_unknown_manifest_dataset_lists_valid_names():
    with pytest.raises(download.UnknownDatasetError, match="valid names: orbit, mnist"):
        download.entries_for("imagenet")


def test_manifest_matches_shared_mirror_manifest(mirror_dir):
    import csv
    shared = {r["file"]: r["sha256"] for r in
              csv.DictReader(open(mirror_dir / "MANIFEST.tsv"), delimiter="\t")}
    ours = {e.file: e.sha256 for e in download.read_manifest()
            if e.dataset not in download.DOWNLOAD_ONLY_DATASETS}
    assert ours == shared


def test_atomic_path_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("crash while writing")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_atomic_files_get_the_umask_mode_not_mkstemps_0600(tmp_path):
    import os
    previous = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "table.csv") as temporary:
            temporary.write_text("x")
        os.umask(0o027)
        with atomic_path(tmp_path / "other.csv") as temporary:
            temporary.write_text("x")
    finally:
        os.umask(previous)
    assert (tmp_path / "table.csv").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "other.csv").stat().st_mode & 0o777 == 0o640


def test_download_exits_non_zero_when_a_needed_dataset_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(download.MIRROR_VARIABLE, str(tmp_path / "nonexistent"))
    monkeypatch.setenv(download.RAW_DIR_VARIABLE, str(tmp_path / "raw"))
    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("offline")))
    assert download.main(["orbit"]) == 1
    assert "orbit: MISSING" in capsys.readouterr().err
    assert download.main(["cifar10"]) == 0                       # optional: a reported skip
    assert "not available, skipped" in capsys.readouterr().err
    assert download.main(["imagenet"]) == 2
    assert "unknown dataset(s) imagenet; allowed: orbit" in capsys.readouterr().err
