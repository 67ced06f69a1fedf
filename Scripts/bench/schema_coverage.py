#!/usr/bin/env python3
"""How much of the JSON-Schema-Test-Suite (draft 2020-12, non-optional files) Muse compiles and obeys.

    python3 Scripts/bench/schema_coverage.py .build/debug/muse [--llama] [--json OUT.json]

The suite comes from the sdist of the pinned `jsonschema==4.26.0` on PyPI (it ships the suite under
`json/tests/`), cached in ${MUSE_CACHE_DIR:-~/.cache/muse}/pip/. Each test group (one schema and
its instances) is one `muse schema check SCHEMA --instances FILE` run:

- compiled vs refused (refusals grouped by the keyword Muse names);
- for compiled groups, each instance's text (compact JSON, as written in the suite) is matched
  against the grammar to completion: "valid accepted" and "invalid rejected" are counted apart.
  A group is *obeyed* when every invalid instance is rejected (generation can then never produce
  an invalid value). The grammar fixes property order (as written in the schema) and number
  spelling, so a valid instance it rejects is tried again with its keys in schema order, required
  ones first, and integral floats written as integers: those accepted then are counted as
  "rejected only for formatting/order".

With --llama, the same groups go through llama.cpp's pure-Python converter
(`examples/json_schema_to_grammar.py` from the `llama-cpp-python==0.3.16` sdist; llama.cpp is not
built): the fraction it converts without error, and — matching its GBNF with Muse's GBNF matcher
(`muse schema check --gbnf`, the matcher behind llama-server's `grammar` field) — how many of those
grammars reject every invalid instance.
"""

import argparse
import collections
import concurrent.futures
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

JSONSCHEMA = ("jsonschema", "4.26.0", "0c26707e2efad8aa1bfc5b7ce170f3fccc2e4918ff85989ba9ffa9facb2be326")
LLAMA = ("llama-cpp-python", "0.3.16", "34ed0f9bd9431af045bb63d9324ae620ad0536653740e9bb163a2e1fcb973be6")
SUITE_DIR = "json/tests/draft2020-12/"
CONVERTER = "vendor/llama.cpp/examples/json_schema_to_grammar.py"


def sdist(name, version, sha256):
    cache = os.path.join(os.environ.get("MUSE_CACHE_DIR", os.path.expanduser("~/.cache/muse")), "pip")
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, f"{name.replace('-', '_')}-{version}.tar.gz")

    def digest():
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    if not os.path.exists(path) or digest() != sha256:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "--disable-pip-version-check", "--dest", cache, f"{name}=={version}"],
            check=True, stdout=sys.stderr)
    if digest() != sha256:
        sys.exit(f"{path}: sha256 {digest()} is not the pinned {sha256}")
    return path


def suite_groups():
    """(file, index, group) for every group of the non-optional draft 2020-12 files, in name order."""
    groups = []
    with tarfile.open(sdist(*JSONSCHEMA)) as tar:
        members = [m for m in tar.getmembers()
                   if m.isfile() and m.name.endswith(".json") and SUITE_DIR in m.name
                   and "/optional/" not in m.name and m.name.split(SUITE_DIR, 1)[1].count("/") == 0]
        for m in sorted(members, key=lambda m: m.name):
            for i, group in enumerate(json.load(tar.extractfile(m))):
                groups.append((os.path.basename(m.name), i, group))
    return groups


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def reorder(value, schema, required_first):
    """The value with object keys in the order the schema lists its properties (and recursed into)."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        order = list(props)
        if required_first and isinstance(schema.get("required"), list):
            order = [k for k in schema["required"] if k in props] + [k for k in order if k not in schema["required"]]
        keys = [k for k in order if k in value] + [k for k in value if k not in props]
        return {k: reorder(value[k], props.get(k), required_first) for k in keys}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [reorder(v, schema["items"], required_first) for v in value]
    return value


def integral(value):
    """Integral floats written as integers (1.0 -> 1), which the suite counts as integers."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


