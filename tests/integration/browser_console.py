"""Drives a node's console in headless Chromium (Debian's chromium + chromium-driver, through
python3-selenium). Run by test_console.py:

    browser_console.py CONSOLE_URL QUEUE EXPECTED_PENDING SCREENSHOT_DIR [SCHEDULED [DLQ]]

Loads the queues page, waits until QUEUE shows EXPECTED_PENDING, browses it (a body with markup
must show as text and never become an element), clicks Purge, accepts the confirmation, and waits
until the page by itself shows pending 0. With SCHEDULED, the scheduled page must list that many
scheduled messages; Cancel on the first must leave one fewer. With a dead-letter queue DLQ (holding
messages), clicks its Retry button and waits until it shows pending 0 (the messages went back).
Takes a screenshot of every page.
Prints one line per step; exits 0 when all held, 1 with the reason otherwise.
"""

import os
import sys

import browser_support
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 20


def main():
    url, queue, expected, shots = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    scheduled = int(sys.argv[5]) if len(sys.argv) > 5 else None
    dead_letters = sys.argv[6] if len(sys.argv) > 6 else None
    with browser_support.chromium() as driver:
        try:
            wait = WebDriverWait(driver, WAIT)
            row_sel = 'tr[data-queue="%s"]' % queue

            for page, name in (("/", "overview"), ("/connections.html", "connections"),
                               ("/bridges.html", "bridges")):
                driver.get(url + page)
                wait.until(lambda d: d.find_element(By.ID, "node-name").text != "")
                if name == "bridges":
                    wait.until(EC.visibility_of_element_located((By.ID, "bridges-empty")))
                    print("bridges page: " + driver.find_element(By.ID, "bridges-empty").text)
                if name == "overview":
                    wait.until(lambda d: d.find_element(By.CSS_SELECTOR,
                                                        '[data-field="store_use"]').text != "")
                    print("overview: role " + driver.find_element(
                        By.CSS_SELECTOR, '[data-field="role"]').text)
                driver.save_screenshot(os.path.join(shots, name + ".png"))

            driver.get(url + "/queues.html")
            wait.until(lambda d: d.find_element(By.CSS_SELECTOR, row_sel + " td.pending").text
                       == expected)
            print("queues page: %s pending %s" % (queue, expected))

            # Browse: the markup body is text, not an element.
            driver.find_element(By.CSS_SELECTOR, row_sel + " button.browse").click()
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#browse tbody tr"))
                       == int(expected))
            bodies = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#browse td.body")]
            if not any("<img" in b for b in bodies):
                raise AssertionError("the markup body is not shown as text: %r" % bodies)
            if driver.find_elements(By.ID, "xss") or driver.title == "owned":
                raise AssertionError("a message body became markup in the page")
            print("browse: %d messages, markup shown as text" % len(bodies))
            driver.save_screenshot(os.path.join(shots, "queues.png"))

            driver.find_element(By.CSS_SELECTOR, row_sel + " button.purge").click()
            wait.until(EC.alert_is_present())
            alert = driver.switch_to.alert
            if queue not in alert.text:
                raise AssertionError("the confirmation does not name the queue: %r" % alert.text)
            alert.accept()
            wait.until(lambda d: d.find_element(By.CSS_SELECTOR, row_sel + " td.pending").text
                       == "0")
            message = driver.find_element(By.ID, "message").text
            print("purged: pending 0 (%s)" % message)
            driver.save_screenshot(os.path.join(shots, "queues-purged.png"))

            if dead_letters:
                dlq_sel = 'tr[data-queue="%s"]' % dead_letters
                wait.until(lambda d: d.find_element(By.CSS_SELECTOR, dlq_sel + " td.pending").text
                           not in ("", "0"))
                driver.find_element(By.CSS_SELECTOR, dlq_sel + " button.retry").click()
                wait.until(lambda d: d.find_element(By.CSS_SELECTOR, dlq_sel + " td.pending").text
                           == "0")
                message = driver.find_element(By.ID, "message").text
                print("retried: pending 0 (%s)" % message)
                driver.save_screenshot(os.path.join(shots, "queues-retried.png"))

            if scheduled is not None:
                rows = "#scheduled tbody tr"
                driver.get(url + "/scheduled.html")
                wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, rows)) == scheduled)
                first = driver.find_elements(By.CSS_SELECTOR, rows)[0]
                print("scheduled page: %d listed, first %s" % (scheduled, first.text))
                driver.save_screenshot(os.path.join(shots, "scheduled.png"))
                first.find_element(By.CSS_SELECTOR, "button.cancel").click()
                wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, rows))
                           == scheduled - 1)
                print("cancelled: %d listed (%s)" % (scheduled - 1,
                                                     driver.find_element(By.ID, "message").text))
                driver.save_screenshot(os.path.join(shots, "scheduled-cancelled.png"))
            return 0
        except Exception as e:  # noqa: BLE001 (any failure is reported the same way)
            browser_support.report_failure(driver, shots, "failure.png", e)
            return 1


if __name__ == "__main__":
    sys.exit(main())
