"""The study as a static HTML book (``make site``): the front page ``results/README.md`` and every
executed notebook ``results/<stem>/<stem>.ipynb``, as committed, rendered by Sphinx with MyST-NB
(no cell is run) in the book theme (``site/conf.py``), into ``build/site/``. The sources are
copied into ``build/site-source/`` first, the front page with a hidden table of contents of the
notebooks appended and the code files it links to beside it, so that nothing under ``results/``
changes. ``build/site/index.html`` opens the front page.

    python -m avalib.site            # or: make site
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from avalib.atomic import write_text
from avalib.download import REPOSITORY_ROOT

SOURCE = REPOSITORY_ROOT / "build" / "site-source"
OUTPUT = REPOSITORY_ROOT / "build" / "site"
CONFIG = REPOSITORY_ROOT / "site"


def notebooks(results: Path) -> list[Path]:
    """The executed notebooks of the results folder, in notebook order."""
    return sorted(path for path in results.glob("*/*.ipynb") if path.stem == path.parent.name)


def prepare(results: Path | None = None, source: Path = SOURCE) -> Path:
    """Copy the front page, the notebooks' folders and the ``avalib`` sources the page links to
    into ``source``; the copied front page gets the table of contents."""
    results = results or REPOSITORY_ROOT / "results"
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(results, source / "results")
    shutil.copytree(REPOSITORY_ROOT / "avalib", source / "avalib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    page = source / "results" / "README.md"
    pages = [f"{path.parent.name}/{path.stem}" for path in notebooks(results)]
    pages += [path.stem for path in sorted(results.glob("*.md")) if path.name != "README.md"]
    entries = "\n".join(pages)
    page.write_text(page.read_text() + f"\n```{{toctree}}\n:hidden:\n:caption: Notebooks\n\n{entries}\n```\n")
    return source


def build(results: Path | None = None, output: Path = OUTPUT, source: Path = SOURCE) -> Path:
    """Build the site into ``output``; warnings fail the build. Returns ``output/index.html``."""
    from sphinx.cmd.build import build_main

    prepare(results, source)
    if output.exists():
        shutil.rmtree(output)
    code = build_main(["-b", "html", "-q", "-W", "--keep-going", "-c", str(CONFIG), str(source), str(output)])
    if code:
        raise SystemExit(f"avalib.site: sphinx-build failed (exit {code}); see the warnings above")
    return write_text(output / "index.html", '<!DOCTYPE html>\n<meta charset="utf-8">\n'
                      '<meta http-equiv="refresh" content="0; url=results/README.html">\n'
                      '<a href="results/README.html">The front page</a>\n')


if __name__ == "__main__":
    if sys.argv[1:]:
        sys.exit("usage: python -m avalib.site")
    print(f"wrote {build()}")
