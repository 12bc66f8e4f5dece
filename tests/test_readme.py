"""README.md speaks of the study with numbers from the committed results only: its generated part
is what the results give now, and every decimal number elsewhere in it is found in a file under
``results/``."""

import re
from pathlib import Path

from avalib import front_page

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "results"
DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d+(?![\w.])")       # 0.02, 193.8; not 2.13.0 or v1.2a


def prose(text: str) -> str:
    """README.md without its generated part, its code blocks and its inline code."""
    start, end = text.index(front_page.README_START), text.index(front_page.README_END)
    text = text[:start] + text[end:]
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.sub(r"`[^`]*`", "", text)


def test_the_generated_part_is_what_the_committed_results_give():
    text = README.read_text()
    start = text.index(front_page.README_START)
    end = text.index(front_page.README_END) + len(front_page.README_END)
    assert text[start:end] == front_page.readme_block(RESULTS), "run `python -m avalib.front_page`"


def test_every_number_in_the_prose_is_in_a_results_file():
    corpus = "\n".join(path.read_text(errors="ignore") for path in RESULTS.rglob("*")
                       if path.is_file() and path.suffix in (".csv", ".md", ".json", ".ipynb"))
    missing = sorted({n for n in DECIMAL.findall(prose(README.read_text())) if n not in corpus})
    assert missing == [], f"README.md numbers found in no file under results/: {missing}"


def test_the_readme_speaks_of_the_study_not_of_its_history():
    text = README.read_text().lower()
    for phrase in ("issue", "earlier page", "before #", "no gpu was lent", "between two vms", "scale-out"):
        assert phrase not in text, phrase
