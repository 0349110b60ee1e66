"""A page using @stomp/stompjs (the real library, its UMD bundle from npm) in headless Chromium
talks STOMP over WebSocket to a node, while the actormq CLI (the Protobuf client) sends and
receives. Run by test_stomp_stompjs.py:

    browser_stompjs.py WS_PORT BROKER_URL ACTORMQ_CLI BUNDLE SCREENSHOT_DIR

Serves the page and the bundle from this process. The page's StompJs.Client connects to
ws://127.0.0.1:WS_PORT/ and subscribes to /queue/stompjs.to.browser; `actormq producer` then
sends three messages there; the page shows them and, once it has all three, publishes one to
/queue/stompjs.from.browser with a receipt, which `actormq consumer` must receive. Prints one
line per step; exits 0 when all held, 1 with the reason otherwise."""

import http.server
import os
import subprocess
import sys
import threading

import browser_support
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 30

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>@stomp/stompjs</title>
<script src="/stomp.umd.js"></script></head>
<body>
<p>state: <span id="state">starting</span>, receipt: <span id="receipt"></span>,
error: <span id="error"></span></p>
<ul id="messages"></ul>
<script>
const $ = (id) => document.getElementById(id);
const expected = 3;
const received = [];
const client = new StompJs.Client({
  brokerURL: "ws://127.0.0.1:%d/",
  reconnectDelay: 0,
  heartbeatIncoming: 0,
  heartbeatOutgoing: 0,
});
client.onConnect = () => {
  client.watchForReceipt("subscribed", () => { $("state").textContent = "subscribed"; });
  client.subscribe("/queue/stompjs.to.browser", (message) => {
    received.push(message.body);
    const li = document.createElement("li");
    li.textContent = message.body;
    $("messages").appendChild(li);
    if (received.length === expected) {
      client.watchForReceipt("sent", () => { $("receipt").textContent = "sent"; });
      client.publish({destination: "/queue/stompjs.from.browser",
                      headers: {persistent: "true", receipt: "sent"},
                      body: "from stompjs: got " + received.join("|")});
    }
  }, {receipt: "subscribed"});
};
client.onStompError = (frame) => { $("error").textContent = frame.headers["message"] || frame.body; };
client.onWebSocketClose = (event) => {
  if ($("state").textContent !== "subscribed") $("state").textContent = "closed " + event.code;
};
client.activate();
</script>
</body></html>
"""


def serve(ws_port, bundle_path):
    page = (PAGE % ws_port).encode()
    with open(bundle_path, "rb") as f:
        bundle = f.read()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/stomp.umd.js":
                body, kind = bundle, "text/javascript"
            elif self.path == "/":
                body, kind = page, "text/html; charset=utf-8"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    ws_port, broker_url, cli, bundle, shots = sys.argv[1:6]
    server = serve(int(ws_port), bundle)
    consumer = subprocess.Popen([cli, "consumer", "--brokerUrl", broker_url, "--destination",
                                 "queue://stompjs.from.browser", "--messageCount", "1",
                                 "--receiveTimeout", str(WAIT * 3 * 1000)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with browser_support.chromium(window="1000,700") as driver:
        try:
            wait = WebDriverWait(driver, WAIT)
            driver.get("http://127.0.0.1:%d/" % server.server_address[1])
            wait.until(lambda d: d.find_element(By.ID, "state").text != "starting")
            state = driver.find_element(By.ID, "state").text
            if state != "subscribed":
                raise AssertionError("the page is %r, not subscribed (error: %r)" %
                                     (state, driver.find_element(By.ID, "error").text))
            print("page: subscribed with " +
                  driver.execute_script("return typeof StompJs.Client"))
            producer = subprocess.run([cli, "producer", "--brokerUrl", broker_url,
                                       "--destination", "queue://stompjs.to.browser",
                                       "--messageCount", "3"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      timeout=WAIT)
            if producer.returncode != 0:
                raise AssertionError("actormq producer failed: " + producer.stderr.decode())
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#messages li")) == 3)
            shown = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#messages li")]
            print("page shows: " + " | ".join(shown))
            wait.until(lambda d: d.find_element(By.ID, "receipt").text == "sent")
            print("page: its SEND got a receipt")
            out, err = consumer.communicate(timeout=WAIT)
            if consumer.returncode != 0:
                raise AssertionError("actormq consumer failed: " + err.decode())
            print("cli consumer received: " + out.decode().strip())
            error = driver.find_element(By.ID, "error").text
            if error:
                raise AssertionError("the page got an ERROR: " + error)
            driver.save_screenshot(os.path.join(shots, "stompjs.png"))
        except Exception as e:  # noqa: BLE001 (any failure is reported the same way)
            browser_support.report_failure(driver, shots, "stompjs_failed.png", e)
            return 1
        finally:
            if consumer.poll() is None:
                consumer.kill()
                consumer.wait()
            server.shutdown()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
