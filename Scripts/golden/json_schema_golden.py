#!/usr/bin/env python3
"""JSON Schema verdicts from an independent reference (the `jsonschema` package, pinned) for the
constrained-decoding grammar: per schema feature, compact JSON instances (properties in schema
order) with jsonschema's valid/invalid verdict, Draft 2020-12 with format checking. The Swift test
(Tests/MuseEngineTests/JSONSchemaGoldenTests.swift) checks that Muse's grammar accepts exactly the
valid ones.

Where Muse deliberately generates a subset of the valid instances (a documented policy: schema
order, integers without fractions, the whitespace bound, no leap-year check, a stricter email),
the instance carries `"grammar": false` and the `policy` it falls under; such an instance must be
valid (the grammar never accepts an invalid one), which this script asserts.

    python3 Scripts/golden/json_schema_golden.py   # -> Tests/Fixtures/golden/json-schema.json
"""

import json
import pathlib
import random

import jsonschema  # pinned: PINNED below

PINNED = "4.26.0"
from importlib.metadata import version  # noqa: E402

assert version("jsonschema") == PINNED, f"jsonschema {version('jsonschema')} != {PINNED} (pip install jsonschema=={PINNED})"

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/Fixtures/golden/json-schema.json"


def dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


CASES = []


def case(name, schema, instances, policy=None):
    """instances: Python values (dumped compactly) or raw JSON text (str starting with '\x00RAW')."""
    policy = policy or {}
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    rows = []
    for inst in instances:
        if isinstance(inst, Raw):
            text = inst.text
            value = json.loads(text)
        else:
            value = inst
            text = dumps(value)
        valid = validator.is_valid(value)
        row = {"json": text, "valid": valid, "grammar": valid}
        if text in policy:
            assert valid, f"{name}: policy instance {text} must be valid"
            row["grammar"] = False
            row["policy"] = policy[text]
        rows.append(row)
    assert any(r["valid"] for r in rows) and any(not r["valid"] for r in rows), name
    CASES.append({"name": name, "schema": json.dumps(schema, ensure_ascii=False), "instances": rows})


class Raw:
    def __init__(self, text):
        self.text = text


ORDER = "properties are generated in schema order"

case(
    "object-required-closed",
    {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
     "required": ["name", "age"], "additionalProperties": False},
    [{"name": "Ann", "age": 3}, {"name": "", "age": -12}, {"name": "Ann"}, {"age": 3},
     {"name": "Ann", "age": 3, "x": 1}, {"name": 1, "age": 3}, {"name": "Ann", "age": 3.5}, [],
     "str", Raw('{"age":3,"name":"Ann"}'), Raw('{ "name" : "A" ,\n  "age": 1 }'),
     Raw('{"name":"A",' + " " * 30 + '"age":1}')],
    policy={'{"age":3,"name":"Ann"}': ORDER,
            '{"name":"A",' + " " * 30 + '"age":1}': "at most one space or a newline and 20 blanks between tokens"},
)

case(
    "object-optional",
    {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "boolean"}, "c": {"type": "null"}},
     "required": ["b"], "additionalProperties": False},
    [{"b": True}, {"a": 1, "b": False}, {"b": True, "c": None}, {"a": 1, "b": True, "c": None}, {}, {"a": 1},
     {"a": 1, "c": None}, {"b": True, "d": 1}, Raw('{"b":true,"a":1}')],
    policy={'{"b":true,"a":1}': ORDER},
)

case(
    "object-all-optional",
    {"type": "object", "properties": {"x": {"type": "string"}, "y": {"type": "string"}}, "additionalProperties": False},
    [{}, {"x": "1"}, {"y": "2"}, {"x": "1", "y": "2"}, {"x": 1}, {"z": "3"}, None],
)

case(
    "object-open-extra-properties",
    {"type": "object", "properties": {"x": {"type": "integer"}}},
    [{"x": 1}, {}, {"x": "no"}, Raw('{"x":1,"y":2}'), 5],
    policy={'{"x":1,"y":2}': "additional properties beside `properties` are never generated"},
)

case(
    "object-additional-schema",
    {"type": "object", "additionalProperties": {"type": "integer"}},
    [{}, {"a": 1}, {"a": 1, "b": -2}, {"a": "x"}, {"a": 1, "b": None}, []],
)

