#!/usr/bin/env python3
"""Train Muse's built-in moderation head (Sources/MuseServer/Resources/guard/moderation-head.json).

Embeddings: an independent NumPy implementation of all-MiniLM-L6-v2 (minilm_reference.py: the
safetensors weights, Hugging Face `tokenizers`, the BERT forward pass written out), checked at
start against sentence-transformers' golden vectors (Tests/Fixtures/embeddings/minilm-golden.json,
max difference ~2e-7), so neither torch nor Muse itself is needed. Texts longer than 256 tokens
are cut into the same overlapping token windows as ModerationClassifier.swift; the heads train on
each text's first window (what sentence-transformers' truncation sees) and a text's score is the
max over its windows, in cross-validation as in the server. Features are cached under
$MUSE_CACHE_DIR/guard/ (every layer's mean, [CLS] and max: minutes on two quiet cores, half an
hour on a busy machine).

Heads (NumPy, heads.py): L2-regularised logistic regression, one per OpenAI category, trained on
the texts whose label is known (a missing label is masked out); XSTest's safe prompts are extra
negatives for every category (its unsafe ones carry no category, so they are masked). The
overall decision is "any category reaches its threshold", as OpenAI's `flagged` is. With
--flagged-head an extra `flagged` head is trained on the moderation set's any-label together with
XSTest's safe/unsafe label and joins the decision: it catches more of XSTest's unsafe prompts but
flags a third of its safe look-alikes (and "the best recipe for chocolate chip cookies"), so the
shipped head leaves it out. With --request-head an extra `request` head is trained on XSTest
alone (requests for help to harm against their safe look-alikes; the moderation texts are
masked) and joins the decision with a threshold that flags at most 5 % of the safe prompts of
its folds (the target's false-refusal budget) instead of the F1-best one; the shipped head has
it. Features: --features names poolings of the layers' states (mean, cls, max; @N for layer N,
0 the embeddings, none for the last), each L2-normalised, concatenated. Per head, C is picked
from heads.C_GRID by cross-validated AP and the threshold is the F1-best one on out-of-fold scores.

Evaluation: nested, stratified 5-fold cross-validation with a fixed seed over both dev files
(strata: file × any-label): every reported number is on an outer fold whose C and threshold
were chosen by an inner 5-fold CV on the other four. AUPRC is average precision over the pooled
outer-fold scores (numpy, checked against scikit-learn when it is importable). The overall
moderation score (for AUPRC) is the max of the category probabilities, as eval_moderation.py
computes it from a server's category_scores; the overall flag is "any head reaches its threshold". The head written out is refitted on all the data with C and threshold
chosen by a plain 5-fold CV.

What was tried (nested CV, overall AUPRC / F1; XSTest safe flagged / unsafe caught):
  features mean (last layer)            0.771 / 0.713; 5.5 % / 22.4 %
    with --flagged-head                 0.771 / 0.690; 32.3 % / 73.5 %
    features mean,cls / mean,max        0.776 / 0.698 and 0.776 / 0.676 (with --flagged-head)
    --balanced                          0.764 / 0.689 (with --flagged-head)
    with --request-head                 0.771 / 0.686; 11.0 % / 54.1 %
  features mean@4,mean --request-head   0.814 / 0.706; 7.9 % / 50.0 %  (the shipped head;
                                        its category heads alone: F1 0.723; 1.6 % / 9.2 %)
  Plain 5-fold CV (not nested, so optimistic by ~0.01), to choose what to nest: mean 0.783,
  mean@4,mean 0.812; a one-hidden-layer MLP (64 tanh units, shared by the categories) on mean
  0.791 at weight decay 1, 0.767 at 10.
  The issue's targets (AUPRC > 0.856; XSTest ≤ 5 % / ≥ 90 %) are not reached by heads on
  frozen MiniLM features.

    bash Scripts/fixtures/fetch-minilm.sh
    python3 Scripts/guard/train_moderation_head.py --features mean@4,mean --request-head   # the shipped head
    python3 Scripts/guard/train_moderation_head.py [--model FOLDER] [--features mean,cls@3,...] [--balanced]
        [--flagged-head] [--request-head] [--jobs N] [--no-write]
"""
import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import heads as H  # noqa: E402
import minilm_reference as M  # noqa: E402
import moderation_metrics as mm  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAD_OUT = os.path.join(ROOT, "Sources/MuseServer/Resources/guard/moderation-head.json")
GOLDEN_OUT = os.path.join(ROOT, "Tests/Fixtures/guard/moderation-golden.json")
SEED = 20260501
FOLDS = 5
GOLDEN_TEXTS = [
    "How can I kill a Python process?",
    "I want to kill my neighbour and hide the body where nobody will find it.",
    "What's the best recipe for chocolate chip cookies?",
    "People of that religion are vermin and should be wiped out.",
    "I've been cutting myself again and I don't want to stop.",
    "You are a worthless idiot and everyone at school hates you.",
    "She slowly undressed and climbed into bed with him.",
    "The soldier's intestines spilled across the mud as the shell exploded.",
    "Café, naïve, résumé — 東京は日本の首都です。 😀",
    "x",
    "How do I whittle a knife?",
    " ".join(f"Sentence {i}: the quiet river flows past the old mill and the green fields." for i in range(1, 40))
    + " Then I will find you and stab you until you stop breathing.",
]


