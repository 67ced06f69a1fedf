"""The official openai Python SDK against muse serve: models, chat and text completions
(plain and streamed), and every error class the SDK maps from an HTTP status."""

import openai
import pytest

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
ANSWER = "The capital of France is Paris."


def test_models_list(e2e):
    ids = [m.id for m in e2e.client(e2e.inference_key).models.list()]
    assert e2e.closed_id in ids and e2e.open_id in ids, ids
    # A key limited to the open model sees only that one.
    ids = [m.id for m in e2e.client(e2e.open_only_key).models.list()]
    assert ids == [e2e.open_id]


def test_model_card(e2e):
    card = e2e.client(e2e.inference_key).models.retrieve(e2e.closed_id)
    assert card.id == e2e.closed_id
    extra = card.model_extra or {}
    assert extra.get("visibility") == "closed"
    assert extra.get("download") is None
    assert len(extra.get("weights_sha256", "")) == 64


def test_chat_completion(e2e):
    resp = e2e.client(e2e.inference_key).chat.completions.create(
        model=e2e.closed_id, messages=QUESTION, temperature=0
    )
    assert resp.object == "chat.completion"
    assert resp.model == e2e.closed_id
    assert len(resp.choices) == 1
    choice = resp.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == ANSWER
    assert choice.finish_reason == "stop"
    u = resp.usage
    assert u.prompt_tokens > 0 and u.completion_tokens > 0
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens


