"""A headless browser opens the built site: pages load, figures show, internal links resolve."""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

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
def page(site):
    exe = _browser_or_skip()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=ARGS)
        ctx = browser.new_context()
        # The site must work offline: refuse any request that leaves the local server.
        ctx.route("**/*", lambda route: route.continue_()
                  if route.request.url.startswith(site[0]) else route.abort())
        yield ctx.new_page()
        browser.close()


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
