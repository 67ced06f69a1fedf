#!/usr/bin/env python3
"""Golden chat-template renderings from the reference (Jinja2 3.1.6, pinned in
Scripts/requirements.txt), configured the way transformers 5.x renders chat templates
(transformers/utils/chat_template_utils.py: `_cached_compile_jinja_template` and
`render_jinja_template`), for Muse's ChatTemplate tests.

Usage: python3 Scripts/golden/template_golden.py  (from the repository root)
Reads Tests/Fixtures/templates/*.jinja, writes Tests/Fixtures/templates/golden.json (every
template x every conversation) and snippets.json (small one-feature templates for the
interpreter's unit tests).

Each template is rendered for every conversation below. The expected outcome is either the
rendered text or, when Jinja raises (a template rejecting a system role, say), the
exception's message, which Muse must reproduce.
"""
import copy
import glob
import json
import os
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

assert jinja2.__version__ == "3.1.6", jinja2.__version__

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # Scripts/<job>/x.py
TEMPLATES = os.path.join(ROOT, "Tests", "Fixtures", "templates")

# strftime_now reads the clock; goldens need a fixed one (Muse's ChatTemplate takes `now`).
NOW = datetime(2024, 7, 26, 14, 30, 5)
BOS, EOS = "<s>", "</s>"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "description": "Forecast length"},
            },
            "required": ["city"],
        },
    },
}

TOOL_CALL = {
    "id": "call_0001",
    "type": "function",
    "function": {"name": "get_weather", "arguments": {"city": "Zürich", "unit": "celsius"}},
}

CONVERSATIONS = {
    "system_user": {
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
        "add_generation_prompt": True,
    },
    "multi_turn": {
        "messages": [
            {"role": "user", "content": "Hi there!"},
            {"role": "assistant", "content": "Hello! How can I help you today?"},
            {"role": "user", "content": "Tell me a joke about café ☕ owners."},
        ],
        "add_generation_prompt": True,
    },
    "tools": {
        "messages": [{"role": "user", "content": "What's the weather in Zürich?"}],
        "tools": [WEATHER_TOOL],
        "add_generation_prompt": True,
    },
    "tool_calls": {
        "messages": [
            {"role": "user", "content": "What's the weather in Zürich?"},
            {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]},
            {"role": "tool", "tool_call_id": "call_0001", "name": "get_weather",
             "content": "{\"temperature\": 18, \"condition\": \"sunny\"}"},
        ],
        "tools": [WEATHER_TOOL],
        "add_generation_prompt": True,
    },
    # As an OpenAI client sends it: arguments as a JSON string, empty content.
    "tool_calls_openai": {
        "messages": [
            {"role": "user", "content": "What's the weather in Zürich?"},
            {"role": "assistant", "content": "", "tool_calls": [
                {**TOOL_CALL, "function": {"name": "get_weather", "arguments": "{\"city\": \"Zürich\"}"}}]},
            {"role": "tool", "tool_call_id": "call_0001", "content": "18°C, sunny"},
        ],
        "tools": [WEATHER_TOOL],
        "add_generation_prompt": True,
    },
    "content_parts": {
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "Answer briefly."}]},
            {"role": "user", "content": [
                {"type": "text", "text": "Describe this:"},
                {"type": "text", "text": "a red bicycle."},
            ]},
        ],
        "add_generation_prompt": True,
    },
    "no_system": {
        "messages": [
            {"role": "user", "content": "2 + 2?"},
            {"role": "assistant", "content": "4"},
        ],
        "add_generation_prompt": False,
    },
    "reasoning_history": {
        "messages": [
            {"role": "user", "content": "2 + 2?"},
            {"role": "assistant", "content": "4", "reasoning_content": "Adding two and two gives four."},
            {"role": "user", "content": "And 3 + 3?"},
        ],
        "add_generation_prompt": True,
    },
    "extra_vars": {
        "messages": [
            {"role": "system", "content": "Think carefully."},
            {"role": "user", "content": "Is 17 prime?"},
        ],
        "add_generation_prompt": True,
        "extra": {"enable_thinking": False, "reasoning_effort": "high"},
    },
}


