"""A browser speaks STOMP over WebSocket to a node (headless Chromium through python3-selenium, as
browser_console.py) while a python3-stomp client speaks STOMP over TCP to the same node. Run by
test_stomp_ws.py:

    browser_stomp_ws.py WS_PORT STOMP_PORT SCREENSHOT_DIR

Serves a small page from this process (a few lines of JavaScript, nothing downloaded) that
connects with the browser's own WebSocket, sub-protocols v12.stomp/v11.stomp/v10.stomp, sends
CONNECT and subscribes to /queue/ws.to.browser. The TCP client then sends three messages there;
the page shows them and, once it has all three, sends one to /queue/ws.from.browser with a
receipt, which the TCP client must receive. Prints one line per step; exits 0 when all held, 1
with the reason otherwise."""

import http.server
import os
import sys
import threading
import time

import browser_support
import stomp
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 20

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>STOMP over WebSocket</title></head>
<body>
<p>state: <span id="state">starting</span>, sub-protocol: <span id="protocol"></span>,
receipt: <span id="receipt"></span>, error: <span id="error"></span></p>
<ul id="messages"></ul>
<script>
const wsPort = %d;
const expected = 3;
const $ = (id) => document.getElementById(id);
function frame(command, headers, body) {
  let text = command + "\\n";
  for (const [k, v] of Object.entries(headers)) text += k + ":" + v + "\\n";
  return text + "\\n" + (body || "") + "\\0";
}
function parse(data) {
  const end = data.indexOf("\\0");
  const [head, ...rest] = data.substring(0, end < 0 ? data.length : end).split("\\n\\n");
  const lines = head.replace(/^\\n+/, "").split("\\n");
  const headers = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (!(line.substring(0, colon) in headers))
      headers[line.substring(0, colon)] = line.substring(colon + 1);
  }
  return {command: lines[0], headers: headers, body: rest.join("\\n\\n")};
}
const received = [];
const ws = new WebSocket("ws://127.0.0.1:" + wsPort + "/", ["v12.stomp", "v11.stomp", "v10.stomp"]);
ws.onopen = () => {
  $("protocol").textContent = ws.protocol;
  ws.send(frame("CONNECT", {"accept-version": "1.2", "host": "localhost", "heart-beat": "0,0"}));
};
ws.onmessage = (event) => {
  if (event.data === "\\n") return;  // a heart-beat
  const f = parse(event.data);
  if (f.command === "CONNECTED") {
    ws.send(frame("SUBSCRIBE", {"id": "0", "destination": "/queue/ws.to.browser", "ack": "auto",
                                "receipt": "subscribed"}));
  } else if (f.command === "RECEIPT" && f.headers["receipt-id"] === "subscribed") {
    $("state").textContent = "subscribed";
  } else if (f.command === "RECEIPT") {
    $("receipt").textContent = f.headers["receipt-id"];
  } else if (f.command === "MESSAGE") {
    received.push(f.body);
    const li = document.createElement("li");
    li.textContent = f.body;
    $("messages").appendChild(li);
    if (received.length === expected)
      ws.send(frame("SEND", {"destination": "/queue/ws.from.browser", "persistent": "true",
                             "receipt": "sent"}, "from the browser: got " + received.join("|")));
  } else if (f.command === "ERROR") {
    $("error").textContent = f.headers["message"] || f.body;
  }
};
ws.onclose = (event) => { $("state").textContent = "closed " + event.code; };
</script>
</body></html>
"""


class Collector(stomp.ConnectionListener):
    def __init__(self):
        self.bodies = []

    def on_message(self, frame):
        self.bodies.append(frame.body)


def serve_page(ws_port):
    body = (PAGE % ws_port).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for(predicate, what):
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def main():
    ws_port, stomp_port, shots = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    server = serve_page(ws_port)
    tcp = stomp.Connection12([("127.0.0.1", stomp_port)], reconnect_attempts_max=1)
    got = Collector()
    tcp.set_listener("got", got)
    tcp.connect(wait=True)
    tcp.subscribe("/queue/ws.from.browser", id="tcp", ack="auto")
    with browser_support.chromium(window="1000,700") as driver:
        try:
            wait = WebDriverWait(driver, WAIT)
            driver.get("http://127.0.0.1:%d/" % server.server_address[1])
            wait.until(lambda d: d.find_element(By.ID, "state").text != "starting")
            state = driver.find_element(By.ID, "state").text
            if state != "subscribed":
                wait.until(lambda d: d.find_element(By.ID, "state").text == "subscribed")
            print("page: subscribed over sub-protocol "
                  + driver.find_element(By.ID, "protocol").text)
            for i in range(3):
                tcp.send("/queue/ws.to.browser", "hello browser %d" % i,
                         headers={"persistent": "true"})
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#messages li")) == 3)
            shown = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#messages li")]
            print("page shows: " + " | ".join(shown))
            if shown != ["hello browser %d" % i for i in range(3)]:
                raise AssertionError("the page shows %r" % shown)
            wait.until(lambda d: d.find_element(By.ID, "receipt").text == "sent")
            print("page: its SEND got a receipt")
            wait_for(lambda: len(got.bodies) == 1, "the TCP client to receive the page's message")
            print("tcp client received: " + got.bodies[0])
            error = driver.find_element(By.ID, "error").text
            if error:
                raise AssertionError("the page got an ERROR: " + error)
            driver.save_screenshot(os.path.join(shots, "stomp_ws.png"))
        except Exception as e:  # noqa: BLE001 (any failure is reported the same way)
            browser_support.report_failure(driver, shots, "stomp_ws_failed.png", e)
            return 1
        finally:
            tcp.disconnect()
            server.shutdown()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
