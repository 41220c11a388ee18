"""A forwarder's path in headless Chromium: sign in, upload a manifest, wait, download Excel."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from werkzeug.serving import make_server

from gateway.api.app import build_app
from gateway.config import Settings
from gateway.jobs.executors import InlineExecutor
from gateway.services import ServiceOptions
from gateway.storage.db import upgrade
from gateway.storage.repo import Admin
from gateway.wiring import build_services

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The embedded default served on a free 127.0.0.1 port: (base URL, API key).

    Parametrize it indirectly with `ServiceOptions` to change a service knob."""
    from gateway.platform_client.local import import_registry_file
    from samples.registry import write_samples

    settings = Settings(data_dir=str(tmp_path), secret_key="s", key_pepper="p")
    svc = build_services(settings, getattr(request, "param", ServiceOptions()))
    upgrade(svc.engine)
    import_registry_file(write_samples(tmp_path / "registry")[0], svc.engine)
    with svc.sessions.begin() as session:
        admin = Admin(session, svc.pepper)
        tenant = admin.create_tenant(f"browser-{secrets.token_hex(3)}")
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


SCREENS = Path(os.environ.get("GATEWAY_SCREENS", "")) if os.environ.get("GATEWAY_SCREENS") else None


def screenshot(page: Any, name: str) -> None:
    """Keep a picture of the step when GATEWAY_SCREENS names a folder (for people, not asserts)."""
    if SCREENS is not None:
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


@pytest.fixture
def browser(doors_browser: Any) -> Any:
    """The session's Chromium: one Playwright per test process."""
    return doors_browser


def sign_in(page: Any, base: str, key: str) -> None:
    page.goto(f"{base}/")
    page.fill("#api_key", key)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/upload")


def signed_in_with_a_manifest(browser: Any, server: tuple[str, str], folder: Path) -> Any:
    """A signed-in upload page with a generated packing list chosen."""
    from samples.manifests import build_xlsx

    base, key = server
    manifest = folder / "packing list.xlsx"
    manifest.write_bytes(build_xlsx()[0])
    page = browser.new_page()
    sign_in(page, base, key)
    page.set_input_files("#files", str(manifest))
    return page


def test_the_destination_is_typed_as_a_name_and_never_cut_short(
    server: tuple[str, str], browser: Any, tmp_path: Path
) -> None:
    base, _key = server
    page = signed_in_with_a_manifest(browser, server, tmp_path)
    page.fill("#destination", "Germanz")
    assert "Not in the list" in page.inner_text("#destination-hint")
    page.click("#submit")
    page.wait_for_selector("#stage.error")
    assert "'Germanz'" in page.inner_text("#stage")
    screenshot(page, "03-destination-unknown")
    page.fill("#destination", "Germany")
    assert page.input_value("#destination") == "Germany"  # nothing cuts it to "GE"
    assert "DE · Germany · 德国" in page.inner_text("#destination-hint")
    screenshot(page, "03-destination-germany")
    page.click("#submit")
    page.wait_for_selector("#open-report", timeout=60_000)
    # the new shipment is in the history without a reload, with its final status
    assert page.locator("#history-rows tr").count() == 1
    assert "done" in page.inner_text("#history-rows tr")
    shipment_url = page.get_attribute("#open-report", "href")
    assert shipment_url is not None
    status = page.request.get(f"{base}/v1{shipment_url}").json()
    assert status["destination"] == "DE"
    page.fill("#destination", "德国")
    assert "DE · Germany · 德国" in page.inner_text("#destination-hint")


def test_the_app_speaks_chinese_when_chosen_and_shows_local_times(
    server: tuple[str, str], browser: Any, tmp_path: Path
) -> None:
    from samples.manifests import build_xlsx

    base, key = server
    manifest = tmp_path / "装箱单.xlsx"
    manifest.write_bytes(build_xlsx()[0])
    context = browser.new_context(
        timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
    )
    try:
        page = context.new_page()
        sign_in(page, base, key)
        assert page.inner_text("h1") == "Check a shipment"  # the tenant's language: English
        page.click("#switch-language")
        page.wait_for_url(f"{base}/upload")
        assert page.inner_text("h1") == "核查一票货物"
        assert page.get_attribute("html", "lang") == "zh-CN"
        page.set_input_files("#files", str(manifest))
        page.fill("#reference", "ZH-1")
        page.fill("#destination", "德国")
        screenshot(page, "07-upload-zh")
        page.click("#submit")
        page.wait_for_selector("#open-report", timeout=60_000)
        assert "打开报告" in page.inner_text("#open-report")
        page.click("#open-report")
        page.wait_for_selector("#report")
        assert "已完成" in page.inner_text("#status")
        shown = page.locator("#report .lang.default")
        assert shown.get_attribute("id") == "report-zh"
        assert "阻断原因" in shown.inner_text()
        checked = shown.locator("table.facts time")
        utc = checked.get_attribute("title") or ""
        assert utc.endswith("UTC")
        assert checked.inner_text() != utc  # shown in the reader's zone (UTC+8), UTC on hover
        assert "GMT+8" in checked.inner_text() or "+08" in checked.inner_text()
        screenshot(page, "07-report-zh")
        page.goto(f"{base}/upload")  # the choice is remembered on every page
        assert page.inner_text("h1") == "核查一票货物"
        assert "ZH-1" in page.inner_text("table.list")
        page.fill("#search-q", "装箱单")  # a document's name
        page.select_option("#search-verdict", "block")
        page.click("#search-submit")
        page.wait_for_selector("#history-rows")
        assert "ZH-1" in page.inner_text("#history-rows")
        assert page.input_value("#search-q") == "装箱单"
        screenshot(page, "07-history-search-zh")
        page.fill("#search-q", "no-such-shipment")
        page.click("#search-submit")
        page.wait_for_selector("#history-rows")
        assert "没有符合条件的货物" in page.inner_text("#history-rows")
    finally:
        context.close()