class AssistantTracker(Extension):
    """transformers' `{% generation %}` tag; outside training it just renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    def _generation_support(self, caller):
        return caller()


class TemplateDict:
    def __call__(self, *args, **kwargs):
        return dict(*args, **kwargs)


def make_environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    env.globals["dict"] = TemplateDict()
    return env


# transformers' `_alias_reasoning_fields`: reasoning under any of these names is copied into
# `thinking` and `reasoning_content`.
REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")


def alias_reasoning(message):
    reasoning = next((message[k] for k in REASONING_FIELDS if message.get(k) is not None), None)
    if reasoning is None:
        return message
    return {"thinking": reasoning, **message, "reasoning_content": reasoning}


def render(env, source, conv):
    try:
        template = env.from_string(source)
        text = template.render(
            messages=[alias_reasoning(m) for m in copy.deepcopy(conv["messages"])], tools=conv.get("tools"), documents=None,
            add_generation_prompt=conv["add_generation_prompt"],
            bos_token=BOS, eos_token=EOS, **conv.get("extra", {}))
        return {"output": text}
    except Exception as e:  # the message is the expected outcome
        return {"error": str(e), "kind": type(e).__name__}


# Small templates exercising one feature each, for the interpreter's unit tests
# (JinjaSnippetTests). Variables: `xs`, `d`, `s`, `n`, `f`, `none`, `msgs` (see SNIPPET_VARS).
SNIPPET_VARS = {
    "xs": [3, 1, 2], "d": {"b": 2, "a": 1, "z": [1, 2]}, "s": "  Hello, World  ", "n": 7, "f": 2.5,
    "none": None, "empty": [], "words": ["b", "A", "c", "a"],
    "msgs": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"},
             {"role": "tool", "content": "42"}],
}
SNIPPETS = [
    # literals and printing
    "{{ 1 }} {{ 1.0 }} {{ 1.5e3 }} {{ 1e-7 }} {{ 10000000000000000.0 }} {{ 0.1 + 0.2 }} {{ -0.0 }}",
    "{{ none }} {{ true }} {{ False }} {{ [1, 'a', none, true] }} {{ {'a': 1, 'b': [2]} }} {{ (1,) }} {{ (1, 2) }}",
    "{{ 'it\\'s' }} {{ [\"it's\"] }} {{ ['a\\nb'] }} {{ 'a' 'b' }} {{ \"x\\ty\" }}",
    "{{ undefined_thing }}|{{ d.missing }}|{{ d['missing'] }}|{{ xs[10] }}",
    # arithmetic
    "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }}",
    "{{ 1 + 2 * 3 - 4 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 'ab' * 3 }} {{ [1] * 3 }} {{ 'a' ~ 1 ~ none }}",
    "{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}",
    "{{ 'ell' in 'hello' }} {{ 2 in xs }} {{ 'a' in d }} {{ 'q' not in d }} {{ not 1 in xs }}",
    "{{ 0 or 'x' }} {{ 1 and 'y' }} {{ [] or none }} {{ 'a' if n > 5 else 'b' }} {{ 'a' if n > 50 }}|",
    # access and slicing
    "{{ xs[0] }} {{ xs[-1] }} {{ xs[1:] }} {{ xs[::-1] }} {{ xs[:-1] }} {{ 'hello'[1:-1] }} {{ 'hello'[::2] }} {{ xs.0 }}",
    "{{ d.a }} {{ d['b'] }} {{ d.z[1] }} {{ d.items() | list }} {{ d.keys() | list }} {{ d.get('q', 5) }} {{ d.get('a') }}",
    # string methods
    "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxaxx'.strip('x') }}|{{ s.upper() }}|{{ s.lower() }}",
    "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }}",
    "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ 'hello'.replace('l', 'L') }} {{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }}",
    "{{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ 'a-b'.join(['x', 'y']) }} {{ 'l1\\nl2\\r\\nl3'.splitlines() }} {{ 'abc'.count('b') }}",
    "{{ '123'.isdigit() }} {{ 'abc'.isalpha() }} {{ '  '.isspace() }} {{ '{} and {}'.format(1, 'x') }} {{ '{0}{name}'.format(1, name='n') }}",
    # filters
    "{{ s | trim }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ 'hello wORLD-x' | title }}|{{ 'hELLO' | capitalize }}",
    "{{ xs | length }} {{ 'héllo' | length }} {{ d | count }} {{ xs | first }} {{ xs | last }} {{ xs | join(', ') }} {{ xs | sum }}",
    "{{ undefined_thing | default('dflt') }} {{ '' | default('e', true) }} {{ none | d('n') }} {{ none | default('x') }}",
    "{{ 'a-b-c' | replace('-', '+') }} {{ 'abc' | list }} {{ 42 | string }} {{ '42' | int + 1 }} {{ 'x' | int }} {{ '3.5' | float }} {{ -3 | abs }}",
    "{{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 3 | round }} {{ 2.1 | round(0, 'ceil') }} {{ 1.23456 | round(2, 'floor') }}",
    "{{ d | tojson }} {{ d | tojson(indent=2) }} {{ 'é\\\"<' | tojson }} {{ [1.0, none, true] | tojson }} {{ {} | tojson(indent=2) }}",
    "{{ d | tojson(separators=(',', ':')) }} {{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }} {{ {1: 'x'} | tojson }}",
    "{{ msgs | map(attribute='role') | list }} {{ xs | map('string') | join }} {{ msgs | selectattr('role', 'equalto', 'user') | list | length }}",
    "{{ msgs | rejectattr('role', 'eq', 'user') | map(attribute='content') | join(',') }} {{ xs | select('odd') | list }} {{ xs | reject('even') | list }}",
    "{{ xs | sort }} {{ xs | sort(reverse=true) }} {{ words | sort }} {{ words | sort(case_sensitive=true) }} {{ msgs | sort(attribute='role') | map(attribute='role') | list }}",
    "{{ words | unique | list }} {{ xs | reverse | list }} {{ 'abc' | reverse }} {{ xs | max }} {{ xs | min }} {{ words | max }}",
    "{{ 'a<b>&\"' | e }} {{ 'a<b' | escape }} {{ '<x>' | safe }} {{ 'one two  three' | wordcount }} {{ 'ab' | center(6) }}|",
    "{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(4, blank=true) }}",
    "{{ xs | batch(2) | list }} {{ d | dictsort }} {{ d | dictsort(reverse=true) }} {{ d | items | list }}",
    "{% for k, v in d | dictsort %}{{ k }}={{ v }};{% endfor %}",
    # tests
    "{{ n is defined }} {{ q is undefined }} {{ none is none }} {{ 's' is string }} {{ 1 is number }} {{ true is number }} {{ true is integer }} {{ 1.0 is float }}",
    "{{ true is boolean }} {{ d is mapping }} {{ xs is iterable }} {{ 's' is sequence }} {{ n is odd }} {{ n is even }} {{ 9 is divisibleby 3 }} {{ n is divisibleby(2) }}",
    "{{ 1 is eq 1 }} {{ 1 is equalto 2 }} {{ 2 is gt 1 }} {{ 2 is lt 1 }} {{ 2 is in xs }} {{ none is not none }} {{ true is true }} {{ 1 is true }} {{ d is not string }}",
    # statements
    "{% for x in xs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.length }}/{{ loop.first }}/{{ loop.last }};{% endfor %}",
    "{% for x in xs %}{{ loop.previtem | default('-') }}<{{ x }}>{{ loop.nextitem | default('-') }} {{ loop.cycle('a', 'b') }}|{% endfor %}",
    "{% for x in empty %}no{% else %}empty{% endfor %} {% for x in xs if x > 1 %}{{ x }}:{{ loop.length }}{% endfor %}",
    "{% for x in xs %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}",
    "{% set x = 1 %}{% for i in xs %}{% set x = i %}{% endfor %}{{ x }} {% set ns = namespace(x=1) %}{% for i in xs %}{% set ns.x = ns.x + i %}{% endfor %}{{ ns.x }}",
    "{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t = (1, 2) %}{{ t }} {% set c %}block {{ n }}{% endset %}{{ c }}|{% set u | upper %}up{% endset %}{{ u }}",
    "{% if n > 10 %}big{% elif n > 5 %}mid{% else %}small{% endif %} {% if none %}x{% endif %}",
    "{% macro greet(name, greeting='Hi') %}{{ greeting }} {{ name }}!{% endmacro %}{{ greet('A') }} {{ greet('B', 'Yo') }} {{ greet(greeting='Hey', name='C') }}",
    "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inner {{ n }}{% endcall %}",
    "{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}",
    "{% filter upper %}shout {{ n }}{% endfilter %} {% raw %}{{ not parsed }}{% endraw %}",
    "{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ dict(a=1, b=2) }} {{ namespace(a=1).a }}",
    "{# comment #}a{#- trimmed -#}  b {{- ' c ' -}} d",
    # whitespace control with trim_blocks / lstrip_blocks
    "<ul>\n  {% for x in xs %}\n    <li>{{ x }}</li>\n  {% endfor %}\n</ul>\n",
    "a\n  {%- if true %}\n  b\n  {% endif -%}\n  c\n{{ n }}\n  {{ n }}  \n",
    "x  {%+ if true %}y{% endif +%}\nz {# c #}\n w\n",
    "  {% if true %}A{% endif %}\n{% raw %}\n  R\n{% endraw %}\nend",
    "line1\r\nline2\r{% if true %}\r\nx{% endif %}\n\n",
    # errors (the message is the expected outcome)
    "{{ raise_exception('Custom failure: ' ~ n) }}",
    "{{ xs + 'a' }}", "{{ 'a' + 1 }}", "{{ 1 + 'a' }}", "{{ undefined_thing.attr }}", "{{ none.attr }}",
    "{{ none[0] }}", "{% for x in none %}{% endfor %}", "{{ none | length }}", "{{ xs.append(1) }}", "{{ d.update({}) }}",
    "{{ 1 in none }}", "{{ 'a' < 1 }}", "{{ xs | map('upper') | tojson }}", "{{ 1 / 0 }}", "{{ undefined_thing + 1 }}",
    "{% set a, b = [1] %}", "{{ 'x'.index('y') }}",
]


def render_snippets(env):
    out = []
    for source in SNIPPETS:
        try:
            out.append({"template": source, "output": env.from_string(source).render(**SNIPPET_VARS)})
        except Exception as e:
            out.append({"template": source, "error": str(e), "kind": type(e).__name__})
    return {"variables": SNIPPET_VARS, "snippets": out}


# SmolLM2-135M-Instruct (Muse's default model) is not among the shared templates; its template
# is taken from the cached GGUF that Scripts/fixtures/fetch-smollm2.sh downloads, when present.
SMOLLM2_GGUF = os.path.join(
    os.environ.get("MUSE_CACHE_DIR", os.path.expanduser("~/.cache/muse")), "models", "SmolLM2-135M-Instruct.Q4_1.gguf")


def extract_smollm2_template():
    if not os.path.exists(SMOLLM2_GGUF):
        return
    from gguf import GGUFReader
    field = GGUFReader(SMOLLM2_GGUF).fields["tokenizer.chat_template"]
    with open(os.path.join(TEMPLATES, "HuggingFaceTB-SmolLM2-135M-Instruct.jinja"), "w", encoding="utf-8") as f:
        f.write(bytes(field.parts[field.data[0]]).decode("utf-8"))


def main():
    extract_smollm2_template()
    env = make_environment()
    results = {}
    for path in sorted(glob.glob(os.path.join(TEMPLATES, "*.jinja"))):
        with open(path, encoding="utf-8") as f:
            source = f.read()
        results[os.path.basename(path)] = {name: render(env, source, conv) for name, conv in CONVERSATIONS.items()}
    golden = {
        "reference": f"Jinja2 {jinja2.__version__}, transformers chat-template environment",
        "now": NOW.strftime("%Y-%m-%dT%H:%M:%S"),
        "bos_token": BOS,
        "eos_token": EOS,
        "conversations": CONVERSATIONS,
        "templates": results,
    }
    out = os.path.join(TEMPLATES, "golden.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")
    snippets = render_snippets(env)
    with open(os.path.join(TEMPLATES, "snippets.json"), "w", encoding="utf-8") as f:
        json.dump(snippets, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote snippets.json: {len(SNIPPETS)} snippets")
    errors = sum("error" in r for t in results.values() for r in t.values())
    print(f"wrote {out}: {len(results)} templates x {len(CONVERSATIONS)} conversations, {errors} raise")


if __name__ == "__main__":
    main()
