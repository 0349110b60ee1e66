"""docs/configuration.md and config/node.proto name the same keys: a key documented but not in
the schema, or in the schema but not documented, fails (with the lists)."""

import os
import re
import unittest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PROTO = os.path.join(ROOT, "config", "node.proto")
DOCS = os.path.join(ROOT, "docs", "configuration.md")

# Repeated blocks whose keys the docs list bare under their own heading.
BLOCKS = {"network_connectors"}

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
    keys = set()
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
        m = re.match(r"^\|\s*`([\w.]+)`\s*\|", line)
        if m:
            keys.add("%s.%s" % (block, m.group(1)) if block else m.group(1))
    return keys


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


if __name__ == "__main__":
    unittest.main()
