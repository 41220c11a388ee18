"""The forwarder's loop in real Chromium, in English and in Chinese.

Sign in, upload a packing list with label photos, watch the stages, read the report, download
every format (the PDF too), upload the corrected packing list to the same shipment and see
what changed. Set GATEWAY_SCREENS to a folder to keep a picture of each step.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import make_server

from gateway.api.app import build_app
from gateway.config import Settings
from gateway.jobs.executors import InlineExecutor
from gateway.services import ServiceOptions
from gateway.storage.db import upgrade
from gateway.storage.repo import Admin
from gateway.wiring import build_services
from samples import shipments
from tests.service.test_browser import screenshot, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STAGE_WORDS = {
    "en": ("Reading documents", "Reading label photos", "Looking up", "Checking", "Writing"),
    "zh": ("正在读取文件", "正在读取标签照片", "正在核验", "正在按规则核查", "正在生成报告"),
}
WORDS = {
    "en": {
        "changes": "What changed since report version 1",
        "fixed": "Fixed",
        "title": "Check a shipment",
    },
    "zh": {"changes": "与第 1 版报告相比的变化", "fixed": "已解决", "title": "核查一票货物"},
}


@pytest.fixture
def loop_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The embedded default with the sample shipments' registrations imported."""
    from gateway.platform_client.local import import_registry_file
    from gateway.wiring import PipelineChecker

    settings = Settings(data_dir=str(tmp_path), secret_key="s", key_pepper="p")

    def unhurried(request: Any, *, history: Any, progress: Any) -> Any:
        # the real pipeline, a little slower at each stage, as a busy platform would make it,
        # so that the page's once-a-second poll sees the stages go by
        def slow(stage: str | None, fraction: float | None) -> None:
            progress(stage, fraction)
            time.sleep(0.4)

        return pipeline(request, history=history, progress=slow)

    svc = build_services(settings, ServiceOptions(), checker=unhurried)
    pipeline = PipelineChecker(svc.platforms, ruleset=settings.ruleset)  # the real one, shared
    upgrade(svc.engine)
    records = [*shipments.clean_to_germany().records, *shipments.problems_to_germany().records]
    registry = tmp_path / "registry.csv"
    registry.write_bytes(shipments.registry_csv(records))
    import_registry_file(registry, svc.engine)
    with svc.sessions.begin() as session:
        admin = Admin(session, svc.pepper)
        tenant = admin.create_tenant("loop")
        _row, key = admin.create_key(tenant.id)
    app = build_app(settings, services=svc)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}", key
    finally:
        http.shutdown()
        executor = svc._executor
        if isinstance(executor, InlineExecutor):
            executor.wait_idle(30)
        svc.close()


def documents(folder: Path) -> tuple[Path, list[Path], Path]:
    """The packing list with errors, label photos of two units, and the corrected list under
    the same file name (what the forwarder saves after fixing it)."""
    problems = shipments.problems_to_germany()
    clean = shipments.clean_to_germany()
    name = problems.documents[0].document.filename
    first = folder / "first" / name
    first.parent.mkdir()
    first.write_bytes(problems.documents[0].data)
    photos = []
    for record in clean.records[:2]:
        hri = record.gs1_element_string
        photo = folder / f"label_{record.serial}.png"
        photo.write_bytes(shipments.label_photo([("gs1-128", hri), ("gs1-datamatrix", hri)]))
        photos.append(photo)
    corrected = folder / "corrected" / name
    corrected.parent.mkdir()
    corrected.write_bytes(clean.documents[0].data)
    return first, photos, corrected


