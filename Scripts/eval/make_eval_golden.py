#!/usr/bin/env python3
"""Reference values for `muse eval` (Tests/MuseEvalTests), from independent implementations.

  python3 Scripts/eval/make_eval_golden.py [--data /work/shared/data/eval]

Writes Tests/Fixtures/eval/data/ (a few items of each benchmark file, same layout as the shared
data) and Tests/Fixtures/eval/golden.json:

- prompts and choices of ARC-Challenge, HellaSwag, MMLU (0- and 5-shot), TruthfulQA MC1/MC2 as
  lm-evaluation-harness's own task code builds them (its YAML task configs over the local files;
  `construct_requests` gives the (context, continuation) pairs it would send);
- acc / acc_norm / MC2 of those items for made-up log-likelihoods, by lm-eval's
  `process_results`;
- MMLU-Pro's prompt and answer extraction and HaluEval's prompt and judgement, as
  TIGER-AI-Lab's evaluate_from_api.py and RUCAIBox's evaluate.py state them, run with Python's
  `re` (the formats are the upstream scripts' facts, restated here in Python; those scripts are
  not installable packages);
- 95 % intervals by scipy (sem, norm.ppf) and statsmodels (proportion_confint, wilson);
- the data-set hash of each fixture task, by hashlib.

Pinned versions: Scripts/requirements.txt (lm-eval, scipy, statsmodels).
"""

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import tempfile

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

import lm_eval
from lm_eval.api.task import ConfigurableTask
from lm_eval.tasks._yaml_loader import load_yaml as load_yaml_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "eval")
TASKS_DIR = os.path.join(os.path.dirname(lm_eval.__file__), "tasks")


# --- the fixture data: the first items of each file ----------------------------------------


def head_lines(src, dst, n, extra=lambda line: False):
    with open(src, encoding="utf-8") as f:
        lines = f.read().split("\n")
    kept = lines[:n] + [l for l in lines[n:] if l and extra(l)][:2]
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "w", encoding="utf-8") as f:
        f.write("\n".join(l for l in kept if l) + "\n")


def make_fixture_data(data):
    d = os.path.join(OUT, "data")
    shutil.rmtree(d, ignore_errors=True)
    head_lines(f"{data}/arc/arc_challenge_test.jsonl", f"{d}/arc/arc_challenge_test.jsonl", 6)
    # HellaSwag: WikiHow items carry the "[title]" / "[step]" markers preprocess removes.
    head_lines(
        f"{data}/hellaswag/hellaswag_subset1000.jsonl", f"{d}/hellaswag/hellaswag_subset1000.jsonl", 5,
        extra=lambda l: "[title]" in l or "[step]" in l)
    for subject in ["abstract_algebra", "high_school_us_history"]:
        for split, n in [("dev", 5), ("test", 3)]:
            src = f"{data}/mmlu/{split}/{subject}_{split}.csv"
            dst = f"{d}/mmlu/{split}/{subject}_{split}.csv"
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(src, encoding="utf-8", newline="") as f:
                rows = list(csv.reader(f))
            with open(dst, "w", encoding="utf-8", newline="") as f:
                csv.writer(f, lineterminator="\n").writerows(rows[: n + 1])
    os.makedirs(f"{d}/mmlu-pro-sample", exist_ok=True)
    with open(f"{data}/mmlu-pro-sample/mmlu_pro_sample300.json", encoding="utf-8") as f:
        pro = json.load(f)
    with open(f"{d}/mmlu-pro-sample/mmlu_pro_sample300.json", "w", encoding="utf-8") as f:
        json.dump(pro[:4], f, indent=1)
    os.makedirs(f"{d}/truthfulqa", exist_ok=True)
    with open(f"{data}/truthfulqa/TruthfulQA.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    with open(f"{d}/truthfulqa/TruthfulQA.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows[:6])
    os.makedirs(f"{d}/halueval", exist_ok=True)
    shutil.copy(f"{data}/halueval/qa_evaluation_instruction.txt", f"{d}/halueval/")
    for folder in ["halueval", "mmlu-pro-sample"]:
        shutil.copy(f"{data}/{folder}/LICENSE", f"{d}/{folder}/")
    head_lines(f"{data}/halueval/qa_one-turn_data.json", f"{d}/halueval/qa_one-turn_data.json", 3)
    return d


