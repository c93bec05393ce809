"""regbook.evaluation: the NumPy confusion matrix and per-class scores against scikit-learn
and Keras/TensorFlow; the report, the plot and the ablation table."""

import keras
import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
import tensorflow as tf
from sklearn import metrics as skm

from regbook import evaluation as E
from regbook.errors import RegbookError
from regbook.training import Run, Runs


@pytest.fixture(scope="module")
def labels():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 300)
    pred = np.where(rng.uniform(size=300) < 0.7, y, rng.integers(0, 5, 300))
    pred[pred == 4] = 3  # class 4 is never predicted: its precision has a zero denominator
    return y, pred


def test_confusion_matrix_matches_sklearn_and_tensorflow(labels):
    y, p = labels
    cm = E.confusion_matrix(y, p)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, p))
    np.testing.assert_array_equal(cm, tf.math.confusion_matrix(y, p).numpy())
    assert cm.sum() == len(y) and cm.shape == (5, 5)
    assert E.confusion_matrix([0, 1], [1, 1], n_classes=4).shape == (4, 4)


def test_per_class_scores_match_sklearn(labels):
    y, p = labels
    s = E.per_class_scores(E.confusion_matrix(y, p))
    prec, rec, f1, sup = skm.precision_recall_fscore_support(y, p, zero_division=0)
    np.testing.assert_allclose(s["precision"], prec)
    np.testing.assert_allclose(s["recall"], rec)
    np.testing.assert_allclose(s["f1"], f1)
    np.testing.assert_array_equal(s["support"], sup)
    assert s["precision"][4] == 0 and s["recall"][4] == 0


def test_per_class_scores_match_keras_metrics(labels):
    y, p = labels
    s = E.per_class_scores(E.confusion_matrix(y, p))
    onehot_true = keras.utils.to_categorical(y, 5)
    onehot_pred = keras.utils.to_categorical(p, 5)
    f1 = keras.metrics.F1Score(average=None, threshold=0.5)
    f1.update_state(onehot_true, onehot_pred)
    np.testing.assert_allclose(f1.result().numpy(), s["f1"], atol=1e-6)
    for k in range(4):
        prec = keras.metrics.Precision(class_id=k)
        rec = keras.metrics.Recall(class_id=k)
        prec.update_state(onehot_true, onehot_pred)
        rec.update_state(onehot_true, onehot_pred)
        assert float(prec.result()) == pytest.approx(s["precision"][k], abs=1e-6)
        assert float(rec.result()) == pytest.approx(s["recall"][k], abs=1e-6)


def test_f1_is_the_harmonic_mean(labels):
    y, p = labels
    s = E.per_class_scores(E.confusion_matrix(y, p))
    ok = s["precision"] > 0
    harmonic = 2 / (1 / s["precision"][ok] + 1 / s["recall"][ok])
    np.testing.assert_allclose(s["f1"][ok], harmonic)


def test_classification_report(labels):
    y, p = labels
    r = E.classification_report(y, p)
    assert r.accuracy == pytest.approx(skm.accuracy_score(y, p))
    assert r.macro_f1 == pytest.approx(skm.f1_score(y, p, average="macro", zero_division=0))
    assert r.macro_precision == pytest.approx(
        skm.precision_score(y, p, average="macro", zero_division=0)
    )
    assert r.macro_recall == pytest.approx(skm.recall_score(y, p, average="macro"))
    md = r.to_markdown()
    assert md.count("\n") == 5 + 2 and "macro average" in md
    assert "accuracy" in r._repr_markdown_()
    assert len(E.classification_report(y[:10], p[:10], n_classes=5).f1) == 5


@pytest.mark.parametrize(
    "args",
    [
        ([0, 1], [0]),
        ([0, 1.5], [0, 1]),
        ([[0, 1]], [[0, 1]]),
        ([], []),
        ([-1, 0], [0, 0]),
        (np.zeros((2, 10)), [0, 1]),
    ],
)
def test_report_rejects_bad_labels(args):
    with pytest.raises(RegbookError):
        E.classification_report(*args)


def test_report_rejects_too_few_classes():
    with pytest.raises(RegbookError, match="n_classes"):
        E.classification_report([0, 3], [0, 1], n_classes=3)


def test_plot_confusion_matrix(labels):
    y, p = labels
    ax = E.plot_confusion_matrix(E.confusion_matrix(y, p), title="test")
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert len(ax.texts) == int((E.confusion_matrix(y, p) > 0).sum())
    with pytest.raises(RegbookError):
        E.plot_confusion_matrix(np.zeros((2, 3)))


def fake_runs(values):
    return Runs(
        Run("x", i, {}, {"val_accuracy": v, "test_accuracy": v - 0.01}, 0.0, 1)
        for i, v in enumerate(values)
    )


def test_ablation_table_mean_and_std():
    t = E.ablation_table(
        {"none": fake_runs([0.8, 0.82, 0.84]), "all": fake_runs([0.9, 0.9, 0.93])},
        keys=("val_accuracy", "test_accuracy"),
    )
    m, s = t.get("none", "val_accuracy")
    assert m == pytest.approx(0.82) and s == pytest.approx(0.02)
    assert t.get("all", "test_accuracy")[0] == pytest.approx(0.9)
    assert t.n_seeds == 3 and t.mean.shape == (2, 2)
    md = t.to_markdown()
    assert "0.820 ± 0.020" in md and md.startswith("| setting |")
    assert "3 seeds" in t._repr_markdown_()
    d = E.ablation_table({"a": {"acc": [1.0, 2.0]}}, keys=("acc",))
    assert d.get("a", "acc") == pytest.approx((1.5, np.std([1, 2], ddof=1)))


@pytest.mark.parametrize(
    "results, keys",
    [
        ({}, ("val_accuracy",)),
        ({"a": fake_runs([0.1])}, ()),
        ({"a": fake_runs([0.1])}, ("train_accuracy",)),
        ({"a": {"x": [1.0]}}, ("y",)),
        ({"a": [1, 2]}, ("val_accuracy",)),
        ({"a": []}, ("val_accuracy",)),
    ],
)
def test_ablation_table_rejects_bad_input(results, keys):
    with pytest.raises(RegbookError):
        E.ablation_table(results, keys)


def test_ablation_table_get_unknown_cell():
    t = E.ablation_table({"a": fake_runs([0.1, 0.2])}, keys=("val_accuracy",))
    with pytest.raises(RegbookError):
        t.get("b", "val_accuracy")
