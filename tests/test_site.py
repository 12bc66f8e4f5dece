"""The study's site (``make site``): built offline from the committed results without running a
cell, every internal link of its pages resolving, and, in a real browser (headless Chromium), the
front page and the notebooks rendered with every figure their executed copies hold."""

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from avalib import site

RESULTS = site.REPOSITORY_ROOT / "results"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Page(HTMLParser):
    """The links and images of one HTML page."""

    def __init__(self):
        super().__init__()
        self.links, self.images = [], []

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag == "img" and attributes.get("src"):
            self.images.append(attributes["src"])


def parsed(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def broken(page_path: Path, page: Page) -> list[str]:
    """The page's internal links and images that name no file of the site."""
    missing = []
    for target in page.links + page.images:
        address = urlparse(target)
        if address.scheme or address.netloc or not address.path:     # external, or an anchor
            continue
        if not (page_path.parent / unquote(address.path)).exists():
            missing.append(target)
    return missing


def figures_in(notebook: Path) -> int:
    cells = json.loads(notebook.read_text())["cells"]
    return sum("image/png" in output.get("data", {}) for cell in cells for output in cell.get("outputs", []))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    site.build(RESULTS, output=folder / "site", source=folder / "source")
    return folder / "site"


def test_the_site_has_the_front_page_and_every_notebook_and_no_broken_link(built):
    assert 'url=results/README.html' in (built / "index.html").read_text()
    pages = [built / "results" / "README.html"] + [
        built / "results" / nb.parent.name / f"{nb.stem}.html" for nb in site.notebooks(RESULTS)]
    assert len(pages) == 1 + len(site.notebooks(RESULTS)) >= 2
    for page_path in pages:
        assert page_path.exists(), page_path
        assert broken(page_path, parsed(page_path.read_text())) == [], page_path.name


def test_the_results_folder_is_left_as_it_was(built):
    assert "toctree" not in (RESULTS / "README.md").read_text()


def _browser(*arguments: str) -> str:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium): "
                                             "the site's browser test is skipped")
def test_a_browser_shows_the_front_page_and_each_notebook_with_its_figures(built, tmp_path):
    front = built / "results" / "README.html"
    dom = parsed(_browser("--dump-dom", front.as_uri()))
    assert any(link.endswith(".html") for link in dom.links) and broken(front, dom) == []
    shot = tmp_path / "front_page.png"
    _browser(f"--screenshot={shot}", "--window-size=1280,1600", front.as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    for notebook in site.notebooks(RESULTS):
        page_path = built / "results" / notebook.parent.name / f"{notebook.stem}.html"
        dom = parsed(_browser("--dump-dom", page_path.as_uri()))
        shown = [src for src in dom.images if "_static" not in src]
        assert len(shown) >= figures_in(notebook), notebook.stem
        assert broken(page_path, dom) == [], notebook.stem


# Measures, in the loaded page, where the headline figure and the findings' list items lie.
FIRST_SCREEN_PROBE = """<script>
window.addEventListener("load", () => {
  const figure = document.querySelector("img[src*='verdict_matrix']");
  const box = (element) => { const r = element.getBoundingClientRect(); return [r.top, r.bottom, r.left, r.right]; };
  const items = [...document.querySelectorAll("section#findings li")].map((li) => [li.innerText, ...box(li)]);
  document.body.setAttribute("data-first-screen", JSON.stringify({
    figure: figure ? [...box(figure), figure.naturalWidth] : null, items: items,
    width: window.innerWidth, height: window.innerHeight}));
});
</script>"""
WINDOW = (1280, 800)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium): "
                                             "the first-screen test is skipped")
def test_the_first_screen_shows_the_headline_figure_and_the_findings(built):
    """At 1280 x 800, the front page's first screen holds the whole headline figure, loaded, and
    whole findings sentences, whose text is the generated findings'. The screenshot is kept in
    ``build/first_screen.png``."""
    from avalib import answers, findings

    page = built / "results" / "README.html"
    probe = page.with_name("first_screen_probe.html")
    probe.write_text(page.read_text().replace("</body>", FIRST_SCREEN_PROBE + "</body>"))
    size = f"--window-size={WINDOW[0]},{WINDOW[1]}"
    dom = _browser("--dump-dom", "--virtual-time-budget=5000", size, probe.as_uri())
    found = json.loads(unquote(dom.split('data-first-screen="', 1)[1].split('"', 1)[0].replace("&quot;", '"')))
    fold = found["height"]                 # the viewport of a 1280 x 800 window, less its frame
    assert found["width"] == WINDOW[0] and fold <= WINDOW[1]
    top, bottom, left, right, natural = found["figure"]
    assert natural > 0 and 0 <= top and bottom <= fold and right <= WINDOW[0], (found["figure"], fold)
    shown = [" ".join(text.split()) for text, top, bottom, *_ in found["items"] if bottom <= fold]
    said = [" ".join(s.replace('"', "\u201c", 1).split()) for part in
            answers.findings(RESULTS, findings.records(RESULTS)).values() for s in part]
    assert len(shown) >= 2 and all(any(_plain(s) == _plain(t) for t in said) for s in shown), shown
    shot = site.REPOSITORY_ROOT / "build" / "first_screen.png"
    shot.parent.mkdir(exist_ok=True)
    _browser(f"--screenshot={shot}", size, page.as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _plain(text: str) -> str:
    """A sentence without its quotation marks and Markdown emphasis, as words to compare."""
    return "".join(c for c in text if c.isalnum())
