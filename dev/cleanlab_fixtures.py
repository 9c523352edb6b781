#!/usr/bin/env python3
"""Writes the cleanlab fixtures that tests/audit_cleanlab.rs checks src/audit/confident against.

A development tool only: neither the build nor the tests run it; its output is committed.

Run it from the repository root:

    python3 -m venv /tmp/clvenv
    /tmp/clvenv/bin/pip install cleanlab==2.9.0      # pulls numpy, scikit-learn, pandas
    /tmp/clvenv/bin/python dev/cleanlab_fixtures.py  # writes tests/fixtures/cleanlab/*.json

Each fixture holds the inputs (given labels, and probabilities as integers in units of
1/`scale`; a row's integers sum to `scale`) and what cleanlab 2.9.0 computes from them:
`get_confident_thresholds`, `compute_confident_joint` (uncalibrated and calibrated),
`estimate_latent` (prior, noise matrix, inverse noise matrix) on the calibrated joint,
`estimate_joint`, the mask of `find_label_issues` (filter_by='prune_by_noise_rate',
frac_noise=1.0, min_examples_per_class=1) and the issues ranked by each `rank_by` score
(with the score of each ranked issue).

Probabilities: cleanlab is given the float64 widening of the float32 value `n / scale`,
which is what the Rust code reads (f32 probabilities, f64 arithmetic).

Ties: numpy's default argsort ('quicksort') is not stable, and on x86 it runs a SIMD
sorting network whose order for equal keys depends on the CPU. cleanlab sorts with it in
three places (rounding the calibrated joint, pruning by margin, ranking), so on equal keys
cleanlab's own output differs from machine to machine. The fixtures are computed with
numpy's argsort made stable (equal keys keep their index order), which is the rule the Rust
code follows; `default_sort_differs_in` lists the outputs that unmodified cleanlab computed
differently on the machine that wrote the fixture (equal scores ranked in another order).
"""

import functools
import json
import os
import sys
import warnings

import numpy as np

import cleanlab
from cleanlab.count import (
    compute_confident_joint,
    estimate_joint,
    estimate_latent,
    get_confident_thresholds,
)
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores

RANKS = ["normalized_margin", "self_confidence", "confidence_weighted_entropy"]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "cleanlab")

_default_argsort = np.argsort


def _stable_argsort(a, axis=-1, kind=None, order=None, **kwargs):
    return _default_argsort(a, axis=axis, kind="stable", order=order, **kwargs)


def quantize(probs, scale):
    """Rounds each row to integers in units of 1/scale that sum to scale exactly."""
    ints = np.rint(probs * scale).astype(np.int64)
    for row in ints:
        row[np.argmax(row)] += scale - row.sum()
    assert (ints >= 0).all()
    return ints


def cleanlab_outputs(labels, pred_probs):
    """Everything the Rust code is checked against, from cleanlab's own functions."""
    thresholds = get_confident_thresholds(labels, pred_probs)
    cj = compute_confident_joint(labels, pred_probs, calibrate=False)
    calibrated = compute_confident_joint(labels, pred_probs, calibrate=True)
    prior, noise, inverse = estimate_latent(calibrated, labels)
    joint = estimate_joint(labels, pred_probs)
    mask = find_label_issues(labels, pred_probs, n_jobs=1)
    ranked = {}
    scores = {}
    for rank in RANKS:
        order = find_label_issues(labels, pred_probs, return_indices_ranked_by=rank, n_jobs=1)
        ranked[rank] = [int(i) for i in order]
        all_scores = get_label_quality_scores(labels, pred_probs, method=rank)
        scores[rank] = [float(all_scores[i]) for i in order]
    return {
        "thresholds": [float(t) for t in thresholds],
        "confident_joint": cj.astype(int).tolist(),
        "calibrated_confident_joint": calibrated.astype(int).tolist(),
        "prior": [float(x) for x in prior],
        "noise_matrix": noise.tolist(),
        "inverse_noise_matrix": inverse.tolist(),
        "joint": joint.tolist(),
        "issue_mask": [bool(m) for m in mask],
        "ranked": ranked,
        "ranked_scores": scores,
    }