# --- lm-eval's own task code over the local files ------------------------------------------


def lm_eval_task(yaml_path, docs, **overrides):
    """A ConfigurableTask from lm-eval's YAML with its data replaced by `docs` (a local JSON file)."""
    config = load_yaml_config(yaml_path)
    tmp = tempfile.mkdtemp()
    splits = {}
    for split, rows in docs.items():
        path = os.path.join(tmp, f"{split}.json")
        with open(path, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
        splits[split] = path
    config.update(
        dataset_path="json", dataset_name=None, dataset_kwargs={"data_files": splits}, test_split="test",
        validation_split=None, training_split=None, fewshot_split="dev" if "dev" in docs else None)
    config.pop("group", None)
    config.pop("tag", None)
    config.update(overrides)
    return ConfigurableTask(config=config)


def requests_of(task, doc, context):
    """The (context, continuation) pairs lm-eval sends for a multiple-choice doc."""
    instances = task.construct_requests(doc=doc, ctx=context, metadata=("golden", 0, 1))
    return [list(instance.args) for instance in instances]


def scored(task, doc, n, rng):
    lls = [float(x) for x in rng.normal(-8, 4, size=n)]
    greedy = [False] * n
    return lls, {k: float(v) for k, v in task.process_results(doc, list(zip(lls, greedy))).items()}


def mc_golden(task, docs, shots, rng, ids):
    out = []
    for doc, item_id in zip(docs, ids):
        context = task.fewshot_context(doc, shots)
        pairs = requests_of(task, doc, context)
        lls, metrics = scored(task, doc, len(pairs), rng)
        out.append({
            "id": item_id, "context": context, "continuations": [p[1] for p in pairs],
            "contexts": sorted({p[0] for p in pairs}), "gold": task.doc_to_target(doc),
            "loglikelihoods": lls, "metrics": metrics})
    return out


def arc(d, rng):
    rows = [json.loads(l) for l in open(f"{d}/arc/arc_challenge_test.jsonl", encoding="utf-8") if l.strip()]
    docs = [{
        "id": r["id"], "question": r["question"],
        "choices": {"text": [o["text"] for o in r["options"]], "label": [o["label"] for o in r["options"]]},
        "answerKey": r["answer"]} for r in rows]
    task = lm_eval_task(f"{TASKS_DIR}/arc/arc_challenge.yaml", {"test": docs})
    return mc_golden(task, task.test_docs(), 0, rng, [r["id"] for r in rows])


def hellaswag(d, rng):
    rows = [json.loads(l) for l in open(f"{d}/hellaswag/hellaswag_subset1000.jsonl", encoding="utf-8") if l.strip()]
    docs = [{k: r[k] for k in ["ind", "activity_label", "ctx_a", "ctx_b", "ctx", "endings", "source_id", "split",
                               "split_type"]} | {"label": str(r["label"])} for r in rows]
    task = lm_eval_task(f"{TASKS_DIR}/hellaswag/hellaswag.yaml", {"test": docs})
    return mc_golden(task, task.test_docs(), 0, rng, [str(r["ind"]) for r in rows])


def mmlu(d, rng, shots):
    out = []
    for subject in ["abstract_algebra", "high_school_us_history"]:
        def read(split):
            with open(f"{d}/mmlu/{split}/{subject}_{split}.csv", encoding="utf-8", newline="") as f:
                rows = list(csv.reader(f))[1:]
            return [{"question": r[0], "subject": subject, "choices": r[1:5], "answer": int(r[5])} for r in rows]
        task = lm_eval_task(f"{TASKS_DIR}/mmlu/default/mmlu_{subject}.yaml", {"test": read("test"), "dev": read("dev")})
        docs = list(task.test_docs())
        out += mc_golden(task, docs, shots, rng, [f"{subject}/{i}" for i in range(len(docs))])
    return out


def split_multi_answer(ans, sep=";", close=True):
    """TruthfulQA's utilities.split_multi_answer (the original repository)."""
    answers = ans.strip().split(sep)
    split_answers = []
    for a in answers:
        a = a.strip()
        if len(a):
            if close and a[-1] != ".":
                split_answers.append(a + ".")
            else:
                split_answers.append(a)
    return split_answers


def truthfulqa(d, rng):
    with open(f"{d}/truthfulqa/TruthfulQA.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = {}
    for variant in ["mc1", "mc2"]:
        docs = []
        for r in rows:
            best = split_multi_answer(r["Best Answer"])
            correct = split_multi_answer(r["Correct Answers"])
            wrong = split_multi_answer(r["Incorrect Answers"])
            true = best if variant == "mc1" else correct
            targets = {"choices": true + wrong, "labels": [1] * len(true) + [0] * len(wrong)}
            docs.append({"question": r["Question"], "mc1_targets": targets, "mc2_targets": targets})
        task = lm_eval_task(f"{TASKS_DIR}/truthfulqa/truthfulqa_{variant}.yaml", {"test": docs})
        items = mc_golden(task, task.test_docs(), 0, rng, [str(i) for i in range(len(docs))])
        for item, doc in zip(items, docs):
            item["true_count"] = sum(doc["mc1_targets"]["labels"])
        out[variant] = items
    return out


# --- MMLU-Pro and HaluEval: the upstream scripts' formats, run with Python's re -------------


def mmlu_pro_format_example(question, options, cot_content=""):
    # TIGER-AI-Lab/MMLU-Pro evaluate_from_api.py format_example.
    if cot_content == "":
        cot_content = "Let's think step by step."
    if cot_content.startswith("A: "):
        cot_content = cot_content[3:]
    example = "Question: {}\nOptions: ".format(question)
    choice_map = "ABCDEFGHIJ"
    for i, opt in enumerate(options):
        example += "{}. {}\n".format(choice_map[i], opt)
    if cot_content == "":
        example += "Answer: "
    else:
        example += "Answer: " + cot_content + "\n\n"
    return example


def mmlu_pro_extract(text):
    # evaluate_from_api.py: the reply has "**" removed, then extract_answer / extract_again / extract_final.
    text = text.replace("**", "")
    match = re.search(r"answer is \(?([A-J])\)?", text)
    if match:
        return match.group(1)
    match = re.search(r".*[aA]nswer:\s*([A-J])", text)
    if match:
        return match.group(1)
    match = re.search(r"\b[A-J]\b(?!.*\b[A-J]\b)", text, re.DOTALL)
    return match.group(0) if match else None


def mmlu_pro(d):
    with open(f"{d}/mmlu-pro-sample/mmlu_pro_sample300.json", encoding="utf-8") as f:
        rows = json.load(f)
    items = []
    for r in rows:
        options = [o for o in r["options"] if o != "N/A"]
        prompt = ("The following are multiple choice questions (with answers) about {}. Think step by"
                  " step and then output the answer in the format of \"The answer is (X)\" at the end.\n\n"
                  .format(r["category"]))
        prompt += mmlu_pro_format_example(r["question"], options)
        items.append({"id": str(r["question_id"]), "prompt": prompt, "gold": r["answer"]})
    replies = [
        "Let's see. The answer is (C).", "so the answer is D", "**Answer:** B\nmore text", "I pick A and then B.",
        "Options: (E) looks right.\nAnswer: F", "nothing here", "The answer is (K). Then J", "answer:\n  G",
        "It is \u00e9 or H.", "the Answer: c",
    ]
    shot = mmlu_pro_format_example("What is 1+1?", ["1", "2"], "A: Let's think step by step. 1+1=2. The answer is (B).")
    return {
        "items": items, "extraction": [{"reply": r, "answer": mmlu_pro_extract(r)} for r in replies],
        "shot_example": {"question": "What is 1+1?", "options": ["1", "2"],
                         "cot": "A: Let's think step by step. 1+1=2. The answer is (B).", "text": shot}}


def halueval(d):
    instruction = open(f"{d}/halueval/qa_evaluation_instruction.txt", encoding="utf-8").read()
    rows = [json.loads(l) for l in open(f"{d}/halueval/qa_one-turn_data.json", encoding="utf-8") if l.strip()]
    items = []
    for i, r in enumerate(rows):
        for kind, answer, truth in [("right", r["right_answer"], "No"), ("hallucinated", r["hallucinated_answer"], "Yes")]:
            # RUCAIBox/HaluEval evaluation/evaluate.py get_qa_response: the completion prompt and the chat user message.
            prompt = instruction + "\n\n#Question#: " + r["question"] + "\n#Answer#: " + answer + "\n#Your Judgement#:"
            user = instruction + "\n\n#Question#: " + r["question"] + "\n#Answer#: " + answer + "\n#Your Judgement#: "
            items.append({"id": f"{i}-{kind}", "prompt": prompt, "user": user, "truth": truth})

    def judge(ans):
        ans = ans.replace(".", "")
        if ("Yes" in ans and "No" in ans) or ("Yes" not in ans and "No" not in ans):
            return None
        return "Yes" if "Yes" in ans else "No"

    replies = ["Yes.", "No", "Yes, No", "I cannot say", " No, it is correct.", "Nope"]
    return {"items": items, "judgements": [{"reply": r, "judgement": judge(r)} for r in replies]}


# --- intervals and hashes ------------------------------------------------------------------


def intervals():
    rng = np.random.default_rng(20)
    cases = [
        [1, 0, 1, 1, 0, 0, 0, 1, 1, 1],
        [float(x) for x in (rng.random(250) < 0.27)],
        [0] * 12 + [1],
        [float(x) for x in rng.random(40)],  # an MC2-like continuous metric: no Wilson
    ]
    out = []
    z = float(stats.norm.ppf(0.975))
    for values in cases:
        a = np.array(values, dtype=float)
        sem = float(stats.sem(a, ddof=1))
        entry = {"values": [float(v) for v in a], "mean": float(a.mean()), "stderr": sem,
                 "normal": [float(a.mean() - z * sem), float(a.mean() + z * sem)]}
        if set(np.unique(a)) <= {0.0, 1.0}:
            lo, hi = proportion_confint(int(a.sum()), len(a), alpha=0.05, method="wilson")
            entry["wilson"] = [float(lo), float(hi)]
        out.append(entry)
    return {"z95": z, "cases": out}


def dataset_hash(d, files):
    h = hashlib.sha256()
    for name in files:
        data = open(os.path.join(d, name), "rb").read()
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0")
        h.update(data)
    return h.hexdigest()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "eval"))
    args = parser.parse_args()
    d = make_fixture_data(os.path.abspath(args.data))
    rng = np.random.default_rng(7)
    mmlu_files = sorted(f"mmlu/dev/{n}" for n in os.listdir(f"{d}/mmlu/dev")) + sorted(
        f"mmlu/test/{n}" for n in os.listdir(f"{d}/mmlu/test"))
    golden = {
        "lm_eval_version": lm_eval.__version__ if hasattr(lm_eval, "__version__") else "see requirements",
        "arc-challenge": arc(d, rng),
        "hellaswag": hellaswag(d, rng),
        "mmlu": mmlu(d, rng, 0),
        "mmlu_5shot": mmlu(d, rng, 5),
        "truthfulqa": truthfulqa(d, rng),
        "mmlu-pro": mmlu_pro(d),
        "halueval": halueval(d),
        "intervals": intervals(),
        "dataset_sha256": {
            "arc-challenge": dataset_hash(d, ["arc/arc_challenge_test.jsonl"]),
            "mmlu": dataset_hash(d, mmlu_files),
        },
    }
    with open(os.path.join(OUT, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    print("wrote", os.path.relpath(os.path.join(OUT, "golden.json"), ROOT))


if __name__ == "__main__":
    main()
