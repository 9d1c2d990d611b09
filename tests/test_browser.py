"""Every page of a real `streamlit run studio/app.py` in headless Chromium: rendered, titled, and
free of exceptions, with a screenshot of each in test-artifacts/. Skipped without Chromium,
except under CI (env CI), where .ci/run installs it."""
import html
import os

import pytest

import browser
from studio.navigation import PAGE_SPECS
from studio_support import REPO, finished_run_root

ARTIFACTS = REPO / "test-artifacts"
pytestmark = pytest.mark.browser  # (and so slow: tests/conftest.py)


@pytest.fixture(scope="module", autouse=True)
def require_chromium():
    if browser.CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required under CI (.ci/run installs it)", pytrace=False)
        pytest.skip("chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def studio_url(competition_data):
    root = finished_run_root()
    env = {"GAN_STUDIO_DATA": str(competition_data), "GAN_STUDIO_RUNS": str(root / "runs")}
    with browser.studio_server(env) as url:
        yield url


@pytest.fixture(scope="module")
def tab():
    with browser.chromium() as tab:
        yield tab


@pytest.mark.parametrize("name, title", [(name, title) for name, title, _ in PAGE_SPECS])
def test_page_renders_without_exceptions(studio_url, tab, name, title):
    view = tab.open(browser.page_url(studio_url, name))
    tab.screenshot(ARTIFACTS / f"{name}.png")
    assert view.title, f"{name}: nothing rendered in the main area"
    assert view.exceptions == 0 and "stException" not in view.dom, f"{name} shows an exception:\n{view.text}"
    assert "Traceback" not in view.text
    assert 'aria-current="page"' in view.dom and f">{html.escape(title)}<" in view.dom  # the navigation marks this page
    if name in ("home", "train", "runs"):
        assert view.title == {"home": "Monet GAN Studio", "train": "Train", "runs": "Runs"}[name]
    if name in ("train", "runs"):
        assert "tiny" in view.text  # the finished run is listed