def write(name, description, labels, ints, scale):
    labels = np.asarray(labels, dtype=np.int64)
    pred_probs = (ints.astype(np.float32) / np.float32(scale)).astype(np.float64)
    np.argsort = _stable_argsort
    try:
        outputs = cleanlab_outputs(labels, pred_probs)
    finally:
        np.argsort = _default_argsort
    default = cleanlab_outputs(labels, pred_probs)
    differs = [k for k in ("calibrated_confident_joint", "issue_mask", "ranked") if default[k] != outputs[k]]
    fixture = {
        "name": name,
        "description": description,
        "cleanlab_version": cleanlab.__version__,
        "numpy_version": np.__version__,
        "default_sort_differs_in": differs,
        "classes": int(ints.shape[1]),
        "scale": scale,
        "labels": labels.tolist(),
        "pred_probs": ints.tolist(),
        **outputs,
    }
    path = os.path.join(OUT, name + ".json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    size = os.path.getsize(path)
    assert size < 100_000, f"{path} is {size} bytes"
    issues = sum(outputs["issue_mask"])
    print(f"{name}: {len(labels)} rows, {ints.shape[1]} classes, {issues} issues, "
          f"default sort differs in: {differs or 'nothing'}, {size} bytes")


def planted(rng, n, k, noise, sharpness, priors=None):
    """True classes, a model's probabilities and given labels with `noise` of them flipped
    to a class the model confuses the true one with."""
    priors = np.full(k, 1.0 / k) if priors is None else np.asarray(priors) / np.sum(priors)
    truth = rng.choice(k, size=n, p=priors)
    confused = (np.arange(k) + 1 + rng.integers(0, max(k - 2, 1), size=k)) % k
    logits = rng.normal(0.0, 1.0, size=(n, k))
    logits[np.arange(n), truth] += sharpness * rng.random(n) + 0.5
    logits[np.arange(n), confused[truth]] += 0.6 * rng.random(n)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    given = truth.copy()
    flip = rng.random(n) < noise
    given[flip] = np.where(rng.random(flip.sum()) < 0.7, confused[truth[flip]], rng.integers(0, k, flip.sum()))
    return given, probs


def main():
    # cleanlab warns about classes too small to prune; the fixtures include them on purpose.
    warnings.simplefilter("ignore")
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20260512)
    scale = 10_000

    labels, probs = planted(rng, 50, 3, 0.15, 3.0)
    write("small_3_classes", "50 rows, 3 classes, 15% planted noise", labels, quantize(probs, scale), scale)

    labels, probs = planted(rng, 200, 5, 0.12, 2.5, priors=[5, 3, 2, 1, 1])
    write("imbalanced_5_classes", "200 rows, 5 imbalanced classes, 12% planted noise",
          labels, quantize(probs, scale), scale)

    labels, probs = planted(rng, 500, 8, 0.10, 3.5)
    write("large_8_classes", "500 rows, 8 classes, 10% planted noise", labels, quantize(probs, scale), scale)

    labels, probs = planted(rng, 300, 6, 0.15, 2.5)
    labels[labels == 2] = 4
    write("class_without_examples", "300 rows, 6 classes, class 2 never given (its rows relabelled 4)",
          labels, quantize(probs, scale), scale)

    labels, probs = planted(rng, 400, 7, 0.20, 0.8)
    write("unconfident_7_classes", "400 rows, 7 classes, a weak model: many rows confident of no class",
          labels, quantize(probs, scale), scale)

    templates = np.array([
        [50, 50, 0, 0],
        [40, 40, 20, 0],
        [25, 25, 25, 25],
        [70, 10, 10, 10],
        [10, 70, 10, 10],
        [10, 10, 70, 10],
        [10, 10, 10, 70],
        [45, 45, 5, 5],
        [30, 30, 30, 10],
        [20, 20, 60, 0],
    ])
    rows = rng.integers(0, len(templates), size=120)
    ints = templates[rows]
    labels = rng.integers(0, 4, size=120)
    labels[:4] = [0, 1, 2, 3]
    write("ties_4_classes", "120 rows drawn from 10 rows of 2-decimal probabilities: ties in argmax, margins, "
          "scores and the calibrated joint's rounding", labels, ints, 100)

    # Probabilities in 64ths (exact in binary), so margins tie exactly: given class 0, three
    # rows (0.25, 0.625, 0.125) are confident of class 1 and three rows (0.125, 0.5, 0.375),
    # confident of nothing, have the same margin 0.375 towards class 1. The calibrated joint
    # prunes 4 of these 6: the stable order takes the 4 earliest.
    rows = ([[56, 4, 4]] * 12 + [[16, 40, 8]] * 3 + [[8, 32, 24]] * 3
            + [[4, 44, 16]] * 6 + [[12, 32, 20]] * 6 + [[4, 4, 56]] * 12)
    given = [0] * 18 + [1] * 12 + [2] * 12
    order = rng.permutation(len(rows))
    write("margin_ties_3_classes", "42 rows in 64ths: equal margins straddle the number of rows "
          "to prune", np.asarray(given)[order], np.asarray(rows)[order], 64)

    labels, probs = planted(rng, 60, 3, 0.0, 2.0)
    labels[:] = 0
    write("one_given_class", "60 rows, 3 classes, every given label 0 (cleanlab accepts a single class only "
          "when it is 0)", labels, quantize(probs, scale), scale)


if __name__ == "__main__":
    sys.exit(main())
