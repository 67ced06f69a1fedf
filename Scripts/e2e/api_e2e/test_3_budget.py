"""Token budgets hold under concurrency: 50 parallel requests against a budget for exactly
10 of them, then the ledger sums exactly what the successful responses reported."""

from concurrent.futures import ThreadPoolExecutor

import httpx

MAX_TOKENS = 4  # "The capital of France is Paris." is longer, so every request ends on length
PARALLEL = 50
FITS = 10


def body(e2e):
    return {
        "model": e2e.closed_id,
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
    }


def measure_prompt_tokens(e2e) -> int:
    with e2e.http(e2e.inference_key) as h:
        r = h.post("/v1/chat/completions", json=body(e2e))
    assert r.status_code == 200, r.text
    usage = r.json()["usage"]
    assert usage["completion_tokens"] == MAX_TOKENS
    assert r.json()["choices"][0]["finish_reason"] == "length"
    return usage["prompt_tokens"]


def cli_usage_row(e2e, key_id):
    out = e2e.muse("usage", "--data-dir", e2e.data_dir, "--by", "key").stdout
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == 7 and cells[1] == key_id:
            return int(cells[3]), int(cells[4]), int(cells[5])
    return 0, 0, 0


def test_budget_under_concurrency(e2e):
    prompt = measure_prompt_tokens(e2e)
    budget = FITS * (prompt + MAX_TOKENS)
    secret, key_id = e2e.create_key("e2e-budget", "--scopes", "inference", "--budget-tokens", str(budget))

    def one(_):
        with httpx.Client(
            base_url=e2e.base_url, headers={"Authorization": f"Bearer {secret}"}, timeout=120
        ) as h:
            return h.post("/v1/chat/completions", json=body(e2e))

    with ThreadPoolExecutor(PARALLEL) as pool:
        responses = list(pool.map(one, range(PARALLEL)))

    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 429}, statuses
    ok = [r.json() for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert 1 <= len(ok) <= FITS, f"{len(ok)} requests succeeded on a budget for {FITS}"
    for r in refused:
        assert r.json()["error"]["code"] == "insufficient_quota", r.text
        assert int(r.headers["retry-after"]) > 0
    prompt_sum = sum(o["usage"]["prompt_tokens"] for o in ok)
    completion_sum = sum(o["usage"]["completion_tokens"] for o in ok)
    assert prompt_sum + completion_sum <= budget

    with e2e.http(secret) as h:
        own = h.get("/v1/usage").json()
    assert own["key"]["id"] == key_id
    period = own["period"]
    assert period["requests"] == len(ok)
    assert period["prompt_tokens"] == prompt_sum
    assert period["completion_tokens"] == completion_sum
    assert cli_usage_row(e2e, key_id) == (len(ok), prompt_sum, completion_sum)

    # Spent: one more request is refused.
    with e2e.http(secret) as h:
        r = h.post("/v1/chat/completions", json=body(e2e))
    if len(ok) == FITS:
        assert r.status_code == 429 and r.json()["error"]["code"] == "insufficient_quota"
    e2e.report(
        f"budget: {PARALLEL} parallel requests on a budget of {budget} tokens "
        f"({FITS} x ({prompt} prompt + {MAX_TOKENS} completion)): {len(ok)} x 200, {len(refused)} x 429"
    )
