"""The review page as a moderator uses it (issue 27): a real ``hateproto serve`` process,
Debian's headless Chromium driven by Selenium through chromedriver. It logs in with the
token, labels five posts with the keyboard, undoes one (the database then holds exactly
four labels), and a post with ``<script>`` and ``<img onerror>`` is shown as text. Also:
``kill -9`` of the service while moderators label loses no acknowledged label.

Skipped, with the reason, where chromium or chromedriver is missing (``scripts/test-deps``
installs them as root)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")

from review_server import Moderator, ReviewServer  # noqa: E402

from hateproto.feedback.store import FeedbackStore  # noqa: E402

TOKEN = "browser-test-token"
HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
POSTS = [
    "they are vermin go back home",
    "the weather is great today",
    "immigrants are dirty criminals",
    "welcome neighbours and friends",
    "those people are evil and lazy",
    "we love football game",
    "our city is kind to new people",
    "women deserve equal rights",
    HOSTILE,
]


@pytest.fixture
def server(detector_dir: Path, tmp_path: Path):
    db = tmp_path / "feedback.db"
    started = ReviewServer(detector_dir, str(db), TOKEN, tmp_path / "serve.log").start()
    try:
        started.classify(POSTS)
        started.wait_queued(len(POSTS))
        yield started
    finally:
        started.stop()


def _browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip(
            "Debian's chromium and chromium-driver are not installed (scripts/test-deps "
            "installs them when run as root)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument("--window-size=1100,900")
    service = webdriver.ChromeService(executable_path=driver_path)
    return webdriver.Chrome(options=options, service=service)


def _labels(db: str) -> list[dict]:
    store = FeedbackStore.open(db, migrate=False)
    try:
        return list(store.label_rows())
    finally:
        store.close()


def test_a_moderator_labels_with_the_keyboard(server: ReviewServer, tmp_path: Path):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _browser()
    wait = WebDriverWait(driver, 20)
    try:
        driver.get(f"{server.url}/review")
        wait.until(lambda d: d.find_element(By.ID, "login").is_displayed())
        driver.find_element(By.ID, "token").send_keys(TOKEN)
        driver.find_element(By.ID, "name").send_keys("Ada")
        driver.find_element(By.CSS_SELECTOR, "#login button").click()
        wait.until(lambda d: d.find_element(By.ID, "post").is_displayed())
        assert driver.find_element(By.ID, "moderator").text == "Ada"
        assert not driver.find_element(By.ID, "login").is_displayed()
        body = driver.find_element(By.TAG_NAME, "body")
        seen = []

        def shown() -> str:
            text = driver.find_element(By.ID, "text")
            # posts are text: nothing in them becomes an element
            assert text.find_elements(By.CSS_SELECTOR, "script, img, a, iframe") == []
            return driver.execute_script("return document.getElementById('text').textContent")

        def press(key: str, count_after: int) -> None:
            before = driver.find_element(By.ID, "post-id").text
            body.send_keys(key)
            wait.until(lambda d: d.find_element(By.ID, "count").text == str(count_after))
            wait.until(lambda d: d.find_element(By.ID, "post-id").text != before)

        for step, key in enumerate("hnhnh"):
            seen.append(shown())
            press(key, step + 1)
        last = seen[-1]
        press("u", 4)
        assert shown() == last  # the undone post is back on screen
        rows = _labels(server.db)
        assert len(rows) == 4
        assert [r["label"] for r in rows] == ["hate", "not_hate", "hate", "not_hate"]
        assert {r["moderator"] for r in rows} == {"Ada"}
        assert [r["text"] for r in rows] == seen[:4]
        # skip until the hostile post has been on screen (skips are not labels)
        for _ in range(len(POSTS)):
            if HOSTILE in seen:
                break
            press("s", 4)
            seen.append(shown())
        assert HOSTILE in seen, "the hostile post never reached the screen"
        assert driver.title == "hateproto review"
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.text  # noqa: B018
        assert len(_labels(server.db)) == 4
        shot = os.environ.get("HATEPROTO_REVIEW_SCREENSHOT")
        driver.save_screenshot(shot or str(tmp_path / "review.png"))
    finally:
        driver.quit()


def test_kill_9_loses_no_acknowledged_label(detector_dir: Path, tmp_path: Path):
    db = str(tmp_path / "feedback.db")
    server = ReviewServer(detector_dir, db, TOKEN, tmp_path / "serve.log").start()
    texts = [f"{word} post number {i}" for i in range(120) for word in ("good",)]
    acknowledged: set[int] = set()
    lock = threading.Lock()
    try:
        server.classify(texts[:60])
        server.classify(texts[60:])
        server.wait_queued(len(texts))
        moderators = [Moderator(server.url, TOKEN, f"m{i}") for i in range(3)]

        def work(moderator: Moderator) -> None:
            for step in range(1000):
                try:
                    post = moderator.next()
                    if post is None:
                        return
                    answer = moderator.label(post["id"], "hate", f"{moderator.name}-{step:05d}")
                except Exception:  # noqa: BLE001 - the service was killed mid-request
                    return
                with lock:
                    acknowledged.add(answer["label_id"])

        threads = [threading.Thread(target=work, args=(m,)) for m in moderators]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 30 and time.monotonic() < deadline:
            time.sleep(0.005)
        server.kill()
        for thread in threads:
            thread.join(60)
    finally:
        server.kill()
    assert 30 <= len(acknowledged) < len(texts)
    restarted = ReviewServer(detector_dir, db, TOKEN, tmp_path / "serve2.log").start()
    try:
        Moderator(restarted.url, TOKEN, "after").next()  # the database opens and serves
    finally:
        restarted.stop()
    stored = {row["label_id"] for row in _labels(db)}
    assert acknowledged <= stored
    assert len(stored) - len(acknowledged) <= 3  # at most one unanswered label per moderator
