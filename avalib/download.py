"""The dataset manifest and verified fetching of its files.

``data/MANIFEST.tsv`` is the single source of truth: one row per file with its size, sha256 and
canonical URL. A file is obtained from the folder named by ``$AVALIB_DATA_MIRROR`` (laid out like
the manifest's paths) when that variable is set, otherwise from its canonical URL. Its size and
sha256 are checked while it is copied into a temporary file, which is renamed into ``data/raw/``
only when both match: no partial or unverified file is ever left there.

Command line: ``python -m avalib.download [DATASET ...]`` fetches the named datasets (all by
default) and reports, without failing, the optional ones that cannot be had (the canonical CIFAR-10
archive offline, the mirror's CIFAR-10 files online without the mirror).
"""

from __future__ import annotations

import csv
import hashlib
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from avalib.atomic import atomic_path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = REPOSITORY_ROOT / "data" / "MANIFEST.tsv"
MANIFEST_VARIABLE = "AVALIB_MANIFEST"      # another manifest (tests: a synthetic CIFAR-10 archive)
MIRROR_VARIABLE = "AVALIB_DATA_MIRROR"
RAW_DIR_VARIABLE = "AVALIB_DATA_DIR"
CHUNK_BYTES = 1 << 20


class DataError(RuntimeError):
    """Base class of every data-layer error; the message says what went wrong and what to do."""


class ChecksumMismatchError(DataError):
    """A file's size or sha256 differs from the manifest."""


class DataUnavailableError(DataError):
    """A file is neither in the mirror nor downloadable (offline, or the URL is gone)."""


class UnknownDatasetError(DataError):
    """A dataset name that the manifest or the loaders do not know."""


@dataclass(frozen=True)
class ManifestEntry:
    """One row of ``data/MANIFEST.tsv``."""

    dataset: str
    file: str
    bytes: int
    sha256: str
    canonical_url: str
    license: str
    source_here: str = ""

    @property
    def downloadable(self) -> bool:
        """Whether ``canonical_url`` is an address to download (a derived file names its origin)."""
        return self.canonical_url.startswith(("http://", "https://"))


def read_manifest(path: Path | None = None) -> list[ManifestEntry]:
    """All rows of the manifest (``$AVALIB_MANIFEST`` or ``data/MANIFEST.tsv``), in file order."""
    path = path or Path(os.environ.get(MANIFEST_VARIABLE) or MANIFEST_PATH)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [
            ManifestEntry(r["dataset"], r["file"], int(r["bytes"]), r["sha256"].lower(),
                          r["canonical_url"], r["license"], r.get("source_here") or "")
            for r in rows
        ]


def manifest_datasets() -> list[str]:
    """Dataset names of the manifest, in first-appearance order."""
    return list(dict.fromkeys(entry.dataset for entry in read_manifest()))


def entries_for(dataset: str) -> list[ManifestEntry]:
    """Manifest rows of one dataset; an unknown name raises ``UnknownDatasetError``."""
    entries = [entry for entry in read_manifest() if entry.dataset == dataset]
    if not entries:
        raise UnknownDatasetError(f"unknown dataset {dataset!r} in {MANIFEST_PATH.name}; "
                       f"valid names: {', '.join(manifest_datasets())}")
    return entries


def raw_dir() -> Path:
    """Where verified files live: ``$AVALIB_DATA_DIR`` or the git-ignored ``data/raw/``."""
    return Path(os.environ.get(RAW_DIR_VARIABLE) or REPOSITORY_ROOT / "data" / "raw")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_and_hash(source, destination: Path, total: int, label: str) -> tuple[int, str]:
    """Stream ``source`` (a binary file object) into ``destination`` with a progress bar."""
    digest, written = hashlib.sha256(), 0
    with open(destination, "wb") as out, tqdm(total=total, unit="B", unit_scale=True, desc=label,
                                              leave=False, disable=total < 4 * CHUNK_BYTES) as bar:
        for chunk in iter(lambda: source.read(CHUNK_BYTES), b""):
            out.write(chunk)
            digest.update(chunk)
            written += len(chunk)
            bar.update(len(chunk))
    return written, digest.hexdigest()


def shown(path: str | Path) -> str:
    """``path`` as messages and results name it: relative to the repository (results never
    carry the build machine's absolute paths)."""
    return os.path.relpath(Path(path).resolve(), REPOSITORY_ROOT)