case(
    "any-object",
    {"type": "object"},
    [{}, {"a": [1, {"b": None}], "c": "d"}, {"k": 1.5e3}, [], "x", 3, None],
)

case(
    "nested-arrays-and-objects",
    {"type": "object",
     "properties": {"tags": {"type": "array", "items": {"type": "string"}},
                    "points": {"type": "array", "items": {"type": "object",
                               "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                               "required": ["x", "y"], "additionalProperties": False}}},
     "required": ["tags", "points"], "additionalProperties": False},
    [{"tags": [], "points": []}, {"tags": ["a", "b"], "points": [{"x": 1, "y": 2.5}, {"x": -0.5, "y": 1e3}]},
     {"tags": [1], "points": []}, {"tags": [], "points": [{"x": 1}]}, {"tags": "a", "points": []}],
)

case(
    "array-min-max-items",
    {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 4},
    [[1, 2], [1, 2, 3], [1, 2, 3, 4], [], [1], [1, 2, 3, 4, 5], [1, "2"], {}],
)

case(
    "array-max-items-only",
    {"type": "array", "maxItems": 1},
    [[], [None], [[1, 2]], [1, 2]],
)

case(
    "enum",
    {"enum": ["red", "green", 3, None, True, {"k": [1]}, "with \"quote\""]},
    ["red", "green", 3, None, True, {"k": [1]}, "with \"quote\"", "blue", 4, False, "Red", {"k": [2]}],
)

case(
    "const",
    {"type": "object", "properties": {"kind": {"const": "circle"}, "r": {"type": "number"}},
     "required": ["kind", "r"], "additionalProperties": False},
    [{"kind": "circle", "r": 1}, {"kind": "square", "r": 1}, {"kind": "circle"}],
)

case(
    "any-of",
    {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer", "minimum": 10},
               {"type": "array", "items": {"type": "boolean"}}]},
    ["", "abc", "abcd", 10, 11, 9, [], [True, False], [1], None],
)

case(
    "one-of-disjoint-types",
    {"oneOf": [{"type": "string"}, {"type": "boolean"}, {"type": "object", "properties": {"a": {"type": "null"}},
                                                       "required": ["a"], "additionalProperties": False}]},
    ["x", True, {"a": None}, {"a": 1}, 1, None],
)

case(
    "nullable-type-list",
    {"type": "object", "properties": {"note": {"type": ["string", "null"]}, "n": {"type": ["integer", "null"]}},
     "required": ["note", "n"], "additionalProperties": False},
    [{"note": "x", "n": 1}, {"note": None, "n": None}, {"note": 1, "n": None}, {"note": "x", "n": "1"}],
)

case(
    "defs-ref-recursion",
    {"$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer"},
                                                         "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                        "required": ["value", "children"], "additionalProperties": False}},
     "$ref": "#/$defs/node"},
    [{"value": 1, "children": []}, {"value": 1, "children": [{"value": 2, "children": [{"value": 3, "children": []}]}]},
     {"value": 1}, {"value": 1, "children": [{"value": "2", "children": []}]}, []],
)

case(
    "definitions-ref",
    {"type": "object", "properties": {"a": {"$ref": "#/definitions/pos"}, "b": {"$ref": "#/definitions/pos"}},
     "required": ["a"], "additionalProperties": False,
     "definitions": {"pos": {"type": "integer", "minimum": 1}}},
    [{"a": 1}, {"a": 2, "b": 3}, {"a": 0}, {"a": 1, "b": -1}],
)

case(
    "string-length",
    {"type": "string", "minLength": 2, "maxLength": 5},
    ["ab", "abcde", "héllo", "a", "abcdef", "\n\t", "a\"b", 12],
)

case(
    "string-unicode-escapes",
    {"type": "string"},
    ["", "héllo wörld", "😀", "tab\there", "quote\"back\\slash", Raw('"\\u00e9"'), Raw('"\\/"'), 1, None],
)

for i, (pattern, instances) in enumerate([
    ("^[a-z]+-[0-9]{2,3}$", ["ab-12", "x-123", "x-1", "X-12", "ab-1234", "ab12"]),
    ("^(foo|bar)?baz$", ["baz", "foobaz", "barbaz", "fobaz", "foobarbaz"]),
    ("^\\d{3}\\.\\d+$", ["123.4", "123.45", "12.4", "123.", "a23.4"]),
    ("^[^\\s@]+@[^\\s@]+$", ["a@b", "a b@c", "a@b@c", "x.y@z"]),
    ("^(?:[A-Z][a-z]*)(?: [A-Z][a-z]*)*$", ["Ann", "Ann Lee", "ann", "Ann lee", "Ann  Lee"]),
    ("ab", ["ab", "xaby", "a", "ba"]),
    ("^a.c$", ["abc", "a-c", "ac", "a\"c", "abbc"]),
    ("^\"q\"$", ["\"q\"", "q"]),
    ("^[\\w]{1,4}$", ["a_1", "abcd", "abcde", "a-b"]),
]):
    case(f"pattern-{i}", {"type": "string", "pattern": pattern}, instances)

case(
    "format-date",
    {"type": "string", "format": "date"},
    ["2024-02-29", "2024-12-31", "1999-01-01", "2024-04-31", "2024-13-01", "2024-00-10", "2024-1-01", "0000-01-01",
     "24-01-01"],
)
# Not here: 2023-02-29, which jsonschema refuses (not a leap year) but the grammar accepts
# (February has 29 days in every year): the one known way the grammar is wider than the schema.

case(
    "format-time",
    {"type": "string", "format": "time"},
    ["12:00:00Z", "23:59:59.123+02:00", "00:00:00-11:30", "12:00:00", "24:00:00Z", "12:60:00Z", "1:00:00Z"],
)

case(
    "format-date-time",
    {"type": "string", "format": "date-time"},
    ["2024-01-01T12:00:00Z", "2024-06-30T23:59:59.5+01:00", "2024-01-01 12:00:00Z", "2024-01-01T25:00:00Z",
     "2024-06-31T00:00:00Z"],
)

case(
    "format-uuid",
    {"type": "string", "format": "uuid"},
    ["123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000", "123e4567e89b12d3a456426614174000",
     "123e4567-e89b-12d3-a456-42661417400", "g23e4567-e89b-12d3-a456-426614174000"],
)

case(
    "format-email",
    {"type": "string", "format": "email"},
    ["ann@example.com", "a.b+c@mail.example.org", "no-at-sign", Raw('"a@b"')],
    policy={'"a@b"': "emails are generated as local@domain.tld"},
)

case(
    "primitives",
    {"type": "array", "items": {"type": ["number", "boolean", "null"]}},
    [[1, -2.5, 3e10, 0, True, None], [1.5e-3], ["x"], [{}], Raw("[1.0]"), Raw("[-0]")],
)

case(
    "integer-plain",
    {"type": "integer"},
    [0, -1, 123456789, 1.5, "1", Raw("1.0")],
    policy={"1.0": "integers are written without a fraction"},
)

case(
    "number-minimum-zero",
    {"type": "number", "minimum": 0},
    [0, 1.5, 1e3, 100, -1, -0.5],
)

# Integer ranges: exact digit-by-digit grammars, checked against many values.
rng = random.Random(18)
ranges = [
    {"minimum": -15, "maximum": 123}, {"minimum": 7, "maximum": 7}, {"exclusiveMinimum": 0, "maximum": 1000},
    {"minimum": -1000, "maximum": -10}, {"minimum": 95}, {"maximum": 5}, {"exclusiveMaximum": -3},
    {"minimum": 0, "maximum": 9}, {"minimum": 10, "maximum": 99}, {"minimum": 1, "exclusiveMaximum": 100000},
    {"minimum": 2.5, "maximum": 7.5},
]
for _ in range(12):
    a = rng.randint(-5000, 5000)
    b = a + rng.randint(0, 20000)
    ranges.append({"minimum": a, "maximum": b})
for i, bounds in enumerate(ranges):
    values = set(range(-30, 31)) | {rng.randint(-100000, 100000) for _ in range(40)}
    for v in bounds.values():
        for d in (-2, -1, 0, 1, 2):
            values.add(int(v) + d)
    values |= {9, 10, 11, 99, 100, 101, 999, 1000, 1001, -9, -10, -99, -100, -101, 123456789012}
    case(f"integer-range-{i}", {"type": "integer", **bounds}, sorted(values))

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"generator": "Scripts/golden/json_schema_golden.py", "jsonschema": PINNED,
                           "cases": CASES}, ensure_ascii=False, indent=1) + "\n")
print(f"{OUT}: {len(CASES)} schemas, {sum(len(c['instances']) for c in CASES)} instances")
