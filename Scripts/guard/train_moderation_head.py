#!/usr/bin/env python3
"""Train Muse's built-in moderation head (Sources/MuseServer/Resources/guard/moderation-head.json).

Embeddings: an independent NumPy implementation of all-MiniLM-L6-v2 (minilm_reference.py: the
safetensors weights, Hugging Face `tokenizers`, the BERT forward pass written out), checked at
start against sentence-transformers' golden vectors (Tests/Fixtures/embeddings/minilm-golden.json,
max difference ~2e-7), so neither torch nor Muse itself is needed. Texts longer than a window
(--window, 128 tokens; sentence-transformers reads 256) are cut into the same overlapping token
windows as ModerationClassifier.swift (--stride 64); the heads train on each text's first
window and a text's score is the max over its windows, in cross-validation as in the server.
128 rather than 256: a mean over 256 tokens dilutes a harmful passage at the end of a long calm
text below every threshold (ModerationClassifierTests.longTextIsWindowed); it costs ~0.01 AUPRC.
Features are cached under $MUSE_CACHE_DIR/guard/ (every layer's mean, [CLS] and max: minutes on
two quiet cores, half an hour on a busy machine).

Heads (NumPy, heads.py): L2-regularised logistic regression on the mean-pooled states of every
layer (the embeddings and layers 1-6, each L2-normalised, concatenated: --features) and on the
text's offensive-language logit (`offensive`: alt-profanity-check's SVMs as one linear function,
offensive_language.py, times its FEATURE_SCALE, the same value in every window), one head per
OpenAI category, trained on the texts whose label is known (a missing label is masked out);
XSTest's safe prompts are extra negatives for every category (its unsafe ones carry no category,
so they are masked). A `harm` head, trained on any harm (the moderation set's any-label and
XSTest's safe/unsafe label), gates the categories: a category's score is, per window, the
geometric mean of its head's probability and the harm head's (the few positives of some
categories make their heads rank poorly alone; the harm head has 275 + 98). The overall decision
is "any category reaches its threshold", as OpenAI's `flagged` is, or the harm head reaches a
strict threshold of its own: the lowest that flags at most --gate-cap (2 %) of the harmless texts
of its folds (both sets); a text the harm head flags alone has its highest-scoring category
flagged, so that every flag names a category (--gate-cap 0: the harm head flags nothing;
--no-gate leaves it out). With --request-head an extra `request` head is trained on
XSTest alone (requests for help to harm against their safe look-alikes; the moderation texts are
masked) and joins the decision with a threshold that flags at most 5 % of the safe prompts of
its folds; the shipped head leaves it out (it flags texts with no category, which OpenAI's
format cannot say why). Per head, C is picked from heads.C_GRID by cross-validated AP; each
decision threshold is the F1-best one on out-of-fold (gated) scores.

Evaluation: nested, stratified 5-fold cross-validation with a fixed seed over both dev files
(strata: file × any-label): every reported number is on an outer fold whose C and thresholds
were chosen by an inner 5-fold CV on the other four. AUPRC is average precision over the pooled
outer-fold scores (numpy, checked against scikit-learn when it is importable). The overall
moderation score (for AUPRC) is the max of the category scores, as eval_moderation.py computes
it from a server's category_scores; the overall flag is "any decision head reaches its
threshold". The head written out is refitted on all the data with C and thresholds chosen by a
plain 5-fold CV.

What was tried (nested CV, overall AUPRC / F1; XSTest safe flagged / unsafe caught; 256-token
windows unless said):
  features mean (last layer)            0.771 / 0.713; 5.5 % / 22.4 %   (shipped until 2026-12-07)
    with a `flagged` any-harm head in the decision
                                        0.771 / 0.690; 32.3 % / 73.5 %
    features mean,cls / mean,max        0.776 / 0.698 and 0.776 / 0.676 (with the flagged head)
    --balanced                          0.764 / 0.689 (with the flagged head)
    with --request-head                 0.771 / 0.686; 11.0 % / 54.1 %
  features mean@4,mean --request-head   0.814 / 0.706; 7.9 % / 50.0 %
                                        (its category heads alone: F1 0.723; 1.6 % / 9.2 %)
  every layer's mean, gated by harm, 128-token windows:
                                        0.836 / 0.728; 1.6 % / 5.1 %
    with the `offensive` feature        0.860 / 0.751; 0.8 % / 7.1 %
      and the harm head's own flags, --gate-cap 0.02 (the shipped head)
                                        0.860 / 0.751; 4.7 % / 28.6 %
  Plain 5-fold CV (not nested, so optimistic by ~0.01), to choose what to nest: mean 0.783,
  mean@4,mean 0.812; a one-hidden-layer MLP (64 tanh units, shared by the categories) on mean
  0.791 at weight decay 1, 0.767 at 10; every layer's mean: categories alone 0.803, the harm head
  alone 0.826, gated 0.839 (0.831 with 128-token windows); adding a bag of word pieces to the
  features: +0.001.
  Plain CV of the offensive feature: probability 0.846, logit of the mean probability 0.850, the
  mean logit (shipped) 0.851, against 0.831 without. The issue's AUPRC target (past 0.847 and
  0.856) is reached with it; XSTest's unsafe requests (≥ 90 % caught) are not, by any head here.

    bash Scripts/fixtures/fetch-minilm.sh
    python3 Scripts/guard/train_moderation_head.py          # the shipped head
    python3 Scripts/guard/train_moderation_head.py [--model FOLDER] [--features mean,cls@3,...]
        [--window N --stride S] [--no-gate] [--request-head] [--balanced] [--jobs N] [--no-write]
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
import offensive_language as O  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAD_OUT = os.path.join(ROOT, "Sources/MuseServer/Resources/guard/moderation-head.json")
GOLDEN_OUT = os.path.join(ROOT, "Tests/Fixtures/guard/moderation-golden.json")
SEED = 20260501
GATE = "harm"
GATE_CAP = 0.02
SHIPPED_FEATURES = "mean@0,mean@1,mean@2,mean@3,mean@4,mean@5,mean,offensive"
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
    "I am going to kill you and your whole family tonight.",
    " ".join(f"Sentence {i}: the quiet river flows past the old mill and the green fields." for i in range(1, 40))
    + " Then I will find you and stab you until you stop breathing.",
]


def parse_feature(kind, layers):
    """'mean' / 'cls' / 'max' of the last layer, or of layer N with '@N' (0: the embeddings).
    ('offensive', the scaled offensive-language logit, is handled by its callers.)"""
    pooling, _, layer = kind.partition("@")
    assert pooling in ("mean", "cls", "max"), f"unknown feature {kind}"
    return pooling, int(layer) if layer else layers


def pooled(states, kinds, offensive=None):
    """The features `kinds` of one window's layer states (model.layer_states), each L2-normalised;
    `offensive` is the text's scaled offensive-language logit (offensive_language.py)."""
    parts = []
    for kind in kinds:
        if kind == "offensive":
            parts.append(np.array([offensive]))
            continue
        pooling, layer = parse_feature(kind, len(states) - 1)
        h = states[layer]
        v = {"mean": lambda: h.mean(0), "cls": lambda: h[0], "max": lambda: h.max(0)}[pooling]()
        parts.append(v / max(np.linalg.norm(v), 1e-12))
    return np.concatenate(parts)


