#!/usr/bin/env python3
"""Evaluate a running server's POST /v1/moderations (OpenAI format) on the moderation and XSTest
files, with the official `openai` SDK (Scripts/e2e's pin), printing the same metrics as
train_moderation_head.py and a markdown table for BENCHMARKS.md.

Overall AUPRC ranks texts by the max of the returned category_scores; overall F1 and the XSTest
rates use the returned `flagged`. A category the response leaves out scores 0.

    python3 Scripts/guard/eval_moderation.py --base-url http://127.0.0.1:8080/v1 --api-key $KEY \
        [--model moderation] [--moderation-file F.jsonl] [--xstest-file F.csv] [--batch 16] [--json out.json]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
from openai import OpenAI

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import moderation_metrics as mm  # noqa: E402


def classify(client, model, texts, batch):
    """(scores (n, 8), flagged (n, 8), overall flag (n,)) for `texts`, `batch` inputs a request."""
    scores = np.zeros((len(texts), len(mm.NAMES)))
    flags = np.zeros((len(texts), len(mm.NAMES)), bool)
    overall = np.zeros(len(texts), bool)
    for start in range(0, len(texts), batch):
        chunk = texts[start:start + batch]
        kwargs = {"input": chunk}
        if model:
            kwargs["model"] = model
        # The raw JSON: the SDK's typed result requires every OpenAI category (harassment/threatening,
        # illicit, ...), which a server with fewer categories does not send.
        response = client.moderations.with_raw_response.create(**kwargs).http_response.json()
        results = response["results"]
        assert len(results) == len(chunk), f"{len(results)} results for {len(chunk)} inputs"
        for i, result in enumerate(results):
            for j, name in enumerate(mm.NAMES):
                scores[start + i, j] = result["category_scores"].get(name) or 0.0
                flags[start + i, j] = bool(result["categories"].get(name))
            overall[start + i] = bool(result["flagged"])
        print(f"  {min(start + batch, len(texts))}/{len(texts)}", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    return scores, flags, overall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-url", default=os.environ.get("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1"))
    ap.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY", "none"))
    ap.add_argument("--model", default=None, help="the request's model field (default: the server's choice)")
    ap.add_argument("--moderation-file", default=mm.DEFAULT_MODERATION)
    ap.add_argument("--xstest-file", default=mm.DEFAULT_XSTEST)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--title", default=None, help="the markdown table's row label")
    ap.add_argument("--json", default=None, help="also write the metrics here")
    args = ap.parse_args()

    client = OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=2, timeout=600)
    texts, labels, any_label = mm.load_moderation(args.moderation_file)
    xs_texts, xs_labels, _ = mm.load_xstest(args.xstest_file)
    began = time.time()
    scores, flags, overall = classify(client, args.model, texts, args.batch)
    _, _, xs_overall = classify(client, args.model, xs_texts, args.batch)
    elapsed = time.time() - began
    metrics, table = mm.report(labels, any_label, scores, flags, scores.max(1), overall, xs_labels, xs_overall)
    metrics["files"] = {os.path.basename(p): mm.sha256(p) for p in (args.moderation_file, args.xstest_file)}
    metrics["seconds"] = elapsed
    print(f"{args.base_url} model={args.model or '(default)'}: {len(texts) + len(xs_texts)} texts in {elapsed:.1f} s")
    print(table)
    print()
    print(mm.markdown(metrics, args.title or (args.model or "moderation")))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(metrics, f, indent=1)


if __name__ == "__main__":
    main()
