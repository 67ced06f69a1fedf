"""Small classifier heads on sentence embeddings, in NumPy: L2-regularised logistic regression
fitted by L-BFGS to a tight tolerance, stratified folds, and nested
cross-validation that picks the regularisation and the F1 threshold on inner folds only."""
import numpy as np
from scipy.optimize import minimize

from moderation_metrics import average_precision, best_f1_threshold

C_GRID = [0.25, 1.0, 4.0, 16.0, 64.0]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def fit_logistic(x, y, c: float, balanced: bool):
    """Weights and bias minimising Σ wᵢ·logloss + ‖w‖²/(2C) (the bias is not penalised);
    `balanced` weighs each class by n / (2 · its count), as scikit-learn's class_weight="balanced".
    The objective is strictly convex; L-BFGS (scipy) runs to a gradient of 1e-9 per parameter,
    so the optimum does not depend on the method (Newton's, used before, needed O(n·d²) a step,
    too slow for several layers' features in nested cross-validation)."""
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

    result = minimize(objective, np.zeros(d + 1), jac=True, method="L-BFGS-B",
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


class Task:
    """One head: training rows (first-window features) with known labels, and how to score a text
    (max over its windows). `fpr_cap`: pick the threshold by `capped_threshold` instead of F1."""

    def __init__(self, first, windows, owner, y, fpr_cap=None):
        self.fpr_cap = fpr_cap
        self.first = first  # (n, d) features of each text's first window
        self.windows = windows  # (w, d) features of every window
        self.owner = owner  # (w,) text index of each window
        self.y = y  # (n,) labels, NaN where unknown

    def scores(self, weights, bias, texts):
        """Max over windows of each text's probability, for the text indices `texts`."""
        window_scores = sigmoid(self.windows @ weights + bias)
        out = np.full(len(self.first), -np.inf)
        np.maximum.at(out, self.owner, window_scores)
        return out[texts]

    def fit(self, texts, c, balanced):
        known = texts[~np.isnan(self.y[texts])]
        return fit_logistic(self.first[known], self.y[known], c, balanced)

    def oof(self, texts, fold, c, balanced):
        """Out-of-fold scores of `texts` under the folds `fold` (aligned with `texts`)."""
        out = np.empty(len(texts))
        for f in np.unique(fold):
            weights, bias = self.fit(texts[fold != f], c, balanced)
            out[fold == f] = self.scores(weights, bias, texts[fold == f])
        return out

    def select(self, texts, strata, k, seed, balanced, grid=C_GRID):
        """C with the best cross-validated AP on `texts`, and the F1-best threshold of that C's
        out-of-fold scores."""
        fold = stratified_folds(strata[texts], k, seed)
        known = ~np.isnan(self.y[texts])
        best = None
        for c in grid:
            s = self.oof(texts, fold, c, balanced)
            ap = average_precision(self.y[texts][known], s[known])
            if best is None or ap > best[0]:
                best = (ap, c, s)
        _, c, s = best
        y = self.y[texts][known]
        threshold = best_f1_threshold(y, s[known]) if self.fpr_cap is None else capped_threshold(y, s[known], self.fpr_cap)
        return c, threshold, best[0]

    def nested(self, strata, k, seed, balanced):
        """Outer-fold scores of every text, each from a head whose C and threshold were chosen
        by an inner CV on the other outer folds; and the thresholds used."""
        texts = np.arange(len(self.first))
        fold = stratified_folds(strata, k, seed)
        scores = np.empty(len(texts))
        thresholds = np.empty(len(texts))
        for f in range(k):
            train, test = texts[fold != f], texts[fold == f]
            c, threshold, _ = self.select(train, strata, k, seed + 1 + f, balanced)
            weights, bias = self.fit(train, c, balanced)
            scores[test] = self.scores(weights, bias, test)
            thresholds[test] = threshold
        return scores, thresholds
