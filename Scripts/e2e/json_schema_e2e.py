#!/usr/bin/env python3
"""`muse run --json-schema` on SmolLM2, end to end: for one schema per supported feature and
several seeds at a high temperature, every output must be valid JSON that the `jsonschema`
package (pinned in Scripts/golden/json_schema_golden.py) accepts, and must end because its
JSON was complete (finish: stop). Also: a bad schema file is refused with its name and the
keyword. Run by json_schema_e2e.sh (which builds muse); about 2.5 minutes on 2 cores.

    python3 Scripts/e2e/json_schema_e2e.py MUSE_BINARY MODEL.gguf
"""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema

SEEDS = (1, 2, 3)
# What each run asks for; a recursive schema needs a prompt that lets the model stop nesting
# (the grammar admits any depth, SmolLM2 at 1.2 otherwise nests bosses until the token limit).
PROMPTS = {"defs-ref-recursion": 'Write a JSON person whose boss is null, like {"name": "Ann", "boss": null}.'}
TEMPERATURE = "1.2"

SCHEMAS = {
    "object-required-nullable-enum": {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 30}, "role": {"enum": ["admin", "user", "guest"]},
                       "nickname": {"type": ["string", "null"], "maxLength": 20}, "active": {"type": "boolean"}},
        "required": ["name", "role", "nickname", "active"], "additionalProperties": False},
    "optional-properties": {
        "type": "object",
        "properties": {"title": {"type": "string", "maxLength": 30}, "year": {"type": "integer"},
                       "rating": {"type": "number"}},
        "required": ["title"], "additionalProperties": False},
    "array-min-max-items": {
        "type": "object", "properties": {"colours": {"type": "array", "items": {"type": "string", "maxLength": 12},
                                                     "minItems": 2, "maxItems": 4}},
        "required": ["colours"], "additionalProperties": False},
    "any-of": {
        "type": "object", "properties": {"value": {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 10},
                                                             {"type": "null"}]}},
        "required": ["value"], "additionalProperties": False},
    "one-of-const": {
        "oneOf": [{"type": "object", "properties": {"kind": {"const": "circle"}, "radius": {"type": "number"}},
                   "required": ["kind", "radius"], "additionalProperties": False},
                  {"type": "object", "properties": {"kind": {"const": "square"}, "side": {"type": "number"}},
                   "required": ["kind", "side"], "additionalProperties": False}]},
    "defs-ref-recursion": {
        "$defs": {"person": {"type": "object",
                             "properties": {"name": {"type": "string", "maxLength": 10},
                                            "boss": {"anyOf": [{"$ref": "#/$defs/person"}, {"type": "null"}]}},
                             "required": ["name", "boss"], "additionalProperties": False}},
        "$ref": "#/$defs/person"},
    "integer-ranges": {
        "type": "object", "properties": {"age": {"type": "integer", "minimum": 18, "maximum": 65},
                                         "temp": {"type": "integer", "exclusiveMinimum": -40, "exclusiveMaximum": 5},
                                         "count": {"type": "integer", "minimum": 1000}},
        "required": ["age", "temp", "count"], "additionalProperties": False},
    "string-lengths-pattern": {
        "type": "object", "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2,4}$"},
                                         "word": {"type": "string", "minLength": 3, "maxLength": 8}},
        "required": ["code", "word"], "additionalProperties": False},
    "formats-dates": {
        "type": "object", "properties": {"day": {"type": "string", "format": "date"},
                                         "at": {"type": "string", "format": "time"},
                                         "when": {"type": "string", "format": "date-time"}},
        "required": ["day", "at", "when"], "additionalProperties": False},
    "formats-ids": {
        "type": "object", "properties": {"id": {"type": "string", "format": "uuid"},
                                         "email": {"type": "string", "format": "email"}},
        "required": ["id", "email"], "additionalProperties": False},
}


def main():
    muse, model = sys.argv[1], sys.argv[2]
    failures = []
    runs = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, schema in SCHEMAS.items():
            path = Path(tmp) / f"{name}.json"
            path.write_text(json.dumps(schema))
            validator = jsonschema.Draft202012Validator(
                schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
            for seed in SEEDS:
                runs += 1
                proc = subprocess.run(
                    [muse, "run", "-m", model, "--json-schema", str(path), "--temp", TEMPERATURE, "--seed", str(seed),
                     "-n", "600", "-p", PROMPTS.get(name, f"Write one example JSON value for '{name}'.")],
                    capture_output=True, text=True, timeout=120)
                out = proc.stdout.rstrip("\n")
                finish = re.search(r"finish: (\w+)", proc.stderr)
                problem = None
                if proc.returncode != 0:
                    problem = f"exit {proc.returncode}: {proc.stderr[-300:]}"
                elif not finish or finish.group(1) != "stop":
                    problem = f"finish {finish.group(1) if finish else '?'}"
                else:
                    try:
                        errors = list(validator.iter_errors(json.loads(out)))
                        if errors:
                            problem = "; ".join(e.message for e in errors[:3])
                    except json.JSONDecodeError as e:
                        problem = f"not JSON: {e}"
                status = "ok " if problem is None else "BAD"
                print(f"{status} {name} seed {seed}: {out[:140]!r}" + (f" -- {problem}" if problem else ""))
                if problem:
                    failures.append((name, seed, problem))
        # A schema Muse cannot enforce is refused before the model loads, naming file and keyword.
        bad = Path(tmp) / "bad.json"
        bad.write_text(json.dumps({"type": "object", "properties": {"a": {"type": "string", "not": {"const": "x"}}}}))
        proc = subprocess.run([muse, "run", "-m", model, "--json-schema", str(bad), "-p", "x"],
                              capture_output=True, text=True, timeout=60)
        expected = f"{bad}: unsupported JSON Schema keyword 'not' at #/properties/a"
        if proc.returncode == 0 or expected not in proc.stderr:
            failures.append(("bad-schema", 0, f"expected refusal, got rc {proc.returncode}: {proc.stderr[-300:]}"))
    print(f"{runs - len([f for f in failures if f[1]])} of {runs} constrained outputs valid")
    if failures:
        for f in failures:
            print("FAILED:", *f)
        sys.exit(1)


if __name__ == "__main__":
    main()
