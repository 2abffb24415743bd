"""The faults users hit in the core (one TrainConfig, one RunFolder, checkpoints by name),
each held by a test that asserts the right value or message."""

import json
import subprocess
import sys
from pathlib import Path

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


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny 2-epoch run of the dense GAN; tests work on copies of it."""
    out = tmp_path_factory.mktemp("trained") / "run"
    runs.train("gan", out=out, **{**TINY, "epochs": 2}, verbose=0)
    return out


@pytest.fixture
def run_copy(trained_run, tmp_path):
    import shutil

    return Path(shutil.copytree(trained_run, tmp_path / "alice" / "gan-mnist"))


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


def test_default_epochs_are_sized_to_the_data():
    from gan_lab.config import DEFAULT_STEPS

    config = TrainConfig.create("dcgan")
    assert config.epochs is None and DEFAULT_STEPS["dcgan"] == 2_500
    assert config.sized_to(4_000).epochs == 40       # 63 steps an epoch at batch 64
    assert config.sized_to(60_000).epochs == 3       # all of MNIST: 938 steps
    assert config.sized_to(100).epochs == 1_250      # 2 steps an epoch
    assert config.replace(d_steps=2).sized_to(4_000).epochs == 78  # 32 steps an epoch
    assert config.replace(model="gan").sized_to(4_000).epochs == 32
    assert config.replace(model="cgan").sized_to(4_000).epochs == 16
    assert config.replace(epochs=3).sized_to(4_000).epochs == 3    # given: kept
    radford = TrainConfig.create(preset="radford")
    assert (radford.model, radford.epochs, radford.batch_size, radford.learning_rate,
            radford.epoch_metrics) == ("dcgan", 100, 128, 2e-4, False)
    assert TrainConfig.create("gan", preset="radford", epochs=3).model == "gan"  # any model


def test_the_dcgan_without_a_preset_is_the_compact_one_and_only_then():
    from gan_lab.config import COMPACT_DCGAN

    compact = {key: tuple(sorted(value.items())) for key, value in COMPACT_DCGAN.items()}
    for config in (TrainConfig.create("dcgan"), TrainConfig.create(),
                   TrainConfig.create("dcgan", dataset="fashion_mnist", loss="hinge")):
        assert (config.generator_options, config.discriminator_options) == (
            compact["generator_options"], compact["discriminator_options"])
    wgan = TrainConfig.create("dcgan", loss="wgan_gp")  # the critic's layer norm added
    assert dict(wgan.discriminator_options) == {"widths": (32, 64), "normalization": "layer"}
    for config in (TrainConfig.create("dcgan", preset="radford"),
                   TrainConfig.create(preset="remedy"),
                   TrainConfig.create("dcgan", dataset="cifar10"),
                   TrainConfig.create("dcgan", dataset="cifar10", arch="course_cifar"),
                   TrainConfig.create("gan"), TrainConfig.create("cgan")):
        assert config.generator_options == config.discriminator_options == ()
    # Options of the caller's own replace both defaults; config.json round-trips them.
    own = TrainConfig.create("dcgan", generator_options={"widths": [64, 32]})
    assert own.generator_options == (("widths", (64, 32)),) and own.discriminator_options == ()
    for config in (TrainConfig.create("dcgan"), own):
        again = TrainConfig.from_json(json.loads(json.dumps(config.to_json())))
        assert again == config and again.resume_differences(config) == []


def test_a_resume_takes_the_saved_runs_epochs_and_networks_where_none_are_named():
    # A DCGAN run begun before the compact default (config.json: no options) resumes as
    # the full-size DCGAN it is, from the same command; networks the caller names must match,
    # even where they are today's defaults; a preset's epochs do not extend a run.
    from gan_lab.config import COMPACT_DCGAN

    full_size = TrainConfig.from_json(json.loads(json.dumps(TrainConfig.create(
        "dcgan", generator_options={}, discriminator_options={}, epochs=3).to_json())))
    assert full_size.generator_options == full_size.discriminator_options == ()
    resumed = TrainConfig.create("dcgan").continuing(full_size)
    assert (resumed.generator_options, resumed.discriminator_options, resumed.epochs) == \
        ((), (), 3)
    assert resumed.resume_differences(full_size) == []
    assert TrainConfig.create("dcgan", epochs=5).continuing(full_size).epochs == 5
    for named in (TrainConfig.create("dcgan", generator_options={"widths": [64, 32]}),
                  TrainConfig.create("dcgan", **COMPACT_DCGAN)):
        kept = named.continuing(full_size)
        assert kept.generator_options == named.generator_options != ()
        assert "generator_options () there" in "; ".join(kept.resume_differences(full_size))
    # Only G named: the saved run's D is kept, and only G is compared.
    compact = TrainConfig.create("dcgan")
    only_g = TrainConfig.create("dcgan", generator_options=dict(compact.generator_options))
    assert only_g.discriminator_options == ()
    assert only_g.continuing(compact).resume_differences(compact) == []
    remedy = TrainConfig.create("dcgan", preset="remedy", epochs=1)
    assert TrainConfig.create("dcgan", preset="remedy").continuing(remedy).epochs == 1
    # The library's train(config, **settings) keeps what the config's caller named.
    assert "epochs" not in TrainConfig.create("dcgan", preset="remedy").named
    assert TrainConfig.create("dcgan", epochs=2).named == ("epochs",)


def test_resume_without_epochs_continues_to_the_runs_own_last_epoch(run_copy):
    settings = {key: value for key, value in TINY.items() if key != "epochs"}
    run = runs.train(model="gan", out=run_copy, resume=True, verbose=0, **settings)
    assert run.config.epochs == 2 and [row["epoch"] for row in run.history] == [1, 2]


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
    theirs = [folder.config_file, folder.history_file, folder.metrics_file, folder.gif_file,
              folder.frame(1), folder.snapshot(1), folder.checkpoint_dir / "checkpoint",
              folder.checkpoint_dir / "state-1.index",
              folder.tensorboard_dir / "events.out.tfevents.1.host"]
    mine = [folder.path / "notes.txt", folder.frames_dir / "annotated_for_report.png",
            folder.snapshots_dir / "my_best.keras", folder.checkpoint_dir / "README_mine.txt"]
    for path in theirs + mine:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    folder.history_file.write_text("epoch,d_loss\n1,0.5\n")
    with pytest.raises(RunError, match="already holds a training run"):
        folder.prepare()
    folder.prepare(overwrite=True)
    assert [p for p in theirs if p.exists()] == []
    assert all(p.exists() for p in mine)
    assert not folder.tensorboard_dir.exists()  # emptied, so removed


def test_a_run_that_never_finished_an_epoch_is_simply_replaced(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.prepare()
    folder.config_file.write_text("{}")  # refused or diverged in epoch 1: config only
    folder.prepare()
    assert not folder.config_file.exists()


def test_resume_without_the_checkpoint_folder_is_refused(run_copy):
    import shutil

    shutil.rmtree(run_copy / "checkpoint")
    with pytest.raises(RunError, match="no checkpoint/ folder"):
        runs.train("gan", out=run_copy, **{**TINY, "epochs": 3}, resume=True)
    assert (run_copy / "snapshots" / "generator_epoch_0001.keras").exists()  # nothing lost
    (run_copy / "config.json").write_text("{not json")
    with pytest.raises(RunError, match="config.json is damaged"):
        RunFolder(run_copy).read_config()


def test_importing_gan_lab_leaves_the_umask_alone():
    code = ("import os; before = os.umask(0o027); import gan_lab.files, gan_lab.run_folder; "
            "print(oct(os.umask(0)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "0o27"


def test_compare_draws_one_row_per_run_even_when_folders_share_a_name(run_copy, tmp_path):
    import shutil

    from gan_lab.cli import main

    first = run_copy
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
    (lambda: {"generator": no_tanh_generator()}, "images must cover \\[-1, 1\\].*end it with a tanh"),
    (lambda: {"discriminator": keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
                                                 layers.Dense(1, activation="sigmoid")])},
     "ends in a sigmoid.*must output logits"),
    (lambda: {"discriminator": keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
                                                 layers.Dense(2)])},
     r"one logit per image, shape \(N, 1\); it gives \(64, 2\)"),
    (lambda: {"generator": keras.Sequential([layers.Dense(784, activation="tanh"),
                                             layers.Reshape((28, 28, 1))])},
     "no defined input shape yet; start it with keras.Input"),
    (lambda: {"generator": keras.Sequential([keras.Input((8,)),
                                             layers.Dense(784, activation="sigmoid"),
                                             layers.Reshape((28, 28, 1))])},
     "must cover \\[-1, 1\\].*end it with a tanh \\(not a sigmoid\\)"),
    (lambda: {"discriminator": keras.Sequential([
        keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(1, activation="sigmoid"),
        layers.Reshape((1,))])}, "ends in a sigmoid"),
    (lambda: {"discriminator": keras.Sequential([
        keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(1),
        layers.Lambda(keras.ops.sigmoid)])}, "ends in a sigmoid"),
    (lambda: {"generator": (lambda z: keras.Model(z, [layers.Reshape((28, 28, 1))(
        layers.Dense(784, activation="tanh")(z)), z]))(keras.Input((8,)))},
     "the generator must have one output"),
    (lambda: {"generator_options": {"widht": 3}}, "takes no option widht; its options are"),
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


def test_data_as_a_plain_array_trains_on_its_limit(tmp_path, sample_digits):
    run = runs.train("gan", data=sample_digits.images, out=tmp_path / "run",
                     **{**TINY, "limit": 100}, verbose=0)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["run"]["images"] == 100 and run.history[0]["epoch"] == 1


@pytest.mark.parametrize("data, message", [
    (lambda d: d.images[:128] / 2, r"lie in \[-0.5, 0.5\]; .*x \* 2 from \[-0.5, 0.5\]"),
    (lambda d: d.images[:128, ..., 0], r"add the channel axis, e.g. images\[..., None\]"),
    (lambda d: (d.images[:128] + 1) / 2, r"lie in \[0, 1\]; scale pixels in \[0, 1\] with x \* 2 - 1"),
    (lambda d: np.rint((d.images[:128] + 1) * 127.5), r"x / 127.5 - 1"),
    (lambda d: [1, 2, 3], r"must have shape \(N, H, W, C\), got \(3,\)"),
    (lambda d: {"images": d.images}, "data must be an ImageSet"),
])
def test_data_given_the_wrong_way_is_refused_with_the_fix(tmp_path, sample_digits, data, message):
    out = tmp_path / "run"
    with pytest.raises(DataError, match=message):
        runs.train("gan", data=data(sample_digits), out=out, **TINY)
    assert not out.exists()


# --- smaller -----------------------------------------------------------------------------


def test_resume_with_fewer_epochs_than_done_is_refused(run_copy):
    before = (run_copy / "config.json").read_text()
    with pytest.raises(RunError, match="has already trained 2 epochs; pass --epochs 3"):
        runs.train("gan", out=run_copy, **TINY, resume=True)
    assert (run_copy / "config.json").read_text() == before


def test_offline_cifar10_says_how_to_get_it():
    with pytest.raises(DataError, match="cifar10 is not in the TFDS cache") as error:
        load_images("cifar10", source="auto")
    assert "IDX" not in str(error.value)


def test_the_precision_policy_is_set_once_and_never_switched_under_models():
    from gan_lab import runtime

    assert runtime.configure() == "float32"  # the import of gan_lab.models did it already
    with pytest.raises(RuntimeError, match="already set the precision policy to float32"):
        runtime.configure(mixed_precision="mixed_float16")


def test_a_policy_chosen_before_the_models_import_is_kept():
    # runtime's docstring: call configure(...) before importing what builds models.
    code = ("from gan_lab import runtime; runtime.configure('mixed_bfloat16'); "
            "import gan_lab.models; print(runtime.precision())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-1500:]
    assert done.stdout.split() == ["mixed_bfloat16"]


def test_tensorflow_start_up_lines_are_not_shown():
    done = subprocess.run([sys.executable, "-m", "gan_lab", "train", "--help"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == ""
    code = "import gan_lab.models"
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert quiet.stderr == "", quiet.stderr


def test_a_list_of_two_images_is_images_not_images_and_labels(sample_digits):
    from gan_lab.data import as_image_set

    assert as_image_set(list(sample_digits.images[:2])).images.shape == (2, 28, 28, 1)
    pair = as_image_set((sample_digits.images[:2], sample_digits.labels[:2]))
    assert pair.labels.tolist() == sample_digits.labels[:2].tolist()


def test_a_refused_overwrite_keeps_the_old_run(run_copy, sample_digits):
    before = sorted(p.relative_to(run_copy) for p in run_copy.rglob("*"))
    with pytest.raises(DataError, match="a conditional GAN trains on labelled images"):
        runs.train("cgan", data=sample_digits.images[:128], out=run_copy, overwrite=True,
                   **{**TINY, "limit": None})
    assert sorted(p.relative_to(run_copy) for p in run_copy.rglob("*")) == before


def test_a_frame_deleted_by_hand_does_not_stop_a_resume(run_copy):
    (run_copy / "frames" / "epoch_0001.png").unlink()
    run = runs.train("gan", out=run_copy, **{**TINY, "epochs": 3}, resume=True, verbose=0)
    assert [row["epoch"] for row in run.history] == [1, 2, 3]
    assert (run_copy / "progress.gif").exists()


@pytest.mark.parametrize("settings, message", [
    ({"seed": -1}, "seed must be a whole number"),
    ({"seed": 1.5}, "seed must be a whole number"),
    ({"real_label": "0.9"}, "real_label must be a finite number"),
    ({"g_learning_rate": float("inf")}, "g_learning_rate must be a finite number"),
    ({"gp_weight": -5}, "gp_weight must be at least 0"),
    ({"spectral_norm": "yes"}, "spectral_norm must be True or False"),
    ({"loss": "wgan_gp", "update": "simultaneous"}, "wgan_gp takes several critic steps"),
])
def test_config_refuses_wrong_types_with_the_setting_named(settings, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig.create("gan", **settings)


def test_measures_refuse_inputs_that_are_not_what_they_measure():
    from gan_lab import metrics

    with pytest.raises(ValueError, match="finite values in \\[0, 1\\]"):
        metrics.class_histogram(np.full((5, 10), np.nan))
    with pytest.raises(ValueError, match="shares summing to 1 \\(divide counts"):
        metrics.kl_to_uniform([5, 5, 0, 0])
    with pytest.raises(ValueError, match="at least 2 feature vectors"):
        metrics.frechet_distance(np.ones((1, 4)), np.ones((5, 4)))
    with pytest.raises(ValueError, match="shape \\(N, K\\)"):
        metrics.classifier_score(np.ones(10) / 10)


def test_a_short_first_epoch_still_draws_something(tmp_path):
    # 2 steps an epoch: batch norm's moving statistics must settle within them, else the
    # epoch-1 frame (inference mode) is a flat grey
    run = runs.train("dcgan", out=tmp_path / "run", **{**TINY, "batch_size": 64}, verbose=0)
    momenta = {layer.momentum for layer in run.gan.generator.layers
               if isinstance(layer, layers.BatchNormalization)}
    assert momenta and max(momenta) <= 0.05 ** (1 / 2) + 1e-9
    images = run.gan.generate(z=np.load(tmp_path / "run" / "fixed_z.npy"))
    assert images.std(axis=(1, 2, 3)).mean() > 0.1  # flat grey measured 0.03 before
