#!/usr/bin/env python3
"""ARC-Challenge by lm-evaluation-harness against a server, and by transformers on the GGUF.

  python3 Scripts/eval/compare_arc.py --base-url http://127.0.0.1:PORT --key KEY --model-id ID \
      --gguf ~/.cache/muse/models/SmolLM2-135M-Instruct.Q4_1.gguf --limit 250 --out DIR \
      [--runs tokenized,text,transformers]

The task is Scripts/eval/tasks/arc_challenge_local.yaml (lm-eval's arc_challenge over a local
JSON file, written here from ../shared/data/eval/arc: the first --limit items, the items
`muse eval --task arc-challenge --limit N` scores). Runs:

- tokenized: lm-eval's `local-completions` in its default mode (token-id prompts);
- text: the same with `tokenized_requests=False` (text prompts);
- transformers: lm-eval's `hf` model loading the GGUF with `gguf_file=` (dequantized weights).

Both server runs use the GGUF's tokenizer through transformers (lm-eval needs one to find the
context's length in tokens; the server has no /tokenizer_info for its remote backend) and send
the key in an Authorization header. Prints acc and acc_norm of each; writes DIR/compare.json.
Versions: Scripts/requirements.txt.
"""

import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_local_data(data_dir, limit, out):
    rows = []
    with open(os.path.join(data_dir, "arc", "arc_challenge_test.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    rows = rows[:limit]
    with open(os.path.join(out, "arc_challenge_local.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            doc = {"id": r["id"], "question": r["question"],
                   "choices": {"text": [o["text"] for o in r["options"]], "label": [o["label"] for o in r["options"]]},
                   "answerKey": r["answer"]}
            f.write(json.dumps(doc) + "\n")
    return len(rows)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base-url", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--model-id", required=True)
    p.add_argument("--gguf", required=True)
    p.add_argument("--limit", type=int, default=250)
    p.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "eval"))
    p.add_argument("--out", required=True)
    p.add_argument("--runs", default="tokenized,text,transformers")
    p.add_argument("--concurrency", type=int, default=2)
    args = p.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import lm_eval
    import transformers
    from lm_eval.models.huggingface import HFLM
    from lm_eval.models.openai_completions import LocalCompletionsAPI
    from lm_eval.tasks import TaskManager

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    n = write_local_data(os.path.abspath(args.data), args.limit, out)
    os.chdir(out)  # the YAML's data_files is relative: the JSON written here

    gguf_dir, gguf_name = os.path.split(os.path.abspath(os.path.expanduser(args.gguf)))
    tokenizer_dir = os.path.join(out, "tokenizer")
    if not os.path.isdir(tokenizer_dir):
        transformers.AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_name).save_pretrained(tokenizer_dir)

    manager = TaskManager(include_path=os.path.join(ROOT, "Scripts", "eval", "tasks"))
    results = {"items": n, "lm_eval": lm_eval.__version__ if hasattr(lm_eval, "__version__") else "",
               "transformers": transformers.__version__, "runs": {}}
    base = args.base_url.rstrip("/")
    if base.endswith("/v1"):
        base = base[:-3]
    for run in args.runs.split(","):
        started = time.time()
        if run in ("tokenized", "text"):
            lm = LocalCompletionsAPI(
                base_url=base + "/v1/completions", model=args.model_id, tokenizer_backend="huggingface",
                tokenizer=tokenizer_dir, tokenized_requests=(run == "tokenized"), num_concurrent=args.concurrency,
                max_retries=3, header={"Authorization": f"Bearer {args.key}"})
        elif run == "transformers":
            lm = HFLM(pretrained=gguf_dir, gguf_file=gguf_name, tokenizer=tokenizer_dir, device="cpu",
                      batch_size=8, dtype="float32")
        else:
            sys.exit(f"unknown run {run}")
        evaluated = lm_eval.simple_evaluate(model=lm, tasks=["arc_challenge_local"], task_manager=manager,
                                            num_fewshot=0, log_samples=False)
        metrics = evaluated["results"]["arc_challenge_local"]
        results["runs"][run] = {
            "acc": metrics["acc,none"], "acc_stderr": metrics["acc_stderr,none"],
            "acc_norm": metrics["acc_norm,none"], "acc_norm_stderr": metrics["acc_norm_stderr,none"],
            "seconds": round(time.time() - started, 1)}
        print(run, json.dumps(results["runs"][run]), flush=True)
    with open(os.path.join(out, "compare.json"), "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
