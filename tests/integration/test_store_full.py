"""A full store: producers get a clear "store full" error, nothing stored is lost, the node keeps
serving, and space freed by consumers is used again."""

import unittest

import harness


class StoreFullTest(harness.NodeTestCase):

    def test_full_store_refuses_sends_and_keeps_serving(self):
        node = self.start_node("full-it", extra_config="store { max_size_mb: 1 }\n")
        # 64 KiB bodies fill a 1 MiB map after a dozen or so messages.
        p = self.produce(node, "queue://full", 200, messageSize=65536, check=False, timeout=60)
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("the store is full", p.stderr, p.describe())
        n = harness.produced_count(p.stderr)
        self.assertIsNotNone(n, p.describe())
        self.assertGreater(n, 0, p.describe())
        self.assertLess(n, 200, p.describe())
        self.assertTrue(node.running(), "the node died when its store filled\n" + node.describe())

        # Everything receipted is there, exactly once; consuming frees the space.
        self.assertEqual(self.dstat(node)["queue://full"]["pending"], n)
        c = self.consume(node, "queue://full", n, receiveTimeout=10000, timeout=60)
        self.assertEqual(len(c.lines), n, c.describe())
        self.assertTrue(all(len(line) == 65536 for line in c.lines), "a body changed")

        again = self.produce(node, "queue://full", 3, messageSize=65536, timeout=60)
        self.assertEqual(again.returncode, 0, again.describe())
        self.assertEqual(self.dstat(node)["queue://full"]["pending"], 3)


if __name__ == "__main__":
    unittest.main()
