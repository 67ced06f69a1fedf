"""16-token completion latency (p50, p90) against a running server, alone and while 8 clients
flood the chat app's sign-in with wrong passwords (issue #15: PBKDF2 on the request path had
raised the p50 from 0.46 to 2.24 s), and while they flood /health instead (a control: what the
load generator and plain HTTP handling cost on the same machine). Counts how floods were answered.

    python3 Scripts/bench/bench_login_flood.py URL KEY MODEL [--requests 20]
"""

import argparse
import statistics
import threading
import time

import httpx


def completion_latencies(url, key, model, n):
    body = {"model": model, "prompt": "The capital of France is", "max_tokens": 16, "temperature": 0,
            "ignore_eos": True}
    times = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as h:
        for _ in range(n):
            start = time.perf_counter()
            r = h.post("/v1/completions", json=body)
            r.raise_for_status()
            times.append(time.perf_counter() - start)
    return times


def flood(url, stop, counts, lock, control):
    with httpx.Client(base_url=url, headers={"X-Muse-App": "1"}, timeout=60) as h:
        while not stop.is_set():
            if control:
                r = h.get("/health")
            else:
                r = h.post("/app/api/login", json={"username": "admin", "password": "not-the-password"})
            with lock:
                counts[r.status_code] = counts.get(r.status_code, 0) + 1


def summary(label, times):
    q = statistics.quantiles(times, n=10)
    print(f"{label}: p50 {statistics.median(times):.3f} s, p90 {q[8]:.3f} s over {len(times)} requests")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("key")
    ap.add_argument("model")
    ap.add_argument("--requests", type=int, default=20)
    a = ap.parse_args()
    completion_latencies(a.url, a.key, a.model, 2)  # warm-up
    summary("no flood", completion_latencies(a.url, a.key, a.model, a.requests))
    # The control floods /health, which does no work: what it costs is the load generator's own
    # CPU and the HTTP handling, on this same machine.
    for label, control in (("8-client login flood", False), ("8-client /health flood (control)", True)):
        stop, lock, counts = threading.Event(), threading.Lock(), {}
        threads = [threading.Thread(target=flood, args=(a.url, stop, counts, lock, control)) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(1)
        try:
            summary(label, completion_latencies(a.url, a.key, a.model, a.requests))
        finally:
            stop.set()
            for t in threads:
                t.join()
        print("  flood answered:", ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
