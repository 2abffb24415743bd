import numpy as np
import pytest

import math

from gan_lab import classifier, metrics
from gan_lab.metrics import nearest_real_distance, pairwise_distance


def test_pairwise_distance_sees_collapse(sample_digits):
    real = sample_digits.images[:200]
    collapsed = np.repeat(real[:1], 200, axis=0)
    assert pairwise_distance(collapsed) == pytest.approx(0.0, abs=1e-3)
    assert pairwise_distance(real) > 0.5
    # Two images, -1 and +1 everywhere: RMS distance 2.
    extremes = np.stack([np.full((4, 4, 1), -1.0), np.full((4, 4, 1), 1.0)]).astype(np.float32)
    assert pairwise_distance(extremes) == pytest.approx(2.0)


def test_nearest_real_distance_floor_and_noise(sample_digits):
    real = sample_digits.images
    assert nearest_real_distance(real[:50], real) == pytest.approx(0.0, abs=1e-3)
    noise = np.random.default_rng(0).uniform(-1, 1, (50, 28, 28, 1)).astype(np.float32)
    held_out_like = real[3000:3050]
    assert nearest_real_distance(noise, real[:3000]) > 2 * nearest_real_distance(held_out_like, real[:3000])


def one_hot(classes, k=10):
    return np.eye(k)[classes]


def test_histogram_measures_on_known_distributions():
    uniform = metrics.class_histogram(one_hot(np.arange(1000) % 10))
    assert metrics.modes_covered(uniform) == 10 and metrics.kl_to_uniform(uniform) == 0
    single = metrics.class_histogram(one_hot(np.full(50, 7)))
    assert metrics.modes_covered(single) == 1
    assert metrics.kl_to_uniform(single) == pytest.approx(math.log(10))
    # A class at 4% is below the 5% threshold (half a uniform share); 5% counts.
    shares = np.array([0.04, 0.05, 0.91, 0, 0, 0, 0, 0, 0, 0])
    assert metrics.modes_covered(shares) == 2
    # Classifier score: K for confident, even predictions; 1 for one class or unsure ones.
    assert metrics.classifier_score(one_hot(np.arange(1000) % 10)) == pytest.approx(10, rel=1e-6)
    assert metrics.classifier_score(one_hot(np.full(50, 3))) == pytest.approx(1.0)
    assert metrics.classifier_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)


def test_frechet_distance_of_gaussians():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20_000, 4))
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # Shifted means: |mu_a - mu_b|^2 = 4 * 0.5^2. Doubled scale, S_b = 4 S_a: the trace
    # term is Tr(S_a + 4 S_a - 2 * 2 S_a) = Tr(S_a) (about 4), plus the means' |mu_a|^2.
    assert metrics.frechet_distance(a, a + 0.5) == pytest.approx(1.0, abs=1e-6)
    expected = np.trace(np.cov(a, rowvar=False)) + (a.mean(0) ** 2).sum()
    assert metrics.frechet_distance(a, 2 * a) == pytest.approx(expected, rel=1e-6)


@pytest.fixture(scope="session")
def digit_classifier():
    return classifier.trained("mnist", "sample")


@pytest.mark.integration
def test_classifier_accuracy_and_cache(digit_classifier):
    assert digit_classifier.source == "sample" and len(digit_classifier.held_out) == 1000
    assert digit_classifier.test_accuracy >= 0.96
    again = classifier.trained("mnist", "sample")  # from the cache: same weights
    assert again.test_accuracy == digit_classifier.test_accuracy
    images = digit_classifier.held_out[:20]
    assert np.allclose(again.predict(images)[0], digit_classifier.predict(images)[0])


def test_real_digits_cover_every_mode_and_one_class_one(digit_classifier):
    held_out = digit_classifier.evaluate(digit_classifier.held_out)
    assert held_out["modes"] == 10 and held_out["kl_uniform"] < 0.01
    assert held_out["classifier_score"] > 8 and held_out["confident"] > 0.9
    sevens = digit_classifier.held_out[digit_classifier.held_out_labels == 7]
    only_sevens = digit_classifier.evaluate(sevens)
    assert only_sevens["modes"] == 1 and only_sevens["kl_uniform"] > 2.1  # ln 10 = 2.303