def parse_feature(kind, layers):
    """'mean' / 'cls' / 'max' of the last layer, or of layer N with '@N' (0: the embeddings)."""
    pooling, _, layer = kind.partition("@")
    assert pooling in ("mean", "cls", "max"), f"unknown feature {kind}"
    return pooling, int(layer) if layer else layers


def pooled(states, kinds):
    """The features `kinds` of one window's layer states (model.layer_states), each L2-normalised."""
    parts = []
    for kind in kinds:
        pooling, layer = parse_feature(kind, len(states) - 1)
        h = states[layer]
        v = {"mean": lambda: h.mean(0), "cls": lambda: h[0], "max": lambda: h.max(0)}[pooling]()
        parts.append(v / max(np.linalg.norm(v), 1e-12))
    return np.concatenate(parts)


def load_features(model, texts, kinds, cache_dir, key):
    """Per-window features (w, 384·len(kinds)) and each window's text index; every layer's mean,
    [CLS] and max are cached by `key` (w, layers + 1, 384)."""
    path = os.path.join(cache_dir, f"minilm-layers-{key}.npz")
    if not os.path.exists(path):
        owner, mean, cls, mx = [], [], [], []
        for i, text in enumerate(texts):
            for ids in model.windows(text):
                states = model.layer_states(ids)
                owner.append(i)
                mean.append([h.mean(0) for h in states])
                cls.append([h[0] for h in states])
                mx.append([h.max(0) for h in states])
            if i % 100 == 99:
                print(f"  embedded {i + 1}/{len(texts)} texts", file=sys.stderr)
        os.makedirs(cache_dir, exist_ok=True)
        np.savez(path, owner=np.array(owner), mean=np.array(mean, np.float32), cls=np.array(cls, np.float32),
                 max=np.array(mx, np.float32))
    saved = np.load(path)
    parts = []
    for kind in kinds:
        pooling, layer = parse_feature(kind, saved["mean"].shape[1] - 1)
        v = saved[pooling][:, layer, :].astype(np.float64)
        parts.append(v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12))
    return np.concatenate(parts, axis=1), saved["owner"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=M.default_folder())
    ap.add_argument("--moderation-file", default=mm.DEFAULT_MODERATION)
    ap.add_argument("--xstest-file", default=mm.DEFAULT_XSTEST)
    ap.add_argument("--features", default="mean", help="comma-separated: mean, cls, max, each optionally @layer (0-6)")
    ap.add_argument("--balanced", action="store_true", help="class-balanced sample weights")
    ap.add_argument("--no-write", action="store_true", help="report CV metrics only")
    ap.add_argument("--flagged-head", action="store_true", help="train the extra any-harm head into the decision")
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="processes for the heads' cross-validation")
    ap.add_argument("--request-head", action="store_true",
                    help="an extra 'request' head trained on XSTest only (asks for help to harm vs its safe "
                         "look-alikes), its threshold flagging at most 5%% of the inner folds' safe prompts")
    args = ap.parse_args()
    kinds = args.features.split(",")

    model_sha = mm.sha256(os.path.join(args.model, "model.safetensors"))
    assert model_sha == M.SAFETENSORS_SHA256, f"unexpected model.safetensors {model_sha}"
    model = M.MiniLM(args.model)
    worst = M.check_golden(model, os.path.join(ROOT, "Tests/Fixtures/embeddings/minilm-golden.json"))
    print(f"NumPy MiniLM vs sentence-transformers golden: max |Δ| = {worst:.2e}")

    texts, labels, any_label = mm.load_moderation(args.moderation_file)
    xs_texts, xs_labels, _ = mm.load_xstest(args.xstest_file)
    n, nx = len(texts), len(xs_texts)
    files = {os.path.basename(p): mm.sha256(p) for p in (args.moderation_file, args.xstest_file)}
    key = "-".join(v[:12] for v in files.values()) + f"-{M.MAX_TOKENS}-{M.WINDOW_STRIDE}"
    cache = os.path.join(os.environ.get("MUSE_CACHE_DIR", os.path.expanduser("~/.cache/muse")), "guard")
    windows, owner = load_features(model, texts + xs_texts, kinds, cache, key)
    first = windows[np.r_[0, np.nonzero(np.diff(owner))[0] + 1]]
    strata = np.r_[np.zeros(n), np.ones(nx)] * 2 + np.r_[any_label, xs_labels]

    targets = {name: np.r_[labels[:, j], np.where(xs_labels == 0, 0.0, np.nan)] for j, name in enumerate(mm.NAMES)}
    if args.flagged_head:
        targets["flagged"] = np.r_[any_label, xs_labels]
    caps = {}
    if args.request_head:
        targets["request"] = np.r_[np.full(n, np.nan), xs_labels]
        caps["request"] = mm.XSTEST_SAFE_TARGET
    names = list(targets)
    outer = {}
    # Heads are independent: one process each (--jobs), the same numbers as one after another.
    with ProcessPoolExecutor(max_workers=args.jobs) as workers:
        tasks = {name: H.Task(first, windows, owner, targets[name], caps.get(name)) for name in names}
        nested = {name: workers.submit(tasks[name].nested, strata, FOLDS, SEED, args.balanced) for name in names}
        selected = {name: workers.submit(tasks[name].select, np.arange(n + nx), strata, FOLDS, SEED, args.balanced)
                    for name in names} if not args.no_write else {}
        outer = {name: future.result() for name, future in nested.items()}
        chosen = {name: future.result() for name, future in selected.items()}
    scores = np.stack([outer[c][0] for c in names], 1)
    thresholds = np.stack([outer[c][1] for c in names], 1)
    flags = scores >= thresholds
    k = len(mm.NAMES)
    overall = scores[:, :k].max(1)  # what eval_moderation.py ranks a server's answers by
    any_flagged = flags.any(1)
    metrics, table = mm.report(labels, any_label, scores[:n, :k], flags[:n, :k], overall[:n], any_flagged[:n],
                               xs_labels, any_flagged[n:])
    print(mm.check_against_sklearn(any_label, overall[:n]))
    print(f"\nNested {FOLDS}-fold CV (seed {SEED}), features {args.features}, "
          f"{'balanced' if args.balanced else 'unweighted'}, "
          f"{'with' if args.flagged_head else 'without'} the flagged head, "
          f"{'with' if args.request_head else 'without'} the request head:\n{table}\n")
    print(mm.markdown(metrics, "MiniLM head (CV)"))
    if len(names) > k:
        categories_only = flags[:, :k].any(1)
        safe = xs_labels == 0
        print(f"\nThe categories' heads alone (no extra head in the decision): overall F1 "
              f"{mm.f1(any_label, categories_only[:n]):.3f}; XSTest safe flagged "
              f"{np.mean(categories_only[n:][safe]):.1%}, unsafe caught {np.mean(categories_only[n:][~safe]):.1%}")
    if args.no_write:
        return

    fitted = []
    everyone = np.arange(n + nx)
    for name in names:
        task = H.Task(first, windows, owner, targets[name], caps.get(name))
        c, threshold, cv_ap = chosen[name]
        weights, bias = task.fit(everyone, c, args.balanced)
        fitted.append({"name": name, "c": c, "cv_auprc": cv_ap, "threshold": threshold,
                       "bias": bias, "weights": [float(f"{w:.7g}") for w in weights]})
        fitted[-1]["bias"] = float(f"{bias:.7g}")
    head = {
        "format": "muse-moderation-head/1",
        "categories": mm.NAMES,
        "heads": fitted,
        "features": kinds,
        "window": {"max_tokens": M.MAX_TOKENS, "stride": M.WINDOW_STRIDE},
        "embedding_model": {"name": "sentence-transformers/all-MiniLM-L6-v2", "sha256": model_sha},
        "training": {"script": "Scripts/guard/train_moderation_head.py", "files": files, "seed": SEED,
                     "folds": FOLDS, "balanced": args.balanced, "flagged_head": args.flagged_head,
                     "request_head": args.request_head,
                     "c_grid": H.C_GRID},
        "cv_metrics": metrics,
    }
    os.makedirs(os.path.dirname(HEAD_OUT), exist_ok=True)
    with open(HEAD_OUT, "w") as f:
        json.dump(head, f, separators=(",", ":"))
        f.write("\n")
    write_golden(model, head)
    print(f"wrote {os.path.relpath(HEAD_OUT, ROOT)} and {os.path.relpath(GOLDEN_OUT, ROOT)}")


def window_features(model, ids, kinds):
    return pooled(model.layer_states(ids), kinds)


def write_golden(model, head):
    """Per-head scores of GOLDEN_TEXTS from the written (rounded) head, for the Swift tests."""
    items = []
    for text in GOLDEN_TEXTS:
        windows = model.windows(text)
        x = np.stack([window_features(model, ids, head["features"]) for ids in windows])
        scores = {h["name"]: float(H.sigmoid(x @ np.array(h["weights"]) + h["bias"]).max()) for h in head["heads"]}
        items.append({"text": text, "windows": len(windows), "tokens": sum(len(w) for w in windows),
                      "scores": scores, "any_flagged": any(scores[h["name"]] >= h["threshold"] for h in head["heads"])})
    out = {"reference": "Scripts/guard/train_moderation_head.py: NumPy MiniLM (minilm_reference.py) -> head",
           "embedding_sha256": head["embedding_model"]["sha256"], "items": items}
    os.makedirs(os.path.dirname(GOLDEN_OUT), exist_ok=True)
    with open(GOLDEN_OUT, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
