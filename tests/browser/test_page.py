"""The search page in a real headless browser: `make test-browser` (Debian chromium).

Starts `task=serve` as a user would, over a real index of tones built with the tiny
checkpoint, and drives the page with Selenium. The screenshot goes to
$MUSCALL_SCREENSHOT (default outputs/browser/search_page.png).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from muscall.config import PROJECT_ROOT
from tests.helpers.library import build_index, write_library

pytestmark = pytest.mark.browser
webdriver = pytest.importorskip(
    "selenium.webdriver", reason="make test-browser (installs the browser group)"
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("needs chromium and chromedriver (make test-browser)", allow_module_level=True)

SCREENSHOT = Path(
    os.environ.get("MUSCALL_SCREENSHOT", PROJECT_ROOT / "outputs/browser/search_page.png")
)
# A name a careless page would run as HTML; a file name cannot hold a slash.
HTML_NAME = "<img src=x onerror=window.pwned=1>&amp; tone.wav"
NAMES = [
    "low drone.wav", "bass/deep hum.flac", "bright bell.wav", "mid tone.wav", "high whistle.wav",
    "strings/airy pad.flac", HTML_NAME, "glassy ping.wav", "soft organ.flac", "thin beep.wav",
]  # fmt: skip
K = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_checkpoint):
    """`task=serve` over 10 tones in a subprocess; yields (base URL, music folder)."""
    tmp = tmp_path_factory.mktemp("browser")
    music = write_library(tmp / "music", NAMES, seconds=2.0)
    build_index(music, tiny_checkpoint, tmp / "index")
    port = free_port()
    command = [
        sys.executable, str(PROJECT_ROOT / "src/run.py"), "task=serve", f"index={tmp / 'index'}",
        f"port={port}", "task.device=cpu", "task.log_level=warning", f"hydra.run.dir={tmp / 'run'}",
    ]  # fmt: skip
    log = (tmp / "serve.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, tmp / "serve.log")
        yield url, music
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"task=serve exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/api/info", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"task=serve did not answer in {seconds} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument("--window-size=1100,1300")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def rows(browser) -> list:
    return browser.find_elements(By.CSS_SELECTOR, "#results li.hit")


def wait_for_results(browser, label: str) -> list:
    WebDriverWait(browser, 30).until(EC.text_to_be_present_in_element((By.ID, "status"), label))
    return rows(browser)


def test_text_search_lists_ranked_playable_tracks(server, browser):
    url, _ = server
    browser.get(url + "/")
    WebDriverWait(browser, 15).until(EC.text_to_be_present_in_element((By.ID, "info"), "10 tracks"))
    browser.find_element(By.ID, "query").send_keys("a bright high tone")
    browser.find_element(By.ID, "search").click()
    found = wait_for_results(browser, "closest to")
    assert len(found) == K
    ranks = [r.find_element(By.CSS_SELECTOR, ".rank").text for r in found]
    assert ranks == [f"{i}." for i in range(1, K + 1)]
    paths = [r.find_element(By.CSS_SELECTOR, ".path").text for r in found]
    assert sorted(paths) == sorted(NAMES)
    scores = [float(r.find_element(By.CSS_SELECTOR, ".score").text) for r in found]
    assert scores == sorted(scores, reverse=True)
    for row in found:
        player = row.find_element(By.TAG_NAME, "audio")
        assert player.get_attribute("controls") is not None
        assert player.get_attribute("preload") == "none"
        audio = httpx.get(player.get_attribute("src"), headers={"Range": "bytes=0-3"})
        assert audio.status_code == 206 and audio.headers["content-type"].startswith("audio/")
        assert audio.content in (b"RIFF", b"fLaC")
    # The browser itself loads and decodes a track through the audio endpoint.
    seconds = browser.execute_async_script(
        """const [player, done] = [document.querySelector("#results audio"), arguments[0]];
        player.addEventListener("loadedmetadata", () => done(player.duration));
        player.addEventListener("error", () => done(-1));
        player.load();"""
    )
    assert seconds == pytest.approx(2.0, abs=0.05)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))


def test_a_name_holding_html_is_shown_as_text(server, browser):
    url, _ = server
    browser.get(url + "/")
    browser.find_element(By.ID, "query").send_keys("tone")
    browser.find_element(By.ID, "search").click()
    found = wait_for_results(browser, "closest to")
    shown = [r.find_element(By.CSS_SELECTOR, ".path").text for r in found]
    assert HTML_NAME in shown
    assert not browser.find_elements(By.CSS_SELECTOR, "#results img")
    assert browser.execute_script("return window.pwned === undefined")


def test_find_similar_ranks_the_uploaded_track_first(server, browser, tmp_path):
    url, music = server
    browser.get(url + "/")
    upload = tmp_path / "my copy.flac"
    shutil.copy(music / "strings/airy pad.flac", upload)
    browser.find_element(By.ID, "file").send_keys(str(upload))
    found = wait_for_results(browser, "closest to my copy.flac")
    assert found[0].find_element(By.CSS_SELECTOR, ".path").text == "strings/airy pad.flac"


def test_a_bad_upload_shows_the_message(server, browser, tmp_path):
    url, _ = server
    browser.get(url + "/")
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00not really audio" * 4)
    browser.find_element(By.ID, "file").send_keys(str(bad))
    status = browser.find_element(By.ID, "status")
    WebDriverWait(browser, 30).until(lambda _: status.get_attribute("class") == "error")
    assert status.text.startswith("broken.wav:") and "not usable as audio" in status.text