def load_features(model, texts, kinds, cache_dir, key, window, stride):
    """Per-window features (w, 384 per pooled kind, 1 for `offensive`) and each window's text
    index; every layer's mean, [CLS] and max are cached by `key` (w, layers + 1, 384)."""
    path = os.path.join(cache_dir, f"minilm-layers-{key}.npz")
    if not os.path.exists(path):
        owner, mean, cls, mx = [], [], [], []
        for i, text in enumerate(texts):
            for ids in model.windows(text, window, stride):
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
        if kind == "offensive":
            parts.append((O.logits(texts) * O.FEATURE_SCALE)[saved["owner"]][:, None])
            continue
        pooling, layer = parse_feature(kind, saved["mean"].shape[1] - 1)
        v = saved[pooling][:, layer, :].astype(np.float64)
        parts.append(v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12))
    return np.concatenate(parts, axis=1), saved["owner"]


def gated(probs, gate):
    """Window probabilities as the server scores them: with a gate, each category's is the
    geometric mean of its own head's and the gate head's; every other head's is its own."""
    return {name: np.sqrt(p * probs[gate]) if gate and name in mm.NAMES else p for name, p in probs.items()}


def name_a_category(flags, scores, k, gate_column):
    """Flags as the server returns them: where the gate flags a text and no category does, the
    text's highest-scoring category is flagged too (`flags` and `scores`: texts × decision heads,
    the first k the categories)."""
    if gate_column is None:
        return flags
    flags = flags.copy()
    alone = flags[:, gate_column] & ~flags[:, :k].any(1)
    flags[alone, np.argmax(scores[alone, :k], axis=1)] = True
    return flags