def test_chat_completion_stream(e2e):
    client = e2e.client(e2e.inference_key)
    plain = client.chat.completions.create(model=e2e.closed_id, messages=QUESTION, temperature=0)
    chunks = list(
        client.chat.completions.create(
            model=e2e.closed_id,
            messages=QUESTION,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks, "no chunks"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1, "chunks of one stream share one id"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == ANSWER == plain.choices[0].message.content
    reasons = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert reasons == ["stop"]
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None, "the stream ends with a usage chunk"
    assert all(c.usage is None for c in chunks[:-1])
    assert last.usage.prompt_tokens == plain.usage.prompt_tokens
    assert last.usage.completion_tokens == plain.usage.completion_tokens
    assert last.usage.total_tokens == plain.usage.total_tokens


def test_ignore_eos_runs_to_max_tokens(e2e):
    """vLLM's and llama-server's `ignore_eos`: the same answer, then on past the end of turn."""
    resp = e2e.client(e2e.inference_key).chat.completions.create(
        model=e2e.closed_id,
        messages=QUESTION,
        temperature=0,
        max_tokens=24,
        extra_body={"ignore_eos": True},
    )
    choice = resp.choices[0]
    assert choice.message.content.startswith(ANSWER)
    assert choice.finish_reason == "length"
    assert resp.usage.completion_tokens == 24


def test_completion(e2e):
    client = e2e.client(e2e.inference_key)
    resp = client.completions.create(
        model=e2e.closed_id, prompt="The capital of France is", max_tokens=8, temperature=0
    )
    assert resp.object == "text_completion"
    choice = resp.choices[0]
    assert choice.text.strip()
    assert choice.finish_reason in ("stop", "length")
    assert 0 < resp.usage.completion_tokens <= 8
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens

    streamed = list(
        client.completions.create(
            model=e2e.closed_id,
            prompt="The capital of France is",
            max_tokens=8,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].text for c in streamed if c.choices) == choice.text
    assert streamed[-1].usage.completion_tokens == resp.usage.completion_tokens


def test_open_model_completion(e2e):
    resp = e2e.client(e2e.inference_key).completions.create(
        model=e2e.open_id, prompt="Hello", max_tokens=4, temperature=0
    )
    assert resp.model == e2e.open_id
    assert 0 < resp.usage.completion_tokens <= 4


def test_bad_key_is_authentication_error(e2e):
    with pytest.raises(openai.AuthenticationError) as err:
        e2e.client("muse-not-a-real-key").models.list()
    assert err.value.status_code == 401
    assert err.value.code == "invalid_api_key"
    with e2e.http() as h:  # no key at all
        r = h.get("/v1/models")
    assert r.status_code == 401 and r.json()["error"]["code"] == "missing_api_key"


def test_unknown_model_is_not_found(e2e):
    with pytest.raises(openai.NotFoundError) as err:
        e2e.client(e2e.inference_key).chat.completions.create(model="no-such-model", messages=QUESTION)
    assert err.value.code == "model_not_found"


def test_context_too_long_is_bad_request(e2e):
    with pytest.raises(openai.BadRequestError) as err:
        e2e.client(e2e.inference_key).chat.completions.create(
            model=e2e.closed_id, messages=QUESTION, max_tokens=100000
        )
    assert err.value.code == "context_length_exceeded"


def test_missing_scope_is_permission_denied(e2e):
    with pytest.raises(openai.PermissionDeniedError) as err:
        e2e.client(e2e.weights_key).chat.completions.create(model=e2e.closed_id, messages=QUESTION)
    assert err.value.status_code == 403
    assert err.value.code == "insufficient_permissions"
    # A key limited to other models.
    with pytest.raises(openai.PermissionDeniedError) as err:
        e2e.client(e2e.open_only_key).chat.completions.create(model=e2e.closed_id, messages=QUESTION)
    assert err.value.code == "model_not_allowed"


def test_exhausted_budget_is_rate_limit(e2e):
    with pytest.raises(openai.RateLimitError) as err:
        e2e.client(e2e.exhausted_key).chat.completions.create(
            model=e2e.closed_id, messages=QUESTION, max_tokens=4
        )
    assert err.value.status_code == 429
    assert err.value.code == "insufficient_quota"
    assert int(err.value.response.headers["retry-after"]) > 0


def test_logprobs(e2e):
    client = e2e.client(e2e.inference_key)
    resp = client.chat.completions.create(
        model=e2e.closed_id, messages=QUESTION, temperature=0, max_tokens=4, logprobs=True, top_logprobs=2
    )
    lp = resp.choices[0].logprobs
    assert lp is not None and lp.content is not None
    assert len(lp.content) == resp.usage.completion_tokens == 4
    assert "".join(t.token for t in lp.content) == resp.choices[0].message.content
    for t in lp.content:
        assert t.logprob <= 0
        assert len(t.top_logprobs) == 2
        # Greedy: the chosen token is the most likely one.
        assert abs(t.logprob - t.top_logprobs[0].logprob) < 1e-4
        assert t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob

    comp = client.completions.create(
        model=e2e.closed_id, prompt="The capital of France is", max_tokens=4, temperature=0, logprobs=2
    )
    clp = comp.choices[0].logprobs
    assert clp is not None
    assert len(clp.tokens) == len(clp.token_logprobs) == comp.usage.completion_tokens
    assert "".join(clp.tokens) == comp.choices[0].text
    assert all(x <= 0 for x in clp.token_logprobs)
    assert all(len(top) <= 2 for top in clp.top_logprobs)


def test_logit_bias_and_penalties(e2e):
    """OpenAI's `logit_bias`, `frequency_penalty` and `presence_penalty`, sent as the SDK's own
    parameters: a banned token is not chosen, a forced one always is, and the penalties break a
    repetition without touching the first token (the prompt's tokens are not counted)."""
    client = e2e.client(e2e.inference_key)
    with e2e.http(e2e.inference_key) as http:
        ids = http.post(
            "/tokenize", json={"model": e2e.closed_id, "prompt": " Paris", "add_special_tokens": False}
        ).json()["tokens"]
    assert len(ids) == 1
    paris = str(ids[0])
    prompt = "The capital of France is"
    plain = client.completions.create(model=e2e.closed_id, prompt=prompt, max_tokens=1, temperature=0)
    assert plain.choices[0].text == " Paris"
    banned = client.completions.create(
        model=e2e.closed_id, prompt=prompt, max_tokens=1, temperature=0, logit_bias={paris: -100}
    )
    assert banned.choices[0].text not in ("", " Paris")
    forced = client.chat.completions.create(
        model=e2e.closed_id,
        messages=QUESTION,
        temperature=0,
        max_tokens=3,
        logit_bias={paris: 100},
        extra_body={"ignore_eos": True},
    )
    assert forced.choices[0].message.content == " Paris" * 3

    def tokens(**penalty):
        resp = client.completions.create(
            model=e2e.closed_id,
            prompt="Fruits: apple, banana, apple, banana, apple, banana,",
            max_tokens=12,
            temperature=0,
            logprobs=0,
            extra_body={"ignore_eos": True},
            **penalty,
        )
        return resp.choices[0].logprobs.tokens

    def most_repeated(ts):
        return max(ts.count(t) for t in ts)

    free = tokens()
    assert most_repeated(free) >= 5
    for penalty in ({"frequency_penalty": 2}, {"presence_penalty": 2}):
        penalised = tokens(**penalty)
        assert penalised[0] == free[0] == " apple", penalty
        assert most_repeated(penalised) < most_repeated(free), (penalty, penalised, free)

    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(model=e2e.closed_id, prompt=prompt, max_tokens=1, logit_bias={"-5": 1})
    assert err.value.body["param"] == "logit_bias"
