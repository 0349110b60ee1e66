"""Drives a node's console in headless Chromium (as browser_console.py does). Run by
test_console_topics.py:

    browser_console_topics.py CONSOLE_URL QUEUE TOPIC CLIENT_ID:SUBSCRIPTION SCREENSHOT_DIR

On the queues page, clicks Chart on QUEUE and waits for the three charts, the enqueue rate drawn
as a line and the pending chart captioned with the queue's pending count. On the topics page,
waits for TOPIC and the offline durable subscription, draws its charts, clicks Unsubscribe,
accepts the confirmation and waits until the subscription's row is gone. Prints one line per step;
exits 0 when all held, 1 with the reason otherwise.
"""

import os
import sys

import browser_support
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 30
CHARTS = ("enqueued msg/s", "dequeued msg/s", "pending")


def charts_drawn(driver, name):
    """The caption of each chart once all three are drawn for `name` with a line, else None."""
    if driver.find_element(By.ID, "charts-name").text != name:
        return None
    captions = {}
    for title in CHARTS:
        figs = driver.find_elements(By.CSS_SELECTOR, 'figure[data-chart="%s"]' % title)
        if not figs or not figs[0].find_elements(By.CSS_SELECTOR, "svg polyline"):
            return None
        captions[title] = figs[0].find_element(By.TAG_NAME, "figcaption").text
    return captions


def main():
    url, queue, topic, subscription, shots = sys.argv[1:6]
    with browser_support.chromium() as driver:
        try:
            wait = WebDriverWait(driver, WAIT)
            driver.get(url + "/queues.html")
            row = 'tr[data-queue="%s"]' % queue
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row + " button.chart"))
            pending = driver.find_element(By.CSS_SELECTOR, row + " td.pending").text
            driver.find_element(By.CSS_SELECTOR, row + " button.chart").click()
            captions = wait.until(lambda d: charts_drawn(d, queue))
            if not captions["pending"].startswith("pending: %s now" % pending):
                raise AssertionError("the pending chart says %r, the queue %s pending"
                                     % (captions["pending"], pending))
            print("queue charts: %s" % "; ".join(captions.values()))
            driver.save_screenshot(os.path.join(shots, "queue-charts.png"))

            driver.get(url + "/topics.html")
            sub_row = 'tr[data-subscription="%s"]' % subscription
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-topic="%s"]' % topic))
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, sub_row + " td.state"))
            state = driver.find_element(By.CSS_SELECTOR, sub_row + " td.state").text
            pending = driver.find_element(By.CSS_SELECTOR, sub_row + " td.pending").text
            if state != "offline":
                raise AssertionError("the subscription shows %r, not offline" % state)
            print("topics page: %s, subscription %s %s with %s pending" % (topic, subscription,
                                                                           state, pending))
            driver.find_element(By.CSS_SELECTOR, sub_row + " button.chart").click()
            def charted_durable(d):
                name = d.find_element(By.ID, "charts-name").text
                return name if name.startswith("durable://") else None

            durable = wait.until(charted_durable)
            wait.until(lambda d: charts_drawn(d, durable))
            print("subscription charts: %s" % durable)
            driver.save_screenshot(os.path.join(shots, "topics.png"))

            driver.find_element(By.CSS_SELECTOR, sub_row + " button.unsubscribe").click()
            wait.until(EC.alert_is_present())
            alert = driver.switch_to.alert
            name = subscription.split(":", 1)[1]
            if name not in alert.text:
                raise AssertionError("the confirmation does not name the subscription: %r"
                                     % alert.text)
            alert.accept()
            wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, sub_row))
            print("unsubscribed: %s" % driver.find_element(By.ID, "message").text)
            driver.save_screenshot(os.path.join(shots, "topics-unsubscribed.png"))
            return 0
        except Exception as e:  # noqa: BLE001 (any failure is reported the same way)
            browser_support.report_failure(driver, shots, "failure.png", e)
            return 1
if __name__ == "__main__":
    sys.exit(main())