def variants(data, schema):
    """Other spellings of the same JSON value: key orders and integral numbers."""
    out = []
    for form in (reorder(data, schema, False), reorder(data, schema, True)):
        for v in (form, integral(form)):
            text = compact(v)
            if text != compact(data) and text not in out:
                out.append(text)
    return out


REFUSAL = re.compile(r"unsupported JSON Schema keyword '([^']+)'|(invalid JSON Schema)|(JSON Schema too complex)"
                     r"|(not JSON)|grammar line \d+, column \d+: ([^(\n]*)")


def check(muse, schema_text, tests, schema, gbnf=False):
    """Runs `muse schema check` on one group: None and the refusal when it does not compile, else
    per test (accepted as written, accepted in another spelling)."""
    with tempfile.TemporaryDirectory() as tmp:
        schema_path = os.path.join(tmp, "schema.gbnf" if gbnf else "schema.json")
        with open(schema_path, "w", encoding="utf-8") as f:
            f.write(schema_text)
        lines, spans = [], []
        for t in tests:
            texts = [compact(t["data"])] + (variants(t["data"], schema) if t["valid"] else [])
            spans.append((len(lines), len(texts)))
            lines += texts
        inst_path = os.path.join(tmp, "instances.jsonl")
        with open(inst_path, "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))
        cmd = [muse, "schema", "check", schema_path, "--instances", inst_path] + (["--gbnf"] if gbnf else [])
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return None, "timeout (120 s)"
        if r.returncode != 0:
            m = REFUSAL.search(r.stderr)
            if not m:
                return None, "other: " + r.stderr.strip()[-200:]
            return None, next(g for g in m.groups() if g).strip()
        answers = [json.loads(line)["accepted"] for line in r.stdout.splitlines()]
        if len(answers) != len(lines):
            return None, f"other: {len(answers)} answers for {len(lines)} instances"
        return [(answers[s], any(answers[s + 1:s + n])) for s, n in spans], None


def load_converter():
    path = os.path.join(os.environ.get("MUSE_CACHE_DIR", os.path.expanduser("~/.cache/muse")), "pip",
                        f"json_schema_to_grammar-{LLAMA[1]}.py")
    if not os.path.exists(path):
        with tarfile.open(sdist(*LLAMA)) as tar:
            text = tar.extractfile(f"llama_cpp_python-{LLAMA[1]}/{CONVERTER}").read()
        with open(path, "wb") as f:
            f.write(text)
    spec = importlib.util.spec_from_file_location("json_schema_to_grammar", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def llama_gbnf(module, schema):
    """llama.cpp's grammar for the schema, or the error it raises (type: first line)."""
    try:
        converter = module.SchemaConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
        resolved = converter.resolve_refs(schema, "input")
        converter.visit(resolved, "")
        return converter.format_grammar(), None
    except Exception as e:  # the converter raises ValueError, AssertionError, AttributeError, ...
        message = re.sub(r"(Unrecognized schema|Unsupported ref|Error resolving ref|object has no attribute).*",
                         r"\1", str(e).splitlines()[0] if str(e) else "")
        return None, f"{type(e).__name__}: {message[:80]}".rstrip(": ")


def score(name, results):
    """Totals for one engine's per-group (outcome, refusal, group) results."""
    s = dict(groups=len(results), compiled=0, refused=0, obeyed=0, agreed=0, valid=0, valid_accepted=0,
             valid_rejected_format=0, invalid=0, invalid_rejected=0, refusals=collections.Counter(),
             disobeyed=[])
    for (file, index, group), outcome, refusal in results:
        if outcome is None:
            s["refused"] += 1
            s["refusals"][refusal] += 1
            continue
        s["compiled"] += 1
        obeyed = agreed = True
        for t, (accepted, other_spelling) in zip(group["tests"], outcome):
            if t["valid"]:
                s["valid"] += 1
                s["valid_accepted"] += accepted
                s["valid_rejected_format"] += (not accepted) and other_spelling
                agreed &= accepted
            else:
                s["invalid"] += 1
                s["invalid_rejected"] += not accepted
                obeyed &= not accepted
                agreed &= not accepted
        s["obeyed"] += obeyed
        s["agreed"] += agreed
        if not obeyed:
            s["disobeyed"].append(f"{file}#{index} {group['description']}")
    s["name"] = name
    return s


def pct(a, b):
    return f"{100 * a / b:.1f} %" if b else "-"


def print_summary(scores):
    rows = [
        ("test groups", lambda s: str(s["groups"])),
        ("compiled", lambda s: f"{s['compiled']} ({pct(s['compiled'], s['groups'])})"),
        ("refused", lambda s: f"{s['refused']} ({pct(s['refused'], s['groups'])})"),
        ("obeyed (every invalid rejected)", lambda s: f"{s['obeyed']} ({pct(s['obeyed'], s['groups'])})"),
        ("  of compiled", lambda s: pct(s["obeyed"], s["compiled"])),
        ("agreed on every instance", lambda s: f"{s['agreed']} ({pct(s['agreed'], s['groups'])})"),
        ("invalid instances rejected", lambda s: f"{s['invalid_rejected']}/{s['invalid']} "
                                                 f"({pct(s['invalid_rejected'], s['invalid'])})"),
        ("valid instances accepted", lambda s: f"{s['valid_accepted']}/{s['valid']} "
                                               f"({pct(s['valid_accepted'], s['valid'])})"),
        ("  rejected only for order/format", lambda s: str(s["valid_rejected_format"])),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  " + "  ".join(f"{s['name']:>22}" for s in scores))
    for label, cell in rows:
        print(f"{label:{width}}  " + "  ".join(f"{cell(s):>22}" for s in scores))
    for s in scores:
        print(f"\n{s['name']}: refusals by keyword (top 10)")
        for keyword, n in s["refusals"].most_common(10):
            print(f"  {n:4d}  {keyword}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("muse", help="path of the muse binary, e.g. .build/debug/muse")
    ap.add_argument("--llama", action="store_true", help="also llama.cpp's json_schema_to_grammar.py")
    ap.add_argument("--json", metavar="OUT", help="write the totals and per-group outcomes as JSON")
    ap.add_argument("--jobs", type=int, default=2, help="muse processes at once (default 2)")
    args = ap.parse_args()
    muse = os.path.abspath(args.muse)
    groups = suite_groups()

    def run_muse(g):
        outcome, refusal = check(muse, json.dumps(g[2]["schema"], ensure_ascii=False), g[2]["tests"], g[2]["schema"])
        return g, outcome, refusal

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = {"muse": list(pool.map(run_muse, groups))}

        if args.llama:
            module = load_converter()
            converted = []
            for g in groups:
                text, error = llama_gbnf(module, json.loads(json.dumps(g[2]["schema"])))
                converted.append((g, text, error))

            def run_llama(item):
                g, text, error = item
                if text is None:
                    return g, None, error
                outcome, refusal = check(muse, text, g[2]["tests"], g[2]["schema"], gbnf=True)
                return g, outcome, refusal and f"converted, but Muse's GBNF parser refused: {refusal}"

            results["llama.cpp"] = list(pool.map(run_llama, converted))

    scores = [score(name, r) for name, r in results.items()]
    print(f"JSON-Schema-Test-Suite draft2020-12 (jsonschema {JSONSCHEMA[1]} sdist), "
          f"{len({g[0] for g in groups})} files, {len(groups)} groups\n")
    print_summary(scores)
    if args.json:
        out = {
            "suite": f"JSON-Schema-Test-Suite draft2020-12 from jsonschema=={JSONSCHEMA[1]} (non-optional)",
            "engines": {s["name"]: {**{k: v for k, v in s.items() if k not in ("refusals", "name")},
                                    "refusals": s["refusals"].most_common()} for s in scores},
            "groups": {name: [{"file": g[0], "index": g[1], "description": g[2]["description"],
                               "refused": refusal,
                               "accepted": None if outcome is None else [a for a, _ in outcome],
                               "valid": [t["valid"] for t in g[2]["tests"]]}
                              for g, outcome, refusal in r] for name, r in results.items()},
        }
        if args.llama:
            out["llama_converter"] = f"{CONVERTER} from llama-cpp-python=={LLAMA[1]} sdist"
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
