"""The expected smoke notebooks that `make test` runs under nbval are the source notebooks: same
code, same tags, only the smoke parameters injected. After editing a notebook, `make expected`."""

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks").glob("*.ipynb"))


def code_cells(path: Path) -> list[tuple[str, list[str]]]:
    cells = json.loads(path.read_text())["cells"]
    return [("".join(c["source"]), sorted(c.get("metadata", {}).get("tags", [])))
            for c in cells if c["cell_type"] == "code"
            and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_expected_notebook_matches_its_source(source):
    expected = ROOT / "tests" / "expected" / source.name
    assert expected.exists(), f"{expected} is missing: run `make expected`"
    assert code_cells(expected) == code_cells(source), f"{source.name} changed: run `make expected`"
    checked = [tags for _, tags in code_cells(source) if "nbval-check-output" in tags]
    assert checked, f"{source.name} has no cell whose output nbval compares"


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_source_notebooks_are_committed_without_outputs(source):
    cells = json.loads(source.read_text())["cells"]
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")


def declared_parameters(path: Path) -> set[str]:
    """The names the notebook's ``parameters`` cell assigns."""
    cell = next(c for c in json.loads(path.read_text())["cells"]
                if "parameters" in c.get("metadata", {}).get("tags", []))
    return {line.split("=")[0].strip() for line in "".join(cell["source"]).splitlines()
            if "=" in line and not line.startswith((" ", "#"))}


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_every_notebook_has_a_smoke_profile_naming_only_its_parameters(source):
    profile = ROOT / "notebooks" / "profiles" / "smoke" / f"{source.stem}.yaml"
    assert profile.exists(), f"{profile} is missing"
    values = yaml.safe_load(profile.read_text())
    assert values["profile"] == "smoke"
    declared = declared_parameters(source)
    assert "profile" in declared
    assert set(values) <= declared, f"{profile.name} names unknown parameters {set(values) - declared}"
