"""The screenshot of the review page in docs/review-page.png (README, docs/review.md).

A detector that keeps its nearest examples (the quickstart detector adapted with 40 OLID
train posts, ``--store-examples``) is served with a fresh feedback database; a few posts
(several sentences each, so that span scores show) are scored through ``/v1/classify``;
headless Chromium logs in as a moderator, labels two posts by keyboard and saves the page.

    HATEPROTO_DATA=../shared/datasets .venv/bin/python benchmarks/review_screenshot.py \
        --detector ~/.cache/hateproto/detectors/quickstart --out docs/review-page.png
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from review_server import ReviewServer  # noqa: E402

TOKEN = "screenshot-token"
POSTS = [
    "Great match last night. Those fans are animals and should be locked up.",
    "I disagree with the new policy. But calling them vermin is not okay!",
    "Honestly the weather ruined our picnic. What a day.",
    "They keep coming here. Send them all back where they came from.",
    "<script>alert('hi')</script> is what a spammer posted. Moderators removed it.",
    "Women in tech deserve better. The comments under that post were vile.",
]


def examples_file(folder: Path, data_dir: str | None) -> Path:
    """40 OLID train posts (20 per class) as a CSV for ``detector adapt``."""
    import csv

    from hateproto.data import load_benchmark
    from hateproto.data.sampling import sample_per_class

    train = sample_per_class(load_benchmark("olid", "train", data_dir=data_dir), 20, seed=0)
    path = folder / "examples.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["text", "label"])
        writer.writerows(zip(train.texts, train.labels.tolist(), strict=True))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", type=Path, required=True)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        adapted = folder / "detector"
        hateproto = str(Path(sys.executable).parent / "hateproto")
        examples = examples_file(folder, args.data_dir)
        subprocess.run(
            [hateproto, "detector", "adapt", str(args.detector), "--examples", str(examples)]
            + ["--store-examples", "--out", str(adapted)],
            check=True,
        )
        server = ReviewServer(adapted, str(folder / "f.db"), TOKEN, folder / "serve.log")
        server.start()
        try:
            server.classify(POSTS)
            server.wait_queued(len(POSTS))
            time.sleep(3)  # the explanations
            options = webdriver.ChromeOptions()
            options.binary_location = shutil.which("chromium")
            for flag in ("--headless=new", "--no-sandbox", "--disable-gpu"):
                options.add_argument(flag)
            options.add_argument("--window-size=1000,860")
            service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
            driver = webdriver.Chrome(options=options, service=service)
            try:
                wait = WebDriverWait(driver, 20)
                driver.get(f"{server.url}/review")
                wait.until(lambda d: d.find_element(By.ID, "login").is_displayed())
                driver.find_element(By.ID, "token").send_keys(TOKEN)
                driver.find_element(By.ID, "name").send_keys("Ada")
                driver.find_element(By.CSS_SELECTOR, "#login button").click()
                wait.until(lambda d: d.find_element(By.ID, "post").is_displayed())
                body = driver.find_element(By.TAG_NAME, "body")
                for count, key in enumerate("hn", start=1):
                    body.send_keys(key)
                    wait.until(lambda d, c=count: d.find_element(By.ID, "count").text == str(c))
                time.sleep(0.5)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                driver.save_screenshot(str(args.out))
            finally:
                driver.quit()
        finally:
            server.stop()
    print(f"screenshot written to {args.out}")


if __name__ == "__main__":
    main()