LINK_SECONDS = 8


@pytest.mark.parametrize(
    "server", [ServiceOptions(report_link_seconds=LINK_SECONDS)], indirect=True
)
def test_the_emailed_link_opens_the_report_without_a_key_until_it_expires(
    server: tuple[str, str], browser: Any, tmp_path: Path
) -> None:
    import email
    import re
    import time
    from email import policy

    base, _key = server
    sender = signed_in_with_a_manifest(browser, server, tmp_path)
    sender.fill("#reference", "MAIL-1")
    sender.fill("#notify", "client@example.com")
    sender.click("#submit")
    sender.wait_for_selector("#open-report", timeout=60_000)
    deadline = time.monotonic() + 30
    while not (eml := sorted((tmp_path / "outbox").glob("*.eml"))) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert eml, "no report email was written"
    sent_at = time.time()
    message = email.message_from_bytes(eml[0].read_bytes(), policy=policy.SMTP)
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"/r/[A-Za-z0-9_.-]+", text)
    assert match is not None, text
    link = base + match.group(0)  # the email names the configured base URL
    client = browser.new_context()  # another person's browser: no session, no key
    try:
        page = client.new_page()
        page.goto(link)
        assert "MAIL-1" in page.inner_text("body")
        assert page.locator(".lang.default .verdict").is_visible()
        screenshot(page, "05-emailed-link-open")
        with page.expect_download() as pdf:
            page.evaluate("url => { window.location.href = url; }", link + "?format=pdf")
        assert pdf.value.suggested_filename == "report-MAIL-1.pdf"
        time.sleep(max(0.0, sent_at + LINK_SECONDS + 1 - time.time()))
        response = page.goto(link)
        assert response is not None
        assert response.status == 410
        assert "expired" in page.inner_text("#link-refused")
        screenshot(page, "05-emailed-link-expired")
    finally:
        client.close()


def test_sign_in_upload_wait_and_download_the_excel_report(
    server: tuple[str, str], tmp_path: Path, browser: Any
) -> None:
    from samples.manifests import build_xlsx

    base, key = server
    manifest = tmp_path / "packing list.xlsx"
    manifest.write_bytes(build_xlsx()[0])
    page = browser.new_page(accept_downloads=True, viewport={"width": 1280, "height": 900})
    try:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/")
        page.fill("#api_key", key)
        page.click("#sign-in")
        page.wait_for_url(f"{base}/upload")
        page.set_input_files("#files", str(manifest))
        page.fill("#reference", "BROWSER-1")
        page.click("#submit")
        page.wait_for_selector("#open-report", timeout=60_000)
        assert int(page.get_attribute("#upload-progress", "value") or 0) == 100
        page.click("#open-report")
        page.wait_for_selector("#download-xlsx")
        with page.expect_download() as download_info:
            page.click("#download-xlsx")
        download = download_info.value
        target = tmp_path / "report.xlsx"
        download.save_as(target)
        assert download.suggested_filename.endswith(".xlsx")
        assert load_workbook(target).sheetnames
        with page.expect_download() as pdf_info:
            page.click("#download-pdf")
        assert pdf_info.value.suggested_filename == "report-BROWSER-1.pdf"
        pdf = tmp_path / "report.pdf"
        pdf_info.value.save_as(pdf)
        assert pdf.read_bytes().startswith(b"%PDF-")
        # the report is the page itself: no frame, every blocker listed, nothing cut off
        assert page.locator("iframe").count() == 0
        shown = page.locator("#report .lang.default")
        assert shown.locator(".verdict").is_visible()
        blockers = shown.locator("ol.blocking > li")
        assert blockers.count() == int(shown.locator("td.count-block").inner_text())
        assert "+ " not in blockers.last.inner_text()
        box = shown.locator("table.counts").bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= page.viewport_size["width"]
        screenshot(page, "07-report-in-the-page")
        assert not [e for e in errors if "Content Security Policy" in e]
    finally:
        page.close()


def test_api_docs_read_in_chromium_offline(browser: Any, server: tuple[str, str]) -> None:
    """The /docs page shows parameters, bodies and examples with the network cut off."""
    base, _ = server
    asked: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    def only_local(route: Any) -> None:
        url = route.request.url
        if url.startswith(base):
            route.continue_()
        else:
            asked.append(url)
            route.abort()

    page.route("**/*", only_local)
    try:
        page.goto(f"{base}/docs")
        assert page.locator("section.operation").count() >= 10
        upload = page.locator("#post--v1-shipments")
        assert "Idempotency-Key" in upload.inner_text()
        assert "transport_mode" in upload.inner_text()
        assert upload.locator("pre.example").first.is_visible()
        assert "INV-2026-1120" in upload.inner_text()
        page.click("a[href='#schema-Shipment']")
        assert page.locator("#schema-Shipment").is_visible()
        screenshot(page, "docs-api")
        assert asked == []
        assert page.evaluate("document.styleSheets.length") >= 1
    finally:
        context.close()
