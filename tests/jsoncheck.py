#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Validate vxray's JSON lines against docs/schema (docs/JSON.md).

    tests/jsoncheck.py SCHEMA_DIR FILE...

Every line of every FILE that starts with '{' is a record: its "type" picks
the schema file whose "type" const or enum names it, and the record must
validate (additionalProperties false: a key without a schema fails). Lines
that are not JSON objects are an error too, unless they start with '#'.
Prints one line per problem, then "N records: TYPE=COUNT ..." on the last
line; exits 1 on any problem. Debian's python3-jsonschema (/usr/bin/python3).
"""
import glob
import json
import os
import sys

import jsonschema


def load_schemas(d):
    by_type = {}
    for path in sorted(glob.glob(os.path.join(d, "*.schema.json"))):
        with open(path) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        t = schema.get("properties", {}).get("type", {})
        names = [t["const"]] if "const" in t else t.get("enum", [])
        if not names:
            sys.exit(f"{path}: its 'type' property has no const or enum")
        v = jsonschema.Draft202012Validator(schema)
        for n in names:
            if n in by_type:
                sys.exit(f"{path}: type {n!r} already has a schema")
            by_type[n] = (os.path.basename(path), v)
    return by_type


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    schemas = load_schemas(sys.argv[1])
    seen, problems = {}, 0
    for path in sys.argv[2:]:
        with open(path, errors="surrogateescape") as f:
            for no, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                where = f"{path}:{no}"
                try:
                    rec = json.loads(line)
                except ValueError as e:
                    print(f"{where}: not JSON ({e}): {line[:120]}")
                    problems += 1
                    continue
                if not isinstance(rec, dict):
                    print(f"{where}: not a JSON object: {line[:120]}")
                    problems += 1
                    continue
                t = rec.get("type")
                if t not in schemas:
                    print(f"{where}: no schema for type {t!r}: {line[:120]}")
                    problems += 1
                    continue
                name, v = schemas[t]
                for err in sorted(v.iter_errors(rec), key=lambda e: list(e.path)):
                    at = "/".join(str(p) for p in err.path) or "(record)"
                    print(f"{where}: {t} ({name}) at {at}: {err.message[:200]}")
                    problems += 1
                seen[t] = seen.get(t, 0) + 1
    total = sum(seen.values())
    print(f"{total} records: " + " ".join(f"{t}={n}" for t, n in sorted(seen.items())))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
