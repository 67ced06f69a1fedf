"""Head-of-line blocking against a running server: one long request (max_tokens 1500,
ignore_eos), then 15 short chat requests without max_tokens 0.5 s later; prints the long
request's time and the short ones' latency (p50, max). With admission that reserved
prompt + max_tokens, the short ones (reserving a whole context each) waited for the long one.

    python3 Scripts/bench/bench_head_of_line.py http://127.0.0.1:8080 KEY
"""

import json
import sys
import threading
import time
import urllib.request

QUESTIONS = [
    "Name a fruit.", "What is 2+2?", "Say hi.", "Describe the sea in one sentence.", "Who wrote Hamlet?",
    "What colour is the sky?", "Give me a word that rhymes with cat.", "Name a planet.",
    "What is the capital of Italy?", "Name a colour.", "What is 3+5?", "Name an animal.",
    "What is water made of?", "Name a month.", "Name a day of the week.",
]


def main(url: str, key: str) -> None:
    headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
    models = json.load(urllib.request.urlopen(urllib.request.Request(url + "/v1/models", headers=headers)))
    model = models["data"][0]["id"]

    def call(body: dict, out: list, i: int) -> None:
        body.update({"model": model, "temperature": 0})
        request = urllib.request.Request(url + "/v1/chat/completions", json.dumps(body).encode(), headers)
        start = time.time()
        with urllib.request.urlopen(request, timeout=900) as response:
            answer = json.load(response)
        out[i] = (time.time() - start, answer["usage"]["completion_tokens"])

    long = [None]
    story = {"max_tokens": 1500, "ignore_eos": True,
             "messages": [{"role": "user", "content": "Write a long story about the sea."}]}
    first = threading.Thread(target=call, args=(story, long, 0))
    first.start()
    time.sleep(0.5)
    short = [None] * len(QUESTIONS)
    threads = [threading.Thread(target=call, args=({"messages": [{"role": "user", "content": q}]}, short, i))
               for i, q in enumerate(QUESTIONS)]
    for t in threads:
        t.start()
    for t in threads + [first]:
        t.join()
    latencies = sorted(s[0] for s in short)
    print(f"long request: {long[0][0]:.2f} s, {long[0][1]} tokens; {len(short)} short requests: "
          f"latency p50 {latencies[len(latencies) // 2]:.2f} s, max {latencies[-1]:.2f} s, "
          f"{sum(s[1] for s in short)} tokens")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
