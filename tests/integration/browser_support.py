"""Headless Chromium for the browser tests (Debian's chromium and chromium-driver, through
python3-selenium): a driver with a profile of its own, and the report of a failed step."""

import contextlib
import os
import shutil
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


@contextlib.contextmanager
def chromium(window="1400,900"):
    """A headless Chromium driver; quits it and removes its profile at the end."""
    profile = tempfile.mkdtemp(prefix="actormq-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=" + window,
              "--user-data-dir=" + profile):
        opts.add_argument(a)
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=service, options=opts)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def report_failure(driver, shots, screenshot, error):
    """Prints the failure and the page's text, and saves a screenshot of the page."""
    print("FAILED: %s: %s" % (type(error).__name__, error))
    try:
        driver.save_screenshot(os.path.join(shots, screenshot))
        print("page text: " + driver.find_element(By.TAG_NAME, "body").text)
    except Exception:  # noqa: BLE001 (the page may be gone)
        pass
