"""The website as a reader meets it, in a real (headless) Chromium browser, offline.

The built site (`_build/html`, from the session fixture `built_book` in conftest.py) is
served on a localhost port, and every page of the table of contents is opened with every
request that would leave localhost blocked. For each page: no page errors, no console
errors and no failed requests; every formula typeset by the site's own MathJax (no raw
TeX left in the visible text); every image loaded; on notebook pages, a Colab launch link
to the page's own notebook, a `.ipynb` download that is served, and exercise solutions
folded away. The search page must find "dropout", and chapter 1 must fit a phone-width
screen. Screenshots go to screenshots/ (gitignored) for a human to look at.

Chromium is Debian's `chromium` package, driven by Playwright's Python package (no
browser download); the set-up installs it with apt-get when /usr/bin/chromium is missing.

Run only these tests: `.venv/bin/python -m pytest tests/test_browser.py` (this builds the
book first, or reuses the execution cache). To check an existing build without building
again, point REGBOOK_SITE at its html folder; pages missing from that build are skipped.
"""

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO_PATH = CONFIG["repository"]["url"].rstrip("/").split("github.com/")[1]
BRANCH = CONFIG["repository"].get("branch", "main")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Errors that are known and harmless, each with the reason it is allowed (the key is
# matched literally against the message). Anything else on the console fails the test.
KNOWN_PAGE_ERRORS = {
    "Identifier 'THEBE_JS_URL' has already been declared": (
        "Sphinx 7.4 writes sphinx-thebe 0.3.1's inline config script twice (an asset added "
        "after builder init is registered once with filename None and once with ''); the "
        "second copy re-declares the same constants with the same values and fails, and "
        "thebe itself is not used by this book (no live-code button)."
    ),
}
KNOWN_CONSOLE_ERRORS = {
    "Got invalid theme mode: . Resetting to auto.": (
        "pydata-sphinx-theme reads the light/dark choice from localStorage, which is empty "
        "in a fresh browser; it logs this and falls back to 'auto' (follow the system), "
        "which is the intended default."
    ),
}
# A node is "visible" to a reader only if it is rendered, not visibility:hidden, not
# transparent, and has a height (sphinx-togglebutton hides folded content all three ways).
VISIBLE_JS = """const visible = el => el.checkVisibility({visibilityProperty: true,
  opacityProperty: true}) && el.getBoundingClientRect().height > 0;"""


def _toc_pages() -> list[str]:
    """Every document of _toc.yml (without suffix), root first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                pages.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return pages


PAGES = _toc_pages()
NOTEBOOK_PAGES = [p for p in PAGES if p.startswith("notebooks/")]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def site(request) -> Path:
    """The built website: REGBOOK_SITE if set (development), else the shared full build."""
    if os.environ.get("REGBOOK_SITE"):
        html = Path(os.environ["REGBOOK_SITE"]).resolve()
    else:
        _, html = request.getfixturevalue("built_book")
    if not (html / "index.html").exists():
        pytest.fail(f"the book was not built ({html}/index.html is missing): see the build test")
    return html


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium, installed with apt-get when missing (needs root and the registry)."""
    if not Path(CHROMIUM).exists():
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            pytest.fail(
                f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get): "
                "run `apt-get install -y chromium` (Debian/Ubuntu) first"
            )
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
            out = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if out.returncode != 0:
                pytest.fail(
                    f"installing Chromium failed: `{' '.join(cmd)}` exited {out.returncode}\n"
                    + (out.stdout + out.stderr)[-2000:]
                )
        if not Path(CHROMIUM).exists():
            pytest.fail(f"`apt-get install chromium` did not provide {CHROMIUM}")
    return CHROMIUM


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002  (the base class's signature)
        pass


@pytest.fixture(scope="session")
def server(site):
    """Serve the site on a free localhost port from a background thread; yields its URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright  # in requirements.txt

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about"):
        return True
    return parsed.hostname in ("127.0.0.1", "localhost")


class Visit:
    """One page opened in its own browser context, with everything that went wrong."""

    def __init__(self, browser, url: str, viewport: dict, scale: float = 1):
        self.url = url
        self.blocked: list[str] = []  # requests that tried to leave localhost
        self.failed: list[str] = []  # local requests that failed or answered >= 400
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.context = browser.new_context(viewport=viewport, device_scale_factor=scale)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", self._page_error)
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", self._response)
        self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        # MathJax typesets after `load`: wait for its startup promise where it is present.
        self.page.evaluate(
            "() => (window.MathJax && MathJax.startup && MathJax.startup.promise)"
            " ? MathJax.startup.promise.then(() => true) : false"
        )
        self.page.wait_for_load_state("networkidle")

    def _route(self, route):
        if _is_local(route.request.url):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort("blockedbyclient")

    def _page_error(self, exc):
        if str(exc) not in KNOWN_PAGE_ERRORS:
            self.page_errors.append(str(exc))

    def _console(self, msg):
        if msg.type != "error":
            return
        text = msg.text
        if text in KNOWN_CONSOLE_ERRORS or text in KNOWN_PAGE_ERRORS:
            return
        # A blocked external request is reported through `blocked`, not a second time here.
        if "ERR_BLOCKED_BY_CLIENT" in text:
            return
        self.console_errors.append(f"{text} ({msg.location.get('url', '')})")

    def _request_failed(self, request):
        if _is_local(request.url):
            self.failed.append(f"{request.url}: {request.failure}")

    def _response(self, response):
        if _is_local(response.url) and response.status >= 400:
            self.failed.append(f"{response.url}: HTTP {response.status}")

    def close(self):
        self.context.close()


@pytest.fixture(scope="session")
def visit(browser, server, site):
    """visit(page) opens a toc page (cached: one visit per page per session)."""
    cache: dict[str, Visit] = {}

    def _visit(doc: str) -> Visit:
        if doc not in cache:
            if not (site / f"{doc}.html").exists():
                if os.environ.get("REGBOOK_SITE"):
                    pytest.skip(f"{doc} is not in the build at REGBOOK_SITE")
                pytest.fail(f"{doc} is in _toc.yml but {doc}.html was not built")
            cache[doc] = Visit(browser, urljoin(server, f"{doc}.html"), DESKTOP)
        return cache[doc]

    yield _visit
    for v in cache.values():
        v.close()


# ------------------------------------------------------------------- every page


def test_every_built_page_is_in_the_toc(site):
    """The checks below open the toc's pages: make sure that is every page of the site."""
    built = {
        p.relative_to(site).with_suffix("").as_posix()
        for p in site.rglob("*.html")
        if not p.relative_to(site).parts[0].startswith("_")
    }
    built -= {"index", "genindex", "search", "py-modindex"}  # index: redirect, tested below
    assert built <= set(PAGES), f"pages built but not checked: {sorted(built - set(PAGES))}"


def test_site_root_redirects_to_the_landing_page(browser, server):
    v = Visit(browser, server, DESKTOP)
    try:
        assert v.page.url == urljoin(server, f"{PAGES[0]}.html"), v.page.url
        assert not v.blocked and not v.failed and not v.page_errors and not v.console_errors
    finally:
        v.close()


@pytest.mark.parametrize("doc", PAGES)
def test_page_loads_offline_without_errors(visit, doc):
    v = visit(doc)
    assert not v.blocked, f"{doc} tried to leave localhost (blocked): {v.blocked}"
    assert not v.failed, f"{doc}: local requests failed: {v.failed}"
    assert not v.page_errors, f"{doc}: JavaScript errors: {v.page_errors}"
    assert not v.console_errors, f"{doc}: console errors: {v.console_errors}"


# Raw TeX a reader should never see outside code: $$, a control word (\frac, \begin, ...)
# or a math delimiter \( \) \[ \].
RAW_TEX = re.compile(r"\$\$|\\[a-zA-Z]{2,}|\\[()\[\]]")

MATH_REPORT_JS = """() => { VISIBLE
  const maths = [...document.querySelectorAll('.math')];
  const untypeset = maths.filter(m => !m.querySelector('mjx-container'))
                         .map(m => m.textContent.trim().slice(0, 80));
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const skip = 'pre, code, script, style, mjx-container, textarea, .highlight';
  const texts = [];
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || el.closest(skip) || !visible(el)) continue;
    texts.push(node.textContent);
  }
  return {n_math: maths.length, n_typeset: document.querySelectorAll('mjx-container').length,
          untypeset: untypeset, mathjax: !!window.MathJax, text: texts.join(' ')};
}""".replace("VISIBLE", VISIBLE_JS)


@pytest.mark.parametrize("doc", PAGES)
def test_maths_is_typeset(visit, doc):
    v = visit(doc)
    report = v.page.evaluate(MATH_REPORT_JS)
    if report["n_math"]:
        assert report["mathjax"], f"{doc} has formulas but loads no MathJax"
        assert not report["untypeset"], f"{doc}: formulas left untypeset: {report['untypeset']}"
    raw = sorted({m.group(0) for m in RAW_TEX.finditer(report["text"])})
    assert not raw, f"{doc}: raw TeX in the visible text: {raw}"


IMAGES_JS = """async () => {
  const imgs = [...document.images];
  for (const img of imgs) img.loading = 'eager';
  await Promise.all(imgs.map(img => img.decode().catch(() => null)));
  return imgs.map(img => ({src: img.currentSrc || img.src, width: img.naturalWidth}));
}"""


@pytest.mark.parametrize("doc", PAGES)
def test_every_image_loads(visit, doc):
    v = visit(doc)
    images = v.page.evaluate(IMAGES_JS)
    broken = [img["src"] for img in images if img["width"] == 0]
    assert not broken, f"{doc}: images that did not load: {broken}"


# -------------------------------------------------------------- notebook pages


@pytest.mark.parametrize("doc", NOTEBOOK_PAGES)
def test_notebook_page_launches_its_own_notebook_in_colab(visit, doc):
    v = visit(doc)
    expected = f"https://colab.research.google.com/github/{REPO_PATH}/blob/{BRANCH}/{doc}.ipynb"
    assert (ROOT / f"{doc}.ipynb").exists(), f"the Colab link's target {doc}.ipynb is missing"
    launch = v.page.eval_on_selector_all(
        ".dropdown-launch-buttons a[href*='colab.research.google.com']",
        "els => els.map(e => e.href)",
    )
    assert launch == [expected], f"{doc}: launch button {launch}, expected [{expected}]"
    in_text = v.page.eval_on_selector_all(
        "main a[href*='colab.research.google.com']", "els => els.map(e => e.href)"
    )
    assert expected in in_text, f"{doc}: the 'Open in Colab' link in the text is {in_text}"
    assert set(in_text) == {expected}, f"{doc}: Colab links to other notebooks: {in_text}"


@pytest.mark.parametrize("doc", NOTEBOOK_PAGES)
def test_notebook_page_offers_its_ipynb_for_download(visit, doc):
    v = visit(doc)
    hrefs = v.page.eval_on_selector_all(
        ".dropdown-download-buttons a[href$='.ipynb']", "els => els.map(e => e.href)"
    )
    assert len(hrefs) == 1, f"{doc}: expected one .ipynb download link, found {hrefs}"
    assert hrefs[0].endswith(f"/{doc}.ipynb"), hrefs[0]
    response = v.page.request.get(hrefs[0])
    assert response.status == 200, f"{hrefs[0]}: HTTP {response.status}"
    nb = json.loads(response.body())
    assert nb["nbformat"] == 4 and nb["cells"], f"{hrefs[0]} is not a notebook"
    source = json.loads((ROOT / f"{doc}.ipynb").read_text())
    assert len(nb["cells"]) == len(source["cells"]), "the download is this chapter's notebook"


SOLUTIONS_JS = """() => { VISIBLE
  return [...document.querySelectorAll('.solution')].map(sol => {
  const body = [...sol.children].filter(c => !c.classList.contains('admonition-title')
                                             && !c.matches('button.toggle-button'));
  const title = sol.querySelector('.admonition-title');
  return {id: sol.id, title_visible: !!title && visible(title),
          body_visible: body.filter(visible).length, body: body.length};
})}""".replace("VISIBLE", VISIBLE_JS)


@pytest.mark.parametrize("doc", NOTEBOOK_PAGES)
def test_exercise_solutions_are_collapsed(visit, doc):
    v = visit(doc)
    solutions = v.page.evaluate(SOLUTIONS_JS)
    n_exercises = v.page.locator(".exercise").count()
    if n_exercises:
        assert solutions, f"{doc} has exercises but no solution blocks"
    for sol in solutions:
        assert sol["title_visible"], f"{doc}: solution {sol['id']} has no visible title"
        assert sol["body"] > 0, f"{doc}: solution {sol['id']} is empty"
        assert sol["body_visible"] == 0, f"{doc}: solution {sol['id']} is open on load"


def test_a_solution_opens_when_clicked(browser, server, site):
    doc = "notebooks/01_overfitting-and-generalization"
    v = Visit(browser, urljoin(server, f"{doc}.html"), DESKTOP)
    try:
        sol = v.page.locator(".solution").first
        sol.locator("button.toggle-button").first.click(timeout=5_000)
        v.page.wait_for_timeout(500)  # the toggle animates
        opened = v.page.evaluate(SOLUTIONS_JS)[0]
        assert opened["body_visible"] > 0, "clicking a solution's title does not open it"
    finally:
        v.close()


# ------------------------------------------------------------------ site-wide


def test_search_finds_dropout(browser, server, site):
    v = Visit(browser, urljoin(server, "search.html?q=dropout"), DESKTOP)
    try:
        v.page.wait_for_selector("#search-results ul.search li", timeout=30_000)
        results = v.page.eval_on_selector_all(
            "#search-results ul.search li a", "els => els.map(e => e.getAttribute('href'))"
        )
        assert results, "searching for 'dropout' lists nothing"
        if (site / "notebooks" / "05_dropout.html").exists():
            assert any("05_dropout" in r for r in results), results
        assert not v.blocked and not v.page_errors and not v.console_errors, (
            v.blocked,
            v.page_errors,
            v.console_errors,
        )
        SCREENSHOTS.mkdir(exist_ok=True)
        v.page.screenshot(path=str(SCREENSHOTS / "search-dropout.png"))
    finally:
        v.close()


def test_chapter_one_fits_a_phone_screen(browser, server, site):
    """At 390 px the page does not scroll sideways and every figure fits the viewport."""
    doc = "notebooks/01_overfitting-and-generalization"
    v = Visit(browser, urljoin(server, f"{doc}.html"), PHONE, scale=2)  # a phone's pixels
    try:
        report = v.page.evaluate(
            """() => {
              const w = document.documentElement.clientWidth;
              const figs = [...document.querySelectorAll("article.bd-article img")]
                .filter(img => img.checkVisibility())
                .map(img => { const r = img.getBoundingClientRect();
                              return {src: img.src, left: r.left, right: r.right,
                                      natural: img.naturalWidth}; });
              return {viewport: w, scroll: document.documentElement.scrollWidth, figs};
            }"""
        )
        assert report["scroll"] <= report["viewport"], (
            f"the page scrolls sideways at {PHONE['width']} px (content {report['scroll']} px wide)"
        )
        assert len(report["figs"]) >= 4, "chapter 1's figures are on the page"
        for fig in report["figs"]:
            assert fig["left"] >= 0 and fig["right"] <= report["viewport"] + 0.5, fig
        wide = [f for f in report["figs"] if f["natural"] > report["viewport"]]
        assert wide, "no figure is wider than a phone: nothing was scaled down to test"
        SCREENSHOTS.mkdir(exist_ok=True)
        v.page.screenshot(path=str(SCREENSHOTS / "chapter01-phone-top.png"))
        v.page.locator("article.bd-article img").first.scroll_into_view_if_needed()
        v.page.screenshot(path=str(SCREENSHOTS / "chapter01-phone-figure.png"))
    finally:
        v.close()


def test_screenshots_of_the_landing_page_and_a_chapter(visit):
    """Screenshots for a human to look at (screenshots/ is gitignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    landing = visit(PAGES[0])
    landing.page.screenshot(path=str(SCREENSHOTS / "landing.png"))
    landing.page.screenshot(path=str(SCREENSHOTS / "landing-full.png"), full_page=True)
    chapter = visit("notebooks/01_overfitting-and-generalization")
    chapter.page.screenshot(path=str(SCREENSHOTS / "chapter01-top.png"))
    chapter.page.locator("article.bd-article img").first.scroll_into_view_if_needed()
    chapter.page.screenshot(path=str(SCREENSHOTS / "chapter01-figure.png"))
    chapter.page.locator(".math").nth(3).scroll_into_view_if_needed()
    chapter.page.screenshot(path=str(SCREENSHOTS / "chapter01-maths.png"))
    chapter.page.locator(".exercise").first.scroll_into_view_if_needed()
    chapter.page.screenshot(path=str(SCREENSHOTS / "chapter01-exercises.png"))
    for name in ("landing.png", "chapter01-top.png", "chapter01-figure.png"):
        assert (SCREENSHOTS / name).stat().st_size > 10_000, f"{name} looks empty"
