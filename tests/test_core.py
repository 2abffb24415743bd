"""The faults users hit in the core (one TrainConfig, one RunFolder, checkpoints by name),
each held by a test that asserts the right value or message."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import layers

from gan_lab import checkpoint, runs
from gan_lab.config import TrainConfig
from gan_lab.data import DataError, load_images
from gan_lab.gan import GAN, ModelError, generate
from gan_lab.models import build_pair, dense_discriminator, dense_generator
from gan_lab.run_folder import RunError, RunFolder

TINY = {"source": "sample", "limit": 128, "batch_size": 64, "epochs": 1,
        "snapshot_epochs": [1]}


def tiny_pair(latent_dim=8):
    return (dense_generator(latent_dim=latent_dim, hidden=(16,)),
            dense_discriminator(hidden=(16,)))


# --- one TrainConfig ---------------------------------------------------------------------


def test_config_applies_the_preset_then_the_users_settings():
    config = TrainConfig.create(preset="collapse", batch_size=32)
    assert config.model == "gan" and config.batch_size == 32  # the user's setting wins
    assert config.learning_rate == 2e-3 and config.epochs == 20 and config.epoch_metrics
    assert dict(config.generator_options) == {"batch_norm": False}
    with pytest.raises(ValueError, match="preset collapse trains the gan model"):
        TrainConfig.create("dcgan", preset="collapse")
    assert TrainConfig.create("gan").run_dir.as_posix() == "runs/gan-mnist"
    assert TrainConfig.create("dcgan", arch="course_cifar", dataset="cifar10").run_dir \
        .as_posix() == "runs/dcgan-course_cifar-cifar10"
    again = TrainConfig.from_json(json.loads(json.dumps(config.to_json())))
    assert again == config


@pytest.mark.parametrize("settings, message", [
    ({"epochs": 0}, "epochs must be a positive integer, got 0"),
    ({"limit": -1}, "limit must be a positive integer"),
    ({"real_label": 0.3}, r"real_label must be in \(0.5, 1\]"),
    ({"update": "simultaneous", "d_steps": 2}, "simultaneous update makes one D update"),
    ({"loss": "wasserstein"}, "unknown loss 'wasserstein'"),
    ({"colour": "blue"}, "unknown training setting"),
])
def test_config_refuses_bad_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig.create("gan", **settings)


def test_cli_maps_its_arguments_onto_the_config(tmp_path, capsys):
    from gan_lab.cli import main

    out = tmp_path / "run"
    assert main(["train", "gan", "--preset", "collapse", "--batch-size", "64", "--epochs", "1",
                 "--limit", "128", "--source", "sample", "--out", str(out)]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["batch_size"] == 64 and saved["preset"] == "collapse"  # not dropped
    assert saved["learning_rate"] == 2e-3 and saved["epochs"] == 1
    capsys.readouterr()
    assert main(["train", "gan", "--source", "sample", "--limit", "128", "--epochs", "1",
                 "--out", str(out)]) == 2
    assert "--overwrite to replace it" in capsys.readouterr().err


# --- one RunFolder -----------------------------------------------------------------------


def test_overwrite_removes_every_run_file_and_nothing_else(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.prepare()
    for path in folder.run_files():
        if path.suffix:
            path.write_text("old")
        else:
            path.mkdir()
            (path / "x").write_text("old")
    (folder.path / "notes.txt").write_text("mine")
    folder.prepare(overwrite=True)
    assert sorted(p.name for p in folder.path.iterdir()) == ["notes.txt"]


def test_importing_gan_lab_leaves_the_umask_alone():
    code = ("import os; before = os.umask(0o027); import gan_lab.files, gan_lab.run_folder; "
            "print(oct(os.umask(0)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "0o27"


def test_compare_draws_one_row_per_run_even_when_folders_share_a_name(tmp_path):
    import shutil

    from gan_lab.cli import main

    first = tmp_path / "alice" / "gan-mnist"
    runs.train("gan", out=first, **TINY, verbose=0)
    second = tmp_path / "bob" / "gan-mnist"
    shutil.copytree(first, second)
    figure = runs.compare([first, second, first], epochs=[1])
    labels = [axis.get_ylabel() for axis in figure.axes]
    assert labels == ["GAN\nalice/gan-mnist", "GAN\nbob/gan-mnist", "GAN\nalice/gan-mnist (2)"]
    assert main(["compare", str(first), str(second), "--epochs", "1",
                 "--out", str(tmp_path / "c.png")]) == 0


# --- checkpoints by name, across precision policies ------------------------------------


@pytest.fixture
def mixed_precision_policy():
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def test_a_mixed_precision_checkpoint_resumes_under_float32(tmp_path, mixed_precision_policy):
    folder = RunFolder(tmp_path / "run").prepare()
    generator, discriminator = tiny_pair()
    gan = GAN(generator, discriminator, seed=0)
    gan.compile()
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    images = load_images("mnist", source="sample", limit=64).images
    gan.fit(images, batch_size=32, epochs=1, verbose=0)
    checkpoint.save(gan, folder, 1)
    saved = [v.numpy() for v in gan.generator.weights]

    keras.mixed_precision.set_global_policy("float32")
    again = GAN(*tiny_pair(), seed=0)
    again.compile()
    assert checkpoint.restore(again, folder) == 1
    for a, b in zip(saved, again.generator.weights):
        np.testing.assert_array_equal(a, b.numpy())
    assert int(again.g_optimizer.iterations.numpy()) == 2


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path):
    folder = RunFolder(tmp_path / "run").prepare()
    gan = GAN(*tiny_pair(), seed=0)
    gan.compile()
    checkpoint.save(gan, folder, 1)
    other = GAN(dense_generator(latent_dim=8, hidden=(32,)), dense_discriminator(hidden=(16,)))
    other.compile()
    with pytest.raises(RunError, match="another architecture"):
        checkpoint.restore(other, folder)


# --- the GAN saved whole -----------------------------------------------------------------


def test_a_trained_gan_saves_and_loads_in_a_fresh_process(tmp_path, sample_digits):
    gan = GAN(*tiny_pair(), seed=0)
    gan.compile(loss="minimax", d_steps=2)
    gan.fit(sample_digits.images[:128], batch_size=64, epochs=1, verbose=0)
    gan.save(tmp_path / "gan.keras")
    gan.save_weights(tmp_path / "gan.weights.h5")
    z = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    np.save(tmp_path / "z.npy", z)
    script = (
        "import numpy as np, keras, gan_lab.gan; "
        f"gan = keras.saving.load_model(r'{tmp_path / 'gan.keras'}'); "
        "assert gan.loss_kind == 'minimax' and gan.d_steps == 2, gan.loss_kind; "
        "assert int(gan.g_optimizer.iterations.numpy()) == 2, gan.g_optimizer.iterations; "
        f"np.save(r'{tmp_path / 'out.npy'}', gan.generate(z=np.load(r'{tmp_path / 'z.npy'}')))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), gan.generate(z=z), atol=1e-6)


# --- models checked before training ------------------------------------------------------


def no_tanh_generator():
    return keras.Sequential([keras.Input((8,)), layers.Dense(32), layers.LeakyReLU(0.2),
                             layers.Dense(784), layers.Reshape((28, 28, 1))])


@pytest.mark.parametrize("networks, message", [
    (lambda: {"generator": no_tanh_generator()}, "images must lie in \\[-1, 1\\].*end it with a tanh"),
    (lambda: {"discriminator": keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
                                                 layers.Dense(1, activation="sigmoid")])},
     "ends in a sigmoid.*must output logits"),
    (lambda: {"discriminator": keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
                                                 layers.Dense(2)])},
     r"one logit per image, shape \(N, 1\); it gives \(64, 2\)"),
    (lambda: {"generator": keras.Sequential([layers.Dense(784, activation="tanh"),
                                             layers.Reshape((28, 28, 1))])},
     "no defined input shape yet; start it with keras.Input"),
])
def test_a_faulty_model_is_refused_before_the_first_batch(tmp_path, networks, message):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=message):
        runs.train("gan", out=out, **TINY, **networks())
    assert not out.exists()  # nothing written, no epoch spent


def test_a_custom_generator_alone_trains_with_a_matching_discriminator(tmp_path):
    generator = keras.Sequential([keras.Input((8,)), layers.Dense(784, activation="tanh"),
                                  layers.Reshape((28, 28, 1))], name="students_g")
    run = runs.train("gan", generator=generator, out=tmp_path / "run", **TINY, verbose=0)
    assert run.gan.generator is generator  # trained, not replaced by the default pair
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["custom_networks"] == ["generator"] and saved["run"]["generator"] == "students_g"
    assert saved["run"]["latent_dim"] == 8


# --- data given the wrong way ------------------------------------------------------------


def test_data_as_a_plain_array_trains(tmp_path, sample_digits):
    run = runs.train("gan", data=sample_digits.images[:128], out=tmp_path / "run",
                     **{**TINY, "limit": None}, verbose=0)
    assert run.history[0]["epoch"] == 1


@pytest.mark.parametrize("data, message", [
    (lambda d: d.images[:128, ..., 0], r"add the channel axis, e.g. images\[..., None\]"),
    (lambda d: (d.images[:128] + 1) / 2, r"lie in \[0, 1\]; scale pixels in \[0, 1\] with x \* 2 - 1"),
    (lambda d: np.rint((d.images[:128] + 1) * 127.5), r"x / 127.5 - 1"),
    (lambda d: [1, 2, 3], "data must be an ImageSet"),
])
def test_data_given_the_wrong_way_is_refused_with_the_fix(tmp_path, sample_digits, data, message):
    out = tmp_path / "run"
    with pytest.raises(DataError, match=message):
        runs.train("gan", data=data(sample_digits), out=out, **TINY)
    assert not out.exists()


# --- smaller -----------------------------------------------------------------------------


def test_resume_with_fewer_epochs_than_done_is_refused(tmp_path):
    out = tmp_path / "run"
    runs.train("gan", out=out, **{**TINY, "epochs": 2}, verbose=0)
    before = (out / "config.json").read_text()
    with pytest.raises(RunError, match="has already trained 2 epochs; pass --epochs 3"):
        runs.train("gan", out=out, **TINY, resume=True)
    assert (out / "config.json").read_text() == before


def test_offline_cifar10_says_how_to_get_it():
    with pytest.raises(DataError, match="cifar10 is not in the TFDS cache") as error:
        load_images("cifar10", source="auto")
    assert "IDX" not in str(error.value)


def test_the_precision_policy_is_set_once_and_never_switched_under_models():
    from gan_lab import runtime

    assert runtime.configure() == "float32"  # the import of gan_lab.models did it already
    with pytest.raises(RuntimeError, match="already set the precision policy to float32"):
        runtime.configure(mixed_precision="mixed_float16")


def test_tensorflow_start_up_lines_are_not_shown():
    done = subprocess.run([sys.executable, "-m", "gan_lab", "train", "--help"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == ""
    code = "import gan_lab.models"
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert quiet.stderr == "", quiet.stderr