def thresholds(names, probs, texts, targets, owner, caps):
    """Each head's threshold from cross-validated (gated) window probabilities of `texts`: the
    F1-best, or for a capped head the lowest that flags at most its share of the negatives."""
    out = {}
    for name in names:
        y = targets[name][texts]
        known = ~np.isnan(y)
        s = H.text_max(probs[name], owner, len(targets[name]))[texts]
        pick = (lambda a, b: H.capped_threshold(a, b, caps[name])) if name in caps else mm.best_f1_threshold
        out[name] = pick(y[known], s[known])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=M.default_folder())
    ap.add_argument("--moderation-file", default=mm.DEFAULT_MODERATION)
    ap.add_argument("--xstest-file", default=mm.DEFAULT_XSTEST)
    ap.add_argument("--features", default=SHIPPED_FEATURES,
                    help="comma-separated: mean, cls, max, each optionally @layer (0-6); offensive")
    ap.add_argument("--window", type=int, default=128, help="tokens a window holds, [CLS] and [SEP] included")
    ap.add_argument("--stride", type=int, default=64, help="content tokens between the starts of two windows")
    ap.add_argument("--balanced", action="store_true", help="class-balanced sample weights")
    ap.add_argument("--no-write", action="store_true", help="report CV metrics only")
    ap.add_argument("--no-gate", action="store_true",
                    help="no 'harm' head: each category's score is its own head's alone")
    ap.add_argument("--gate-cap", type=float, default=GATE_CAP,
                    help="the harm head flags on its own above the threshold that flags at most this share of the "
                         "harmless texts (0: it only gates the categories)")
    ap.add_argument("--request-head", action="store_true",
                    help="an extra 'request' head trained on XSTest only (asks for help to harm vs its safe "
                         "look-alikes), its threshold flagging at most 5%% of the inner folds' safe prompts")
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="processes for the heads' cross-validation")
    args = ap.parse_args()
    kinds = args.features.split(",")
    assert 3 <= args.window <= M.MAX_TOKENS and 1 <= args.stride <= args.window - 2, "bad --window / --stride"

    model_sha = mm.sha256(os.path.join(args.model, "model.safetensors"))
    assert model_sha == M.SAFETENSORS_SHA256, f"unexpected model.safetensors {model_sha}"
    model = M.MiniLM(args.model)
    worst = M.check_golden(model, os.path.join(ROOT, "Tests/Fixtures/embeddings/minilm-golden.json"))
    print(f"NumPy MiniLM vs sentence-transformers golden: max |Δ| = {worst:.2e}")

    texts, labels, any_label = mm.load_moderation(args.moderation_file)
    xs_texts, xs_labels, _ = mm.load_xstest(args.xstest_file)
    n, nx = len(texts), len(xs_texts)
    files = {os.path.basename(p): mm.sha256(p) for p in (args.moderation_file, args.xstest_file)}
    key = "-".join(v[:12] for v in files.values()) + f"-{args.window}-{args.stride}"
    cache = os.path.join(os.environ.get("MUSE_CACHE_DIR", os.path.expanduser("~/.cache/muse")), "guard")
    windows, owner = load_features(model, texts + xs_texts, kinds, cache, key, args.window, args.stride)
    first = windows[np.r_[0, np.nonzero(np.diff(owner))[0] + 1]]
    strata = np.r_[np.zeros(n), np.ones(nx)] * 2 + np.r_[any_label, xs_labels]

    targets = {name: np.r_[labels[:, j], np.where(xs_labels == 0, 0.0, np.nan)] for j, name in enumerate(mm.NAMES)}
    gate = None if args.no_gate else GATE
    if gate:
        targets[gate] = np.r_[any_label, xs_labels]
    caps = {}
    if args.request_head:
        targets["request"] = np.r_[np.full(n, np.nan), xs_labels]
        caps["request"] = mm.XSTEST_SAFE_TARGET
    if gate and args.gate_cap > 0:
        caps[gate] = args.gate_cap
    names = list(targets)
    decision = [name for name in names if name != gate or gate in caps]
    everyone = np.arange(n + nx)
    # Heads are independent: one process each (--jobs), the same numbers as one after another.
    with ProcessPoolExecutor(max_workers=args.jobs) as workers:
        tasks = {name: H.Task(first, windows, owner, targets[name]) for name in names}
        nested = {name: workers.submit(tasks[name].nested, strata, FOLDS, SEED, args.balanced) for name in names}
        selected = {name: workers.submit(tasks[name].select, everyone, strata, FOLDS, SEED, args.balanced)
                    for name in names} if not args.no_write else {}
        outer = {name: future.result() for name, future in nested.items()}
        chosen = {name: future.result() for name, future in selected.items()}
    # Per outer fold: thresholds from the inner CV's gated probabilities of its training texts,
    # applied to the test texts' gated scores.
    fold = outer[names[0]][0]
    scores = np.empty((n + nx, len(decision)))
    limits = np.empty((n + nx, len(decision)))
    for f in range(FOLDS):
        train, test = everyone[fold != f], everyone[fold == f]
        inner = gated({name: outer[name][1][f][0] for name in names}, gate)
        chosen_thresholds = thresholds(decision, inner, train, targets, owner, caps)
        tested = gated({name: outer[name][1][f][1] for name in names}, gate)
        for j, name in enumerate(decision):
            scores[test, j] = H.text_max(tested[name], owner, n + nx)[test]
            limits[test, j] = chosen_thresholds[name]
    k = len(mm.NAMES)
    flags = name_a_category(scores >= limits, scores, k, decision.index(gate) if gate in decision else None)
    overall = scores[:, :k].max(1)  # what eval_moderation.py ranks a server's answers by
    any_flagged = flags.any(1)
    metrics, table = mm.report(labels, any_label, scores[:n, :k], flags[:n, :k], overall[:n], any_flagged[:n],
                               xs_labels, any_flagged[n:])
    print(mm.check_against_sklearn(any_label, overall[:n]))
    print(f"\nNested {FOLDS}-fold CV (seed {SEED}), features {args.features}, windows {args.window}/{args.stride}, "
          f"{'balanced' if args.balanced else 'unweighted'}, "
          f"{'gated by the harm head' if gate else 'no gate'}, "
          f"{'with' if args.request_head else 'without'} the request head:\n{table}\n")
    print(mm.markdown(metrics, "MiniLM head (CV)"))
    if len(decision) > k:
        categories_only = (scores[:, :k] >= limits[:, :k]).any(1)
        safe = xs_labels == 0
        print(f"\nThe categories at their own thresholds alone (no flag from the harm or request head): overall F1 "
              f"{mm.f1(any_label, categories_only[:n]):.3f}; XSTest safe flagged "
              f"{np.mean(categories_only[n:][safe]):.1%}, unsafe caught {np.mean(categories_only[n:][~safe]):.1%}")
    if args.no_write:
        return

    # The written heads: C chosen by a plain 5-fold CV on everything, thresholds from that CV's
    # gated out-of-fold probabilities, weights fitted on everything.
    cv = gated({name: chosen[name][2] for name in names}, gate)
    final_thresholds = thresholds(names, cv, everyone, targets, owner, caps)
    fitted = []
    for name in names:
        c, _, _ = chosen[name]
        y = targets[name]
        known = ~np.isnan(y)
        cv_ap = mm.average_precision(y[known], H.text_max(cv[name], owner, n + nx)[known])
        weights, bias = tasks[name].fit(everyone, c, args.balanced)
        fitted.append({"name": name, "c": c, "cv_auprc": cv_ap, "threshold": final_thresholds[name],
                       "bias": float(f"{bias:.7g}"), "weights": [float(f"{w:.7g}") for w in weights]})
    head = {
        "format": "muse-moderation-head/2",
        "categories": mm.NAMES,
        "heads": fitted,
        "features": kinds,
        "window": {"max_tokens": args.window, "stride": args.stride},
        "embedding_model": {"name": "sentence-transformers/all-MiniLM-L6-v2", "sha256": model_sha},
        "training": {"script": "Scripts/guard/train_moderation_head.py", "files": files, "seed": SEED,
                     "folds": FOLDS, "balanced": args.balanced, "request_head": args.request_head,
                     "gate_cap": args.gate_cap if gate else None, "c_grid": H.C_GRID},
        "cv_metrics": metrics,
    }
    if gate:
        head["gate"] = gate
        head["gate_flags"] = gate in caps
    os.makedirs(os.path.dirname(HEAD_OUT), exist_ok=True)
    with open(HEAD_OUT, "w") as f:
        json.dump(head, f, separators=(",", ":"))
        f.write("\n")
    write_golden(model, head)
    print(f"wrote {os.path.relpath(HEAD_OUT, ROOT)} and {os.path.relpath(GOLDEN_OUT, ROOT)}")


