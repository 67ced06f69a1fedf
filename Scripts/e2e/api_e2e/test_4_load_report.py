"""Informative measurements (printed as E2E-REPORT lines, not pass/fail thresholds):
GET /v1/models throughput, and time to first token of a streamed chat request next to the
server's own latency and `muse run`."""

import json
import subprocess
import threading
import time

import httpx

REQUESTS = 2000
CLIENTS = 8
BUDGET_S = 30.0


def test_models_throughput(e2e):
    lock = threading.Lock()
    state = {"next": 0, "ok": 0, "bad": []}
    deadline = time.monotonic() + BUDGET_S

    def worker():
        with httpx.Client(
            base_url=e2e.base_url, headers={"Authorization": f"Bearer {e2e.inference_key}"}, timeout=10
        ) as h:
            while time.monotonic() < deadline:
                with lock:
                    if state["next"] >= REQUESTS:
                        return
                    state["next"] += 1
                r = h.get("/v1/models")
                with lock:
                    if r.status_code == 200:
                        state["ok"] += 1
                    else:
                        state["bad"].append(r.status_code)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(BUDGET_S + 15)
    elapsed = time.monotonic() - started
    assert not state["bad"], state["bad"][:10]
    assert state["ok"] > 0
    e2e.report(
        f"GET /v1/models: {state['ok']} requests, {CLIENTS} concurrent clients, {elapsed:.2f} s, "
        f"{state['ok'] / elapsed:.0f} requests/s"
    )


def test_time_to_first_token(e2e):
    body = {
        "model": e2e.closed_id,
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    ttft = None
    usage = None
    with e2e.http(e2e.inference_key) as h:
        recorded = h.get("/v1/usage").json()["period"]["requests"]
        started = time.monotonic()
        with h.stream("POST", "/v1/chat/completions", json=body) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                if chunk["choices"] and chunk["choices"][0]["delta"].get("content") and ttft is None:
                    ttft = time.monotonic() - started
                if chunk.get("usage"):
                    usage = chunk["usage"]
        total = time.monotonic() - started
        assert ttft is not None and usage is not None
        # A stream's ledger row is written just after its last byte: wait for it.
        deadline = time.monotonic() + 10
        while True:
            own = h.get("/v1/usage").json()
            if own["period"]["requests"] > recorded or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert own["period"]["requests"] == recorded + 1
        recent = own["recent"]
    server = max(recent, key=lambda u: u["created_at"])
    e2e.report(
        f"streamed chat ({usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion tokens): "
        f"client TTFT {ttft * 1000:.0f} ms, client total {total * 1000:.0f} ms; "
        f"server ledger TTFT {server['ttft_ms']} ms, latency {server['latency_ms']} ms"
    )

    started = time.monotonic()
    run = subprocess.run(
        [e2e.bin, "run", "--model", e2e.closed_path, "--prompt", "What is the capital of France?",
         "-n", "1", "--temp", "0"],
        capture_output=True, text=True, timeout=120,
    )
    wall = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    stats = " ".join(line.strip() for line in run.stderr.splitlines() if "/s" in line)[:200]
    e2e.report(
        f"muse run -n 1 (loads the model, then 1 token): wall {wall * 1000:.0f} ms"
        + (f"; {stats}" if stats else "")
    )
