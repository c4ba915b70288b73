"""The explorer page in a real browser: upload files, find the study, list its series."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pydicom
import pytest
from playwright.sync_api import expect

from tests.support.dicom import dataset_bytes, make_series
from tests.support.dicomweb import store
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db


def test_upload_then_find_and_browse(pacs: ServiceProcess, browser: Any, tmp_path: Path) -> None:
    files = []
    for index, ds in enumerate(make_series(3, patient_name="Explorer^Ewa", study_description="Explorer test")):
        path = tmp_path / f"slice{index}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(str(path))
    (tmp_path / "notes.txt").write_text("not an image")
    files.append(str(tmp_path / "notes.txt"))

    with httpx.Client(base_url=pacs.url) as client:  # another patient's study, which the search must leave out
        store(client, dataset_bytes(next(make_series(1, patient_name="Other^Olga"))))

    page = browser.new_page()
    page.goto(f"{pacs.url}/app/explorer.html#upload?token=abc.def.ghi")
    assert "token" not in page.url  # the token leaves the address bar at once
    page.set_input_files("#files", files)
    page.click("#start-upload")
    page.wait_for_selector("text=Done: 3 stored, 0 already stored, 1 rejected.")
    assert "notes.txt" in page.inner_text("#upload-results")

    # Opening the view lists every study. Hold that answer back until the user's own search has been
    # answered: arriving last, it must not replace the search's result.
    held: list[Any] = []
    page.route("**/pacs/studies?*", lambda route: held.append(route) if "PatientName" not in route.request.url else route.continue_())
    page.click("text=Find studies")
    page.fill("input[name=PatientName]", "explorer")
    page.click("#search button[type=submit]")
    expect(page.locator("#studies tbody tr")).to_have_count(1)
    with page.expect_response(lambda response: "PatientName" not in response.url):
        held.pop().continue_()
    page.wait_for_timeout(300)
    expect(page.locator("#studies tbody tr")).to_have_count(1)
    row = page.locator("#studies tbody tr", has_text="Explorer^Ewa")
    assert "Explorer test" in row.inner_text()
    assert row.locator("td").nth(7).inner_text() == "3"
    # A second click while the series are on their way shows them once, not twice.
    page.route("**/series", lambda route: held.append(route))
    row.locator("button", has_text="Series").click()
    row.locator("button", has_text="Series").click()
    page.wait_for_timeout(200)
    for route in held:
        route.continue_()
    page.locator("tr.series", has_text="3 instance(s)").wait_for()
    page.wait_for_timeout(300)
    expect(page.locator("tr.series")).to_have_count(1)
    row.locator("button", has_text="Series").click()  # and a click once they are shown folds them away
    expect(page.locator("tr.series")).to_have_count(0)
    assert page.evaluate("sessionStorage.getItem('pacsbox.token')") == "abc.def.ghi"
    page.close()


def test_download_then_delete_a_study(pacs: ServiceProcess, browser: Any, tmp_path: Path) -> None:
    series = list(make_series(2, patient_name="Archive^Arne", study_description="Explorer archive"))
    with httpx.Client(base_url=pacs.url) as client:
        for ds in series:
            store(client, dataset_bytes(ds))

    page = browser.new_page()
    page.goto(f"{pacs.url}/app/explorer.html#find-studies?token=abc.def.ghi")
    page.fill("input[name=PatientName]", "archive^arne")
    page.click("#search button[type=submit]")
    expect(page.locator("#studies tbody tr")).to_have_count(1)
    row = page.locator("#studies tbody tr", has_text="Archive^Arne")

    with page.expect_download() as download:
        row.locator("button", has_text="Download").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".zip"
    with zipfile.ZipFile(saved) as archive:
        names = [name for name in archive.namelist() if not name.endswith("/")]
        uids = {str(pydicom.dcmread(io.BytesIO(archive.read(name))).SOPInstanceUID) for name in names}
    assert uids == {str(ds.SOPInstanceUID) for ds in series}

    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button", has_text="Delete").click()
    expect(page.locator("#studies tbody tr")).to_have_count(0)
    with httpx.Client(base_url=pacs.url) as client:
        answer = client.get("/pacs/studies", params={"StudyInstanceUID": str(series[0].StudyInstanceUID)})
    assert answer.status_code == 204 or answer.json() == []  # gone from the index too
    page.close()
