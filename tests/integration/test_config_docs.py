"""docs/configuration.md and config/node.proto name the same keys: a key documented but not in
the schema, or in the schema but not documented, fails (with the lists). The defaults the docs
give are the node's (config/defaults.hpp, as `actormq-node --dump-config` prints them)."""

import os
import re
import subprocess
import tempfile
import unittest

import harness

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PROTO = os.path.join(ROOT, "config", "node.proto")
DOCS = os.path.join(ROOT, "docs", "configuration.md")

# Repeated blocks whose keys the docs list bare under their own heading.
BLOCKS = {"network_connectors", "destination_policies"}

FIELD = re.compile(r"^\s*(?:optional|repeated|required)?\s*([A-Za-z_][\w.]*)\s+(\w+)\s*=\s*\d+")


def proto_messages(text):
    """{message name: [(type, field name)]} of a proto file with unnested messages."""
    messages = {}
    current = None
    for line in text.splitlines():
        line = line.split("//", 1)[0]
        m = re.match(r"^\s*message\s+(\w+)\s*\{", line)
        if m:
            current = messages.setdefault(m.group(1), [])
            continue
        if re.match(r"^\s*\}", line):
            current = None
            continue
        f = FIELD.match(line)
        if f and current is not None:
            current.append((f.group(1), f.group(2)))
    return messages


def schema_keys():
    with open(PROTO) as f:
        messages = proto_messages(f.read())
    keys = set()
    for type_name, name in messages["NodeConfig"]:
        if type_name in messages:
            for _, sub in messages[type_name]:
                keys.add("%s.%s" % (name, sub))
        else:
            keys.add(name)
    return keys


def documented_keys():
    return set(documented_defaults())


def documented_defaults():
    """{key: the text of its default column} of the docs' key tables."""
    keys = {}
    in_keys = False
    block = None
    with open(DOCS) as f:
        lines = f.read().splitlines()
    for line in lines:
        if line.startswith("## "):
            in_keys = line.strip() == "## Keys"
            continue
        if not in_keys:
            continue
        if line.startswith("### "):
            block = next((b for b in BLOCKS if "`%s`" % b in line), None)
            continue
        m = re.match(r"^\|\s*`([\w.]+)`\s*\|[^|]*\|([^|]*)\|", line)
        if m:
            key = "%s.%s" % (block, m.group(1)) if block else m.group(1)
            keys[key] = m.group(2).strip()
    return keys


def documented_value(text):
    """The value a default column names ("5000 ms" -> "5000", '`"info"`' -> '"info"'), or None
    for one that names no value (none, **required**, standard error, ...)."""
    m = re.match(r'^`("[^"]*")`', text)
    if m:
        return m.group(1)
    m = re.match(r"^(\d+|true|false)\b", text)
    if m:
        return m.group(1)
    return None


def dumped_values(text):
    """{key: value text} of `actormq-node --dump-config` (Protobuf text format, blocks one deep;
    a repeated block's keys under the block's name)."""
    values = {}
    block = None
    for line in text.splitlines():
        line = line.strip()
        m = re.match(r"^(\w+)\s*\{$", line)
        if m:
            block = m.group(1)
            continue
        if line == "}":
            block = None
            continue
        m = re.match(r"^(\w+):\s*(.*)$", line)
        if m:
            values["%s.%s" % (block, m.group(1)) if block else m.group(1)] = m.group(2)
    return values


class ConfigDocsTest(unittest.TestCase):

    def test_every_schema_key_is_documented_and_every_documented_key_exists(self):
        schema = schema_keys()
        documented = documented_keys()
        self.assertGreater(len(schema), 40, sorted(schema))
        self.assertEqual(sorted(documented - schema), [],
                         "documented in docs/configuration.md but not in config/node.proto")
        self.assertEqual(sorted(schema - documented), [],
                         "in config/node.proto but not documented in docs/configuration.md")

    def test_the_parsers_see_the_keys_they_must(self):
        # Guards the test above against parsers that see nothing.
        self.assertIn("store.auto_ack_delay_ms", schema_keys())
        self.assertIn("network_connectors.statically_included_destinations", schema_keys())
        self.assertIn("store.auto_ack_delay_ms", documented_keys())
        self.assertIn("network_connectors.duplex", documented_keys())
        self.assertIn("name", documented_keys())


class ConfigDefaultsDocsTest(unittest.TestCase):

    def test_every_documented_default_is_the_nodes_default(self):
        if not os.access(harness.node_binary(), os.X_OK):
            self.fail("actormq-node not found at %s (set ACTORMQ_BIN_DIR)" % harness.node_binary())
        with tempfile.TemporaryDirectory(prefix="actormq-defaults-") as d:
            conf = os.path.join(d, "node.conf")
            with open(conf, "w") as f:
                # Empty stomp and ws blocks: those listeners are off without them, and take
                # their defaults with them (replication too, with its one required key).
                f.write('name: "defaults"\ndata_dir: "%s"\nstomp { }\nws { }\n'
                        'replication { zk_address: "127.0.0.1:1" }\n'
                        'network_connectors { uri: "static:(tcp://127.0.0.1:1)" }\n'
                        'destination_policies { queue: ">" }\n' % d)
            out = subprocess.run([harness.node_binary(), "-c", conf, "--dump-config"],
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        dumped = dumped_values(out.stdout)
        self.assertEqual(dumped.get("store.max_batch"), "1024", out.stdout)  # the parser reads it
        compared = 0
        wrong = []
        for key, text in sorted(documented_defaults().items()):
            value = documented_value(text)
            if value is None or key == "network_connectors.name":  # checked below
                continue
            compared += 1
            # Protobuf's text format leaves out a scalar at its zero value (false, 0).
            actual = dumped.get(key, "false" if value == "false" else "0" if value == "0" else None)
            if actual != value:
                wrong.append("%s: documented %s, the node's default %s" % (key, value, actual))
        self.assertEqual(wrong, [])
        self.assertGreaterEqual(compared, 40)
        # The connector's name: "connector<N>" in the docs, N from 0.
        self.assertEqual(dumped.get("network_connectors.name"), '"connector0"')


if __name__ == "__main__":
    unittest.main()