def watch_stages(
    page: Any, selector: str, done: str, timeout: float = 90.0, picture: str = ""
) -> list[str]:
    """Every text the stage line showed until `done` appears (`picture`: keep a screenshot of
    the page at the first stage with counts)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if page.locator(done).count():
                return seen
            found = page.locator(selector)
            text = found.inner_text(timeout=1000) if found.count() else ""
        except PlaywrightError:  # the page reloads when the check is done
            text = ""
        if text and (not seen or seen[-1] != text):
            seen.append(text)
            if picture and any(ch.isdigit() for ch in text) and "(" in text.replace("（", "("):
                with contextlib.suppress(PlaywrightError):
                    screenshot(page, picture)
                picture = ""
        page.wait_for_timeout(100)
    screenshot(page, "failed-step")
    pytest.fail(f"not done after {timeout} s; stages seen: {seen}; page: {page.url}")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_forwarders_loop(
    lang: str, loop_server: tuple[str, str], doors_browser: Any, tmp_path: Path
) -> None:
    base, key = loop_server
    first, photos, corrected = documents(tmp_path)
    context = doors_browser.new_context(
        accept_downloads=True,
        viewport={"width": 1280, "height": 900},
        timezone_id="Asia/Shanghai" if lang == "zh" else "Europe/Berlin",
    )
    page = context.new_page()
    shot = lambda step: screenshot(page, f"{lang}-{step}")  # noqa: E731
    try:
        page.goto(f"{base}/")
        shot("01-sign-in")
        sign_in(page, base, key)
        if lang == "zh":
            page.click("#switch-language")
            page.wait_for_url(f"{base}/upload")
        assert page.inner_text("h1") == WORDS[lang]["title"]

        # upload the packing list with the label photos
        page.set_input_files("#files", [str(first), *(str(p) for p in photos)])
        page.fill("#reference", f"LOOP-{lang}")
        page.fill("#destination", "德国" if lang == "zh" else "Germany")
        shot("02-upload-chosen")
        page.click("#submit")
        stages = watch_stages(page, "#stage", "#open-report", picture=f"{lang}-03a-stages")
        shot("03-checked-on-the-upload-page")
        assert any(any(w in s for w in STAGE_WORDS[lang]) for s in stages), stages
        assert f"LOOP-{lang}" in page.inner_text("#history-rows")

        # read the report
        page.click("#open-report")
        page.wait_for_selector("#report")
        shown = page.locator("#report .lang.default")
        assert shown.get_attribute("id") == f"report-{lang}"
        assert "verdict-block" in (shown.locator(".verdict").get_attribute("class") or "")
        shot("04-report")

        # every format downloads, named by the reference
        legend = "图例" if lang == "zh" else "Legend"
        for button, check in [
            ("#download-pdf", lambda p: p.read_bytes().startswith(b"%PDF-")),
            ("#download-xlsx", lambda p: bool(load_workbook(p).sheetnames)),
            ("#download-csv", lambda p: p.read_bytes().startswith(b"\xef\xbb\xbf")),
            ("#download-html", lambda p: b"<html" in p.read_bytes()),
            (
                "#download-annotated",
                lambda p: legend in load_workbook(p).sheetnames,
            ),
        ]:
            with page.expect_download() as info:
                page.click(button)
            target = tmp_path / f"{lang}-{info.value.suggested_filename}"
            info.value.save_as(target)
            assert info.value.suggested_filename.startswith(f"report-LOOP-{lang}")
            assert check(target), button
        data = page.request.get(base + (page.get_attribute("#download-json", "href") or "")).json()
        assert data["verdict"] == "block"
        assert "changes" not in data

        # upload the corrected packing list to the same shipment
        page.set_input_files("#recheck-files", str(corrected))
        shot("05-corrected-file-chosen")
        page.click("#recheck-submit")
        rechecked = watch_stages(
            page, "#stage", "#report .changes", timeout=120, picture=f"{lang}-05a-recheck-stages"
        )
        shot("06-recheck-report")
        changes = page.locator("#report .lang.default .changes")
        assert WORDS[lang]["changes"] in changes.inner_text()
        fixed = changes.locator("ul.change-fixed > li")
        assert fixed.count() >= 3
        assert "CHECK_DIGIT_INVALID" in changes.inner_text()
        assert page.locator("#versions a").count() == 2
        # the JSON of the latest version says the same; the first version is still there
        latest = page.request.get(
            base + (page.get_attribute("#download-json", "href") or "")
        ).json()
        assert latest["version"] == 2
        assert {e["code"] for e in latest["changes"]["fixed"]} >= {"CHECK_DIGIT_INVALID"}
        page.locator("#versions a").first.click()
        page.wait_for_selector("#older-version")
        assert page.locator("#report .changes").count() == 0
        shot("07-first-version-kept")
        assert json.dumps(rechecked)  # the stages of the re-check were shown as text
    finally:
        context.close()
