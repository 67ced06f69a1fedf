"""Structured outputs and tool calls with the official openai SDK against muse serve on
SmolLM2 (issue #18): `chat.completions.parse` with pydantic models, JSON Schema and tool
arguments checked by the `jsonschema` package (an independent validator), named and required
tool choices streamed and not, `parallel_tool_calls: false`, and schemas Muse cannot enforce
refused with a 400 naming the keyword."""

import enum
import json
from typing import Optional

import jsonschema
import openai
import pydantic
import pytest


class Colour(str, enum.Enum):
    red = "red"
    green = "green"
    blue = "blue"


class Address(pydantic.BaseModel):
    city: str = pydantic.Field(max_length=40)
    country: str = pydantic.Field(max_length=40)


class Person(pydantic.BaseModel):
    name: str = pydantic.Field(max_length=40)
    age: int
    favourite_colour: Colour
    nickname: Optional[str] = pydantic.Field(max_length=40)
    address: Address
    languages: list[str] = pydantic.Field(max_length=4)


PERSON_PROMPT = [
    {
        "role": "user",
        "content": "Marie is 34, lives in Lyon, France, likes blue, speaks French and English. "
        "Describe her as JSON.",
    }
]

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "maxLength": 40},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The current time (no arguments).",
        "parameters": {"type": "object", "properties": {}, "additionalProperties": False},
    },
}
TOOLS = [WEATHER, TIME]
SCHEMAS = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}
WEATHER_PROMPT = [{"role": "user", "content": "What is the weather like in Paris?"}]


def client(e2e) -> openai.OpenAI:
    return e2e.client(e2e.inference_key)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_parse_pydantic_model(e2e, seed):
    # Sampled (temperature 1): whatever the model picks, the reply parses into the model.
    done = client(e2e).chat.completions.parse(
        model=e2e.closed_id,
        messages=PERSON_PROMPT,
        response_format=Person,
        temperature=1,
        seed=seed,
        max_tokens=400,
    )
    message = done.choices[0].message
    assert done.choices[0].finish_reason == "stop", message.content
    assert isinstance(message.parsed, Person), message.content
    jsonschema.validate(json.loads(message.content), openai.lib._pydantic.to_strict_json_schema(Person))


def test_json_object_mode(e2e):
    done = client(e2e).chat.completions.create(
        model=e2e.closed_id,
        messages=[
            {"role": "user", "content": 'Reply with a JSON object with the keys "city" and "country" for Paris.'}
        ],
        response_format={"type": "json_object"},
        temperature=0,
        max_tokens=200,
    )
    assert done.choices[0].finish_reason == "stop", done.choices[0].message.content
    assert json.loads(done.choices[0].message.content) == {"city": "Paris", "country": "France"}


def check_calls(calls, allowed: set[str]):
    assert calls, "no tool calls"
    ids = set()
    for call in calls:
        assert call.type == "function"
        assert call.id and call.id not in ids
        ids.add(call.id)
        assert call.function.name in allowed
        jsonschema.validate(json.loads(call.function.arguments), SCHEMAS[call.function.name])


def streamed_calls(stream):
    """The tool calls and content of a stream, assembled as the SDK's users do."""
    calls: dict[int, dict] = {}
    content = ""
    finish = None
    for chunk in stream:
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        content += choice.delta.content or ""
        for d in choice.delta.tool_calls or []:
            if d.index not in calls:
                # The first delta of a call names it.
                assert d.id and d.type == "function" and d.function.name, d
                calls[d.index] = {"id": d.id, "name": d.function.name, "arguments": ""}
            calls[d.index]["arguments"] += d.function.arguments or ""
        finish = choice.finish_reason or finish
    return [calls[i] for i in sorted(calls)], content, finish


