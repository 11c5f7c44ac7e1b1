"""A headless browser opens the built site: pages load, figures show, internal links resolve."""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import re

import pytest

from test_notebooks import toc_files

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("OSL_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _browser_or_skip():
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    msg = (f"No Chromium at {CHROMIUM}: install Debian's package (`apt-get install chromium`) "
           "or set OSL_CHROMIUM to a Chromium binary.")
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(built_book):
    assert built_book.returncode == 0, "the book did not build"
    handler = functools.partial(_QuietHandler, directory=str(built_book.html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", built_book.html
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    exe = _browser_or_skip()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(site, browser):
    # A desktop reader's window; the site must work offline: every request that leaves the
    # local server is refused and recorded (the tests fail on any).
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    outside: list[str] = []

    def route(r):
        if r.request.url.startswith(site[0]) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()
    ctx.route("**/*", route)
    pg = ctx.new_page()
    pg.outside = outside
    yield pg
    ctx.close()


# Rendered text that still contains TeX: delimiters or a control word with an argument.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\(?:frac|log|sigma|hat|mathrm|text|begin|end|sum|top|cdot)\b")

# Everything a reader sees in the article, without code (code may contain backslashes).
ARTICLE_TEXT = """() => {
  const a = document.querySelector('article') || document.body;
  const c = a.cloneNode(true);
  c.querySelectorAll('pre, code, script, style, mjx-container, .MathJax').forEach(e => e.remove());
  return c.innerText;
}"""

WAIT_FOR_MATH = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  return document.querySelectorAll('mjx-container').length;
}"""

LAYOUT = """() => {
  const art = document.querySelector('article') || document.body;
  const width = art.getBoundingClientRect().width;
  const scrolls = el => {
    for (let e = el; e && e !== art.parentElement; e = e.parentElement) {
      const o = getComputedStyle(e).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  };
  const tables = [...art.querySelectorAll('table')].map(t => ({
    id: t.id || t.className, shown: t.getBoundingClientRect().width, inner: t.scrollWidth,
    box: t.clientWidth, scrolls: scrolls(t)}));
  const imgs = [...art.querySelectorAll('img')].map(i => ({
    src: i.getAttribute('src'), natural: i.naturalWidth, shown: i.getBoundingClientRect().width,
    linked: !!i.closest('a')}));
  return {page: document.documentElement.scrollWidth, window: window.innerWidth, width,
          tables, imgs};
}"""


PAGES = toc_files()


@pytest.mark.parametrize("doc", PAGES)
def test_page_loads_with_figures_and_working_links(site, page, doc):
    base, html_dir = site
    url = urljoin(base, f"{doc}.html")
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200
    assert page.title()
    sizes = page.eval_on_selector_all(
        "article img", "els => els.map(e => [e.naturalWidth, e.getBoundingClientRect().width])")
    if doc.startswith("notebooks/"):
        assert sizes, f"{doc}: no figures rendered ({len(page.content())} characters of HTML)"
    for natural, shown in sizes:
        assert natural > 0 and shown > 0, f"{doc}: an image failed to load"
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    for href in set(hrefs):
        parsed = urlparse(href)
        if not href.startswith(base):
            continue
        target = html_dir / parsed.path.lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        assert target.exists(), f"{doc}: broken link {href}"
        if parsed.fragment and target.suffix == ".html":
            text = target.read_text()
            assert f'id="{parsed.fragment}"' in text, f"{doc}: missing anchor {href}"


@pytest.mark.parametrize("doc", PAGES)
def test_page_reads_well_offline(site, page, doc):
    """Every formula renders, nothing is requested outside the site, no unresolved reference,
    no horizontal overflow, wide tables scroll in their box, shrunk figures link to full size."""
    base, html_dir = site
    page.outside.clear()
    page.goto(urljoin(base, f"{doc}.html"), wait_until="load")
    n_math = page.evaluate(WAIT_FOR_MATH)
    source = (html_dir / f"{doc}.html").read_text()
    if 'class="math' in source:
        assert n_math > 0, f"{doc}: the page has math but MathJax rendered none"
    text = page.evaluate(ARTICLE_TEXT)
    raw = RAW_TEX.findall(text)
    assert not raw, f"{doc}: raw TeX in the rendered text: {raw[:5]}"
    assert "??" not in text, f"{doc}: an unresolved reference ('??')"
    assert not page.outside, f"{doc}: requests left the site: {page.outside[:3]}"
    lay = page.evaluate(LAYOUT)
    assert lay["page"] <= lay["window"] + 1, (
        f"{doc}: the page overflows sideways ({lay['page']} px in a {lay['window']} px window)")
    for t in lay["tables"]:
        assert t["shown"] <= lay["width"] + 1, f"{doc}: table {t['id']} is wider than the text"
        if t["inner"] > t["box"] + 1:
            assert t["scrolls"], f"{doc}: table {t['id']} overflows without a scroll box"
    for i in lay["imgs"]:
        if i["natural"] and i["shown"] < i["natural"] / 2:
            assert i["linked"], (f"{doc}: image {i['src']} is shown at {i['shown']:.0f} of "
                                 f"{i['natural']} px without a link to the full image")


def test_site_works_from_a_file_url_without_network(built_book, browser):
    """Opened straight from disk (file://) with every network request refused, a chapter's
    formulas still render: MathJax is part of the site."""
    ctx = browser.new_context()
    ctx.route("http*://**/*", lambda r: r.abort())
    pg = ctx.new_page()
    chapter = next(d for d in PAGES if d.startswith("notebooks/"))
    pg.goto((built_book.html / f"{chapter}.html").as_uri(), wait_until="load")
    assert pg.evaluate(WAIT_FOR_MATH) > 0
    assert not RAW_TEX.findall(pg.evaluate(ARTICLE_TEXT))
    ctx.close()