@pytest.mark.integration
def test_references_and_blur_order(digit_classifier):
    references = digit_classifier.reference_points(samples=1000)
    assert references["real"]["modes"] == 10 and references["real without class 0"]["modes"] == 9
    assert 0.08 < references["real without class 0"]["kl_uniform"] < 0.14  # ln(10/9) = 0.105
    # Precision and recall on the classifier's features: real against held-out real near
    # 1/1; one class only (a perfect collapse) keeps precision and loses recall; noise loses
    # precision. Blurred digits keep precision (their features fall inside the real
    # manifold) and lose recall: the features of blurred digits crowd together.
    real, one_class = references["real"], references["real, class 0 only"]
    assert real["precision"] > 0.7 and real["recall"] > 0.7
    assert one_class["precision"] > 0.7 and one_class["recall"] < 0.3
    assert references["real blurred"]["recall"] < 0.1
    assert references["noise"]["precision"] < 0.1
    images = digit_classifier.held_out
    distances = [digit_classifier.evaluate(metrics.blur(images, sigma))["frechet_distance"]
                 for sigma in (0.5, 1.0, 2.0)]
    assert references["real"]["frechet_distance"] < distances[0] < distances[1] < distances[2]


def test_bad_images_are_refused_with_a_message(digit_classifier):
    with pytest.raises(ValueError, match=r"must lie in \[-1, 1\]"):
        digit_classifier.evaluate(digit_classifier.held_out[:10] * 255)


@pytest.mark.integration
def test_epoch_metrics_in_history_then_evaluate_writes_metrics_csv(digit_classifier, tmp_path,
                                                                   capsys):
    import csv

    from gan_lab.run_folder import RunFolder
    from gan_lab.cli import main

    out = tmp_path / "run"
    assert main(["train", "gan", "--source", "sample", "--limit", "256", "--epochs", "2",
                 "--snapshot-epochs", "1", "--epoch-metrics", "--out", str(out)]) == 0
    for row in RunFolder(out).read_history():
        shares = [row[f"share_{k}"] for k in range(10)]
        assert sum(shares) == pytest.approx(1.0)
        assert row["modes"] == sum(s >= 0.05 for s in shares)
        assert row["kl_uniform"] == pytest.approx(metrics.kl_to_uniform(shares))
    capsys.readouterr()
    assert main(["evaluate", str(out), "--samples", "500"]) == 0
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "(real without class 0)" in printed
    with open(out / "metrics.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [int(r["epoch"]) for r in rows] == [1, 2] and rows[0]["samples"] == "500"
    assert 1 <= int(rows[1]["modes"]) <= 10 and float(rows[1]["frechet_distance"]) > 0
    # The reference rows printed beside the epochs are measured on as many draws.
    from gan_lab import reports

    _, references, _ = reports.evaluate(out, samples=500, log=None)
    assert references["real"]["samples"] == 500


def test_a_preset_names_its_model(capsys):
    from gan_lab.cli import main

    assert main(["train", "dcgan", "--preset", "collapse"]) == 2
    assert "python -m gan_lab train gan --preset collapse" in capsys.readouterr().err


def test_one_process_at_a_time_trains_a_classifier(tmp_path):
    """While one process holds a classifier's lock, another cannot take it (so it waits
    and then loads the cached classifier instead of training its own)."""
    import subprocess
    import sys

    from gan_lab.files import exclusive

    lock = tmp_path / "classifiers" / "mnist-sample-v2.lock"
    probe = ("import fcntl, sys; handle = open(sys.argv[1], 'a')\n"
             "try:\n    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
             "except BlockingIOError:\n    sys.exit(3)\n")
    with exclusive(lock):
        assert subprocess.run([sys.executable, "-c", probe, str(lock)]).returncode == 3
    assert subprocess.run([sys.executable, "-c", probe, str(lock)]).returncode == 0


def test_a_weak_classifier_says_its_measures_mean_little():
    from gan_lab.classifier import Classifier
    from gan_lab.stacked_mnist import StackedCounter

    from gan_lab.classifier import build_classifier

    model = build_classifier()  # untrained: only its 10 classes are read

    def judge(accuracy):
        labels = np.arange(10)
        return Classifier(model, "mnist", "sample", accuracy, np.zeros((10, 28, 28, 1)), labels)

    assert judge(0.25).caveat.strip().startswith("Warning: the classifier is right on only 25%")
    assert "Warning" in judge(0.25).describe() and "Warning" in StackedCounter(judge(0.25)).describe()
    assert judge(0.95).caveat == "" and "Warning" not in judge(0.95).describe()
