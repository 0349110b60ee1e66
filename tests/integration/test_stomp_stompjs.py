"""STOMP over WebSocket from a real library (docs/stomp.md): a page with @stomp/stompjs, fetched
from npm at test time (stompjs_support.py), in headless Chromium subscribes over the ws listener,
shows what `actormq producer` sends and publishes one message that `actormq consumer` receives
(browser_stompjs.py). In CI a bundle that cannot be fetched fails the test; elsewhere it skips,
saying why."""

import os
import unittest

import harness
import stompjs_support
import test_stomp_ws as stomp_ws
import ws_support as ws

HERE = os.path.dirname(os.path.abspath(__file__))


class StompJsBrowserTest(harness.NodeTestCase):

    def test_a_stompjs_page_talks_to_the_cli(self):
        why = stomp_ws.browser_missing()
        if why:
            self.skipTest(why)
        bundle, why = stompjs_support.fetch_bundle()
        if bundle is None:
            message = "@stomp/stompjs could not be fetched from npm: " + why
            if stompjs_support.in_ci():
                self.fail(message)
            self.skipTest(message)
        node = ws.ws_node(self, "stompjs")
        shots = os.environ.get("ACTORMQ_IT_SCREENSHOTS") or os.path.join(self.workdir, "shots")
        os.makedirs(shots, exist_ok=True)
        p = self.run_program([stomp_ws._browser_python(), os.path.join(HERE, "browser_stompjs.py"),
                              str(node.ws_port), node.client_url, harness.cli_binary(), bundle,
                              shots], "browser", 110)
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertIn("page: subscribed with function", p.stdout)
        sent = ["textMessage:%d" % i for i in range(3)]
        self.assertIn("page shows: " + " | ".join(sent), p.stdout)
        self.assertIn("cli consumer received: from stompjs: got " + "|".join(sent), p.stdout)


if __name__ == "__main__":
    unittest.main()