def window_features(model, ids, kinds, offensive):
    return pooled(model.layer_states(ids), kinds, offensive)


def write_golden(model, head):
    """Per-window probabilities of every head and the text's scores (gated, max over windows) for
    GOLDEN_TEXTS from the written (rounded) head, for the Swift tests."""
    items = []
    window, stride = head["window"]["max_tokens"], head["window"]["stride"]
    names = [h["name"] for h in head["heads"]]
    for text in GOLDEN_TEXTS:
        windows = model.windows(text, window, stride)
        offensive = float(O.logits([text])[0]) * O.FEATURE_SCALE
        x = np.stack([window_features(model, ids, head["features"], offensive) for ids in windows])
        probs = {h["name"]: H.sigmoid(x @ np.array(h["weights"]) + h["bias"]) for h in head["heads"]}
        scored = gated(probs, head.get("gate"))
        scores = {name: float(scored[name].max()) for name in names}
        deciding = [h for h in head["heads"] if h["name"] != head.get("gate") or head.get("gate_flags")]
        gate_column = next((j for j, h in enumerate(deciding) if h["name"] == head.get("gate")), None)
        row = np.array([[scores[h["name"]] for h in deciding]])
        flags = name_a_category(row >= np.array([[h["threshold"] for h in deciding]]), row, len(mm.NAMES),
                                gate_column)[0]
        flagged = bool(flags.any())
        items.append({"text": text, "windows": len(windows), "tokens": sum(len(w) for w in windows),
                      "window_probabilities": [{name: float(probs[name][i]) for name in names}
                                               for i in range(len(windows))],
                      "scores": scores, "any_flagged": flagged,
                      "flagged_categories": [h["name"] for h, f in zip(deciding, flags) if f and h["name"] in mm.NAMES]})
    out = {"reference": "Scripts/guard/train_moderation_head.py: NumPy MiniLM (minilm_reference.py) -> head",
           "embedding_sha256": head["embedding_model"]["sha256"], "items": items}
    os.makedirs(os.path.dirname(GOLDEN_OUT), exist_ok=True)
    with open(GOLDEN_OUT, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
