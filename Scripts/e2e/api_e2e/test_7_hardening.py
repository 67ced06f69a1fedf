"""Issue #15's probe, replayed against the live server: every hostile input gets a clear 4xx
naming the field, and the server answers /health after each; abandoned streams are billed
what they received, and a key's budget holds under 20 concurrent abandoning clients; sign-in
is throttled; slow headers are cut off; the CLI refuses a far expiry naming the option."""

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from conftest import raw_request

BIG = 9223372036854775807


def health(e2e):
    r = httpx.get(e2e.base_url + "/health", timeout=10)
    assert r.status_code == 200, "the server stopped answering /health"


def chat(e2e, **extra):
    body = {"model": e2e.open_id, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    body.update(extra)
    return body


HOSTILE = [
    ("/v1/chat/completions", {"max_tokens": BIG}, "max_tokens"),
    ("/v1/chat/completions", {"max_completion_tokens": BIG}, "max_completion_tokens"),
    ("/v1/chat/completions", {"max_tokens": 2**64}, "max_tokens"),
    ("/v1/chat/completions", {"seed": -2}, "seed"),
    ("/v1/chat/completions", {"temperature": 1e39}, "temperature"),
    ("/v1/chat/completions", {"tools": "x"}, "tools"),
    ("/v1/chat/completions", {"tools": [1]}, "tools[0]"),
    ("/v1/chat/completions", {"tools": [{"type": "function"}]}, "tools[0].function"),
    ("/v1/chat/completions", {"tool_choice": "sometimes"}, "tool_choice"),
    ("/v1/chat/completions", {"chat_template_kwargs": "x"}, "chat_template_kwargs"),
    ("/v1/chat/completions", {"top_k": -1}, "top_k"),
    ("/v1/chat/completions", {"min_p": -5}, "min_p"),
    ("/v1/chat/completions", {"min_p": 5}, "min_p"),
    ("/v1/chat/completions", {"repetition_penalty": 0}, "repetition_penalty"),
    ("/v1/chat/completions", {"repetition_penalty": -1}, "repetition_penalty"),
    ("/v1/chat/completions", {"stop": [""]}, "stop"),
]


def test_hostile_fields_are_named_and_the_server_stays_up(e2e):
    with e2e.http(e2e.inference_key) as h:
        for path, extra, param in HOSTILE:
            r = h.post(path, content=json.dumps(chat(e2e, **extra)), headers={"Content-Type": "application/json"})
            assert r.status_code == 400, (extra, r.text)
            error = r.json()["error"]
            assert error["param"] == param and error["type"] == "invalid_request_error", (extra, error)
            health(e2e)
        r = h.post("/v1/completions", json={"model": e2e.open_id, "prompt": "hi", "max_tokens": BIG})
        assert r.status_code == 400 and r.json()["error"]["param"] == "max_tokens", r.text
        bad = b'{"model": "x", "messages": [{"role": "user", "content": "\xff\xfe"}]}'
        r = h.post("/v1/chat/completions", content=bad, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and "UTF-8" in r.json()["error"]["message"], r.text
        r = h.get("/v1/usage", params={"days": -3})
        assert r.status_code == 400 and r.json()["error"]["param"] == "days", r.text
    trace = raw_request(e2e.port, "TRACE", "/v1/models", {"Authorization": f"Bearer {e2e.inference_key}"})
    assert trace.status == 405 and trace.headers.get("allow") == "GET", trace
    health(e2e)


def test_far_key_expiry_is_refused_and_keys_still_list(e2e):
    with e2e.http(e2e.admin_key) as h:
        r = h.post("/v1/admin/keys", json={"name": "far", "expires_in_days": 2940000})
        assert r.status_code == 400 and r.json()["error"]["param"] == "expires_in_days", r.text
        assert h.get("/v1/admin/keys").status_code == 200
    import subprocess

    done = subprocess.run(
        [e2e.bin, "keys", "create", "--data-dir", e2e.data_dir, "--name", "far", "--expires-days", "2940000"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode != 0 and "--expires-days" in done.stderr, done.stderr
    assert e2e.muse("keys", "list", "--data-dir", e2e.data_dir).returncode == 0


def stream_and_leave(e2e, secret, chunks):
    """Reads `chunks` text deltas of a long streamed completion, then closes the socket.
    Returns how many deltas it received."""
    got = 0
    body = {"model": e2e.closed_id, "prompt": "Once upon a time", "max_tokens": 300, "stream": True,
            "ignore_eos": True, "temperature": 0}
    with httpx.Client(base_url=e2e.base_url, headers={"Authorization": f"Bearer {secret}"}, timeout=120) as h:
        with h.stream("POST", "/v1/completions", json=body) as r:
            if r.status_code != 200:
                return -r.status_code
            for line in r.iter_lines():
                if line.startswith("data: {") and '"text":""' not in line:
                    got += 1
                    if got >= chunks:
                        break
    return got


def ledger_rows(e2e, secret):
    with e2e.http(secret) as h:
        return h.get("/v1/usage").json()["recent"]


def test_abandoned_streams_are_billed_what_they_received(e2e):
    secret, _ = e2e.create_key("e2e-abandon", "--scopes", "inference")
    received = stream_and_leave(e2e, secret, 60)
    assert received == 60
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = ledger_rows(e2e, secret)
        if rows and rows[0]["status"] == 499:
            break
        time.sleep(0.2)
    row = rows[0]
    assert row["status"] == 499 and row["finish_reason"] == "cancelled", row
    # Never fewer than the client read; a few more where the server had already written them to
    # the connection when the client closed it (delivered, so billed: 2 on a fast Zen 5).
    assert received <= row["completion_tokens"] <= received + 8, (row, received)
    e2e.report(f"abandoned stream: received {received} deltas, billed {row['completion_tokens']} tokens")


def test_budget_holds_under_20_abandoning_clients(e2e):
    budget = 3000
    secret, _ = e2e.create_key("e2e-abandon-budget", "--scopes", "inference", "--budget-tokens", str(budget))
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: stream_and_leave(e2e, secret, 40), range(60)))
    received = [r for r in results if r > 0]
    refused = [r for r in results if r == -429]
    assert refused, "the budget never refused a request"
    time.sleep(2)
    with e2e.http(secret) as h:
        period = h.get("/v1/usage").json()["period"]
    billed = period["prompt_tokens"] + period["completion_tokens"]
    # One in-flight request's tokens at most: its prompt and max_tokens.
    assert billed <= budget + 5 + 300, (billed, budget)
    assert period["completion_tokens"] >= sum(received) - len(received), (period, sum(received))
    e2e.report(
        f"20 abandoning clients, budget {budget}: {len(received)} streams, {len(refused)} refused, billed {billed}"
    )


def test_sign_in_is_throttled(e2e):
    statuses = []
    with httpx.Client(base_url=e2e.base_url, headers={"X-Muse-App": "1"}, timeout=60) as h:
        for _ in range(8):
            r = h.post("/app/api/login", json={"username": "admin", "password": "wrong-password"})
            statuses.append(r.status_code)
            if r.status_code == 429:
                assert int(r.headers["retry-after"]) >= 1
                break
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429, statuses


def test_slow_headers_are_cut_off(e2e):
    sockets = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", e2e.port), timeout=5)
        s.sendall(b"GET /health HTTP/1.1\r\n")
        sockets.append(s)
    health(e2e)
    time.sleep(float(e2e_header_timeout()) + 1.5)
    closed = 0
    for s in sockets:
        try:
            s.settimeout(1)
            if s.recv(1) == b"":
                closed += 1
        except OSError:
            closed += 1
        finally:
            s.close()
    assert closed == 20, closed
    health(e2e)


def e2e_header_timeout():
    import os

    return os.environ.get("MUSE_E2E_HEADER_TIMEOUT", "2")
