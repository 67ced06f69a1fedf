"""Small classifier heads on sentence embeddings, in NumPy: L2-regularised logistic regression
fitted by L-BFGS to a tight tolerance, stratified folds, and cross-validation that picks the
regularisation on inner folds only. A head scores each token window of a text; a text's score
is the max over its windows (after any gating, which train_moderation_head.py applies)."""
import numpy as np
from scipy.optimize import minimize

from moderation_metrics import average_precision

C_GRID = [0.25, 1.0, 4.0, 16.0, 64.0]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def fit_logistic(x, y, c: float, balanced: bool, start=None):
    """Weights and bias minimising Σ wᵢ·logloss + ‖w‖²/(2C) (the bias is not penalised);
    `balanced` weighs each class by n / (2 · its count), as scikit-learn's class_weight="balanced".
    The objective is strictly convex; L-BFGS (scipy) runs to a gradient of 1e-9 per parameter,
    so the optimum does not depend on the method (Newton's, used before, needed O(n·d²) a step,
    too slow for several layers' features in nested cross-validation). `start` (weights, bias):
    where L-BFGS begins (the same optimum, fewer steps from a neighbouring C's solution)."""
    n, d = x.shape
    sample = np.ones(n)
    if balanced:
        for value in (0.0, 1.0):
            count = np.sum(y == value)
            if count:
                sample[y == value] = n / (2.0 * count)
    penalty = np.full(d + 1, 1.0 / c)
    penalty[-1] = 1e-8

    def objective(theta):
        z = x @ theta[:-1] + theta[-1]
        loss = np.sum(sample * (np.logaddexp(0.0, z) - y * z)) + 0.5 * np.sum(penalty * theta * theta)
        r = sample * (sigmoid(z) - y)
        return loss, np.r_[x.T @ r, r.sum()] + penalty * theta

    x0 = np.zeros(d + 1) if start is None else np.r_[start[0], start[1]]
    result = minimize(objective, x0, jac=True, method="L-BFGS-B",
                      options={"maxiter": 5000, "gtol": 1e-9, "ftol": 0.0})
    theta = result.x
    return theta[:-1], float(theta[-1])


def stratified_folds(strata, k: int, seed: int):
    """Fold index of each item: each stratum shuffled with `seed` and dealt round-robin."""
    strata = np.asarray(strata)
    rng = np.random.default_rng(seed)
    fold = np.empty(len(strata), int)
    offset = 0
    for value in np.unique(strata):
        members = np.nonzero(strata == value)[0]
        rng.shuffle(members)
        fold[members] = (np.arange(len(members)) + offset) % k
        offset += len(members)
    return fold


def capped_threshold(y, s, rate: float) -> float:
    """The lowest threshold (flag when score ≥ t) that flags at most `rate` of the negatives:
    for a head whose operating point is a false-positive budget rather than the best F1."""
    negatives = np.sort(np.asarray(s, float)[np.asarray(y) == 0])[::-1]
    allowed = int(np.floor(rate * len(negatives)))
    if allowed >= len(negatives):
        return float(negatives[-1])
    return float(np.nextafter(negatives[allowed], np.inf))  # only scores above the (allowed+1)-th


def text_max(window_probs, owner, count: int):
    """Each text's max over its windows' probabilities (NaN windows ignored; -inf for a text
    with none)."""
    out = np.full(count, -np.inf)
    known = ~np.isnan(window_probs)
    np.maximum.at(out, owner[known], window_probs[known])
    return out


class Task:
    """One head: training rows (first-window features) with known labels, and the features of
    every window of every text."""

    def __init__(self, first, windows, owner, y):
        self.first = first  # (n, d) features of each text's first window
        self.windows = windows  # (w, d) features of every window
        self.owner = owner  # (w,) text index of each window
        self.y = y  # (n,) labels, NaN where unknown

    def fit(self, texts, c, balanced, start=None):
        known = texts[~np.isnan(self.y[texts])]
        return fit_logistic(self.first[known], self.y[known], c, balanced, start)

    def window_probs(self, weights, bias, texts):
        """The probability of every window of the texts `texts`, NaN for other windows."""
        out = np.full(len(self.owner), np.nan)
        rows = np.isin(self.owner, texts)
        out[rows] = sigmoid(self.windows[rows] @ weights + bias)
        return out

    def oof(self, texts, fold, c, balanced, starts=None):
        """Out-of-fold window probabilities of `texts` under the folds `fold` (aligned with
        `texts`), NaN for the windows of other texts; and each fold's fitted head (to start the
        next C's fits from)."""
        out = np.full(len(self.owner), np.nan)
        fitted = {}
        for f in np.unique(fold):
            fitted[f] = self.fit(texts[fold != f], c, balanced, starts[f] if starts else None)
            part = self.window_probs(*fitted[f], texts[fold == f])
            out[~np.isnan(part)] = part[~np.isnan(part)]
        return out, fitted

    def select(self, texts, strata, k, seed, balanced, grid=C_GRID):
        """The C with the best cross-validated AP (of the texts' max-over-windows scores) on
        `texts`, that AP, and that C's out-of-fold window probabilities."""
        fold = stratified_folds(strata[texts], k, seed)
        known = ~np.isnan(self.y[texts])
        best = None
        starts = None
        for c in sorted(grid):
            probs, starts = self.oof(texts, fold, c, balanced, starts)
            s = text_max(probs, self.owner, len(self.first))[texts]
            ap = average_precision(self.y[texts][known], s[known])
            if best is None or ap > best[0]:
                best = (ap, c, probs)
        return best[1], best[0], best[2]

    def nested(self, strata, k, seed, balanced):
        """For each outer fold: the inner (cross-validated, on the other folds) window
        probabilities of the training texts, and the test texts' window probabilities from a
        head with the inner CV's C fitted on all the training texts."""
        texts = np.arange(len(self.first))
        fold = stratified_folds(strata, k, seed)
        out = []
        for f in range(k):
            train, test = texts[fold != f], texts[fold == f]
            c, _, inner = self.select(train, strata, k, seed + 1 + f, balanced)
            weights, bias = self.fit(train, c, balanced)
            out.append((inner, self.window_probs(weights, bias, test)))
        return fold, out