def _open_source(entry: ManifestEntry):
    """Open the mirror copy if a mirror is named, else the canonical URL."""
    mirror = os.environ.get(MIRROR_VARIABLE)
    if mirror:
        candidate = Path(mirror) / entry.file
        if candidate.is_file():
            return open(candidate, "rb"), str(candidate)
    where = f"{MIRROR_VARIABLE}={shown(mirror)!r} has no {entry.file}" if mirror else \
        f"{MIRROR_VARIABLE} is not set"
    if not entry.downloadable:
        raise DataUnavailableError(
            f"cannot obtain {entry.file}: {where}, and it has no download address (it is "
            f"{entry.canonical_url}; the copy comes from: {entry.source_here}). Set "
            f"{MIRROR_VARIABLE} to a folder holding {entry.file}.")
    try:
        request = urllib.request.Request(entry.canonical_url, headers={"User-Agent": "avalib"})
        return urllib.request.urlopen(request, timeout=30), entry.canonical_url
    except (urllib.error.URLError, OSError) as error:
        raise DataUnavailableError(
            f"cannot obtain {entry.file}: {where}, and downloading {entry.canonical_url} failed "
            f"({error}). Connect to the internet, or set {MIRROR_VARIABLE} to a folder holding "
            f"{entry.file}.") from error


def fetch_file(entry: ManifestEntry) -> Path:
    """Return the verified local path of one manifest file, obtaining it if needed.

    A local file that fails verification is removed and obtained again. A freshly obtained file
    that fails verification is discarded and ``ChecksumMismatchError`` names both hashes.
    """
    target = raw_dir() / entry.file
    if target.is_file():
        if target.stat().st_size == entry.bytes and sha256_of(target) == entry.sha256:
            return target
        print(f"avalib: {target} fails its checksum; removing it and fetching again",
              file=sys.stderr)
        target.unlink()
    source, origin = _open_source(entry)
    with source, atomic_path(target) as temporary:
        written, digest = _copy_and_hash(source, temporary, entry.bytes, Path(entry.file).name)
        if written != entry.bytes or digest != entry.sha256:
            raise ChecksumMismatchError(
                f"{entry.file} from {origin} does not match the manifest and was discarded: "
                f"expected {entry.bytes} bytes, sha256 {entry.sha256}; got {written} bytes, "
                f"sha256 {digest}. Replace the source copy with the canonical file "
                f"({entry.canonical_url}).")
    return target


def fetch(dataset: str) -> list[Path]:
    """Verified local paths of every file of ``dataset`` (a manifest name, e.g. ``"mnist"``)."""
    return [fetch_file(entry) for entry in entries_for(dataset)]


# Datasets a notebook skips, saying so, when their files cannot be had: CIFAR-10 in two forms, the
# files of the offline mirror (derived, with no download address) and the canonical archive (a
# download, not in the mirror); every other dataset of the manifest is needed by some notebook.
OPTIONAL_DATASETS = ("cifar10", "cifar10-python")
# Datasets that only a download provides: the offline mirror holds every other file.
DOWNLOAD_ONLY_DATASETS = ("cifar10-python",)


def main(argv: list[str]) -> int:
    """Fetch and verify ``argv`` (default: every dataset of the manifest). Exit status 0 when
    every needed dataset is here (an optional one may be skipped), 1 when one is missing or
    fails its checksum, 2 for an unknown name; one message per problem, no traceback."""
    names = argv or manifest_datasets()
    unknown = sorted(set(names) - set(manifest_datasets()))
    if unknown:
        print(f"avalib.download: unknown dataset(s) {', '.join(unknown)}; "
              f"allowed: {', '.join(manifest_datasets())}", file=sys.stderr)
        return 2
    missing = []
    for name in names:
        try:
            paths = fetch(name)
            print(f"{name}: {len(paths)} file(s) verified in {raw_dir()}")
        except DataError as error:
            optional = name in OPTIONAL_DATASETS
            print(f"{name}: {'not available, skipped' if optional else 'MISSING'}. {error}",
                  file=sys.stderr)
            if not optional:
                missing.append(name)
    if missing:
        print(f"avalib.download: {len(missing)} dataset(s) the notebooks need could not be had: "
              f"{', '.join(missing)} (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
