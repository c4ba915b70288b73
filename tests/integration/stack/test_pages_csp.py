"""The pages behind nginx work under its Content-Security-Policy: no violation in a real chromium."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.viewer.conftest import OhifBuild
from tests.support.dicom import dataset_bytes, make_series
from tests.support.stack import StackProcess

WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def _open(browser: Any, url: str) -> tuple[Any, list[str]]:
    context = browser.new_context(ignore_https_errors=True)
    context.add_init_script(WATCH)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, console


def _violations(page: Any, console: list[str]) -> list[str]:
    found = page.evaluate("window.__violations")
    return [*found, *(text for text in console if "Content Security Policy" in text)]


def test_explorer_runs_under_the_policy(stack: StackProcess, browser: Any, editor: str) -> None:
    ds = next(make_series(1, patient_name="Csp^Clara"))
    with stack.client(headers={"Authorization": f"Bearer {editor}"}) as http:
        assert http.post("/zhiva/instances", content=dataset_bytes(ds), headers={"Content-Type": "application/dicom"}).status_code == 200
    page, console = _open(browser, f"{stack.origin}/zhiva/app/explorer.html#find-studies?token={editor}")
    page.click("text=Find studies")
    page.fill("input[name=PatientName]", "csp")
    page.click("#search button[type=submit]")
    page.locator("#studies tbody tr", has_text="Csp^Clara").wait_for()
    assert _violations(page, console) == []
    page.context.close()


@pytest.mark.parametrize("path", ["/auth/token", "/auth/sign-in"])
def test_auth_pages_run_under_their_policy(stack: StackProcess, browser: Any, path: str) -> None:
    page, console = _open(browser, f"{stack.origin}{path}")
    assert page.locator("form").count() >= 1
    assert _violations(page, console) == []
    page.context.close()


def test_ohif_viewer_runs_under_the_policy(stack: StackProcess, browser: Any, editor: str,
                                          ohif_build: OhifBuild) -> None:
    ohif_build.require()
    page, console = _open(browser, f"{stack.origin}/viewer/?token={editor}")
    page.get_by_text("Study List").first.wait_for()  # OHIF's bundles, workers and styles all loaded
    page.wait_for_load_state("networkidle")
    assert _violations(page, console) == []
    page.context.close()