@pytest.mark.parametrize("stream", [False, True])
def test_named_tool_choice(e2e, stream):
    args = dict(
        model=e2e.closed_id,
        messages=WEATHER_PROMPT,
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        temperature=0,
        max_tokens=200,
    )
    if not stream:
        done = client(e2e).chat.completions.create(**args)
        choice = done.choices[0]
        assert choice.finish_reason == "tool_calls"
        check_calls(choice.message.tool_calls, {"get_weather"})
        return
    calls, content, finish = streamed_calls(client(e2e).chat.completions.create(stream=True, **args))
    assert finish == "tool_calls"
    assert calls and all(c["name"] == "get_weather" for c in calls)
    for c in calls:
        jsonschema.validate(json.loads(c["arguments"]), SCHEMAS["get_weather"])
    # Streamed and not, greedy: the same calls.
    plain = client(e2e).chat.completions.create(**args).choices[0].message
    assert [(c.function.name, json.loads(c.function.arguments)) for c in plain.tool_calls] == [
        (c["name"], json.loads(c["arguments"])) for c in calls
    ]
    assert content == (plain.content or "")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_required_tool_choice(e2e, seed):
    done = client(e2e).chat.completions.create(
        model=e2e.closed_id,
        messages=WEATHER_PROMPT,
        tools=TOOLS,
        tool_choice="required",
        # One call: SmolLM2 (135M) asked for several may repeat one until max_tokens.
        parallel_tool_calls=False,
        temperature=1,
        seed=seed,
        max_tokens=300,
    )
    choice = done.choices[0]
    assert choice.finish_reason == "tool_calls"
    check_calls(choice.message.tool_calls, {"get_weather", "get_time"})


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_parallel_tool_calls_false(e2e, seed):
    done = client(e2e).chat.completions.create(
        model=e2e.closed_id,
        messages=[{"role": "user", "content": "Weather in Paris, Rome and Oslo, and the time?"}],
        tools=TOOLS,
        tool_choice="required",
        parallel_tool_calls=False,
        temperature=1,
        seed=seed,
        max_tokens=300,
    )
    calls = done.choices[0].message.tool_calls
    check_calls(calls, {"get_weather", "get_time"})
    assert len(calls) == 1


def test_tool_result_turn(e2e):
    # A later turn carries the call and its result; the template renders them and the model
    # answers in text.
    c = client(e2e)
    first = c.chat.completions.create(
        model=e2e.closed_id,
        messages=WEATHER_PROMPT,
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        temperature=0,
        max_tokens=200,
    ).choices[0].message
    call = first.tool_calls[0]
    second = c.chat.completions.create(
        model=e2e.closed_id,
        messages=WEATHER_PROMPT
        + [
            first.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": '{"temperature": 21, "sky": "sunny"}'},
        ],
        tools=TOOLS,
        tool_choice="none",
        temperature=0,
        max_tokens=60,
    )
    assert second.choices[0].message.content
    assert not second.choices[0].message.tool_calls


@pytest.mark.parametrize(
    "schema,keyword",
    [
        ({"type": "object", "patternProperties": {"^a": {"type": "string"}}}, "patternProperties"),
        ({"type": "string", "pattern": "(?=a)b"}, "pattern"),
        ({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}, "$ref"),
    ],
)
def test_unenforceable_schema_refused(e2e, schema, keyword):
    with pytest.raises(openai.BadRequestError) as err:
        client(e2e).chat.completions.create(
            model=e2e.closed_id,
            messages=PERSON_PROMPT,
            response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
        )
    assert keyword in err.value.message


def test_bad_fields_refused(e2e):
    c = client(e2e)
    cases = [
        (dict(tools=TOOLS, tool_choice={"type": "function", "function": {"name": "nope"}}), "tool_choice"),
        (dict(tool_choice="required"), "tool_choice"),
        (dict(tools=TOOLS, parallel_tool_calls="yes"), "parallel_tool_calls"),
        (dict(response_format={"type": "xml"}), "response_format.type"),
        (dict(extra_body={"grammar": "root ::= undefined-rule"}), "grammar"),
    ]
    for fields, param in cases:
        with pytest.raises(openai.BadRequestError) as err:
            c.chat.completions.create(model=e2e.closed_id, messages=WEATHER_PROMPT, max_tokens=5, **fields)
        assert err.value.body["param"] == param, (fields, err.value.body)
