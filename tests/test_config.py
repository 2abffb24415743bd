"""One TrainConfig: presets, defaults, resume settings and the settings it refuses."""

import json

import pytest

from gan_lab import runs
from gan_lab.config import TrainConfig

from helpers import TINY


# --- one TrainConfig ---------------------------------------------------------------------


def test_config_applies_the_preset_then_the_users_settings():
    config = TrainConfig.create(preset="frozen_d", batch_size=32)
    assert config.model == "gan" and config.batch_size == 32  # the user's setting wins
    assert config.dataset == "ring" and config.latent_dim == 64  # the points' settings
    assert config.rates() == (0.0, 1e-3) and config.epochs == 2
    assert dict(config.generator_options) == {"bound": 1.35}  # the ring's frame
    assert dict(TrainConfig.create(preset="frozen_d", dataset="grid").generator_options) \
        == {"bound": 5.5}  # the grid's (a breaker found the ring's 1.35 kept there)
    with pytest.raises(ValueError, match="within a 2-D mixture's frame: train it on ring or"):
        TrainConfig.create(preset="frozen_d", dataset="mnist")
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
    # Options of the caller's own go on top of the compact ones (--minibatch-std keeps the
    # compact widths); config.json round-trips them.
    own = TrainConfig.create("dcgan", generator_options={"widths": [64, 32]})
    assert own.generator_options == (("kernel", 3), ("widths", (64, 32)))
    assert own.discriminator_options == compact["discriminator_options"]
    mbstd = TrainConfig.create("dcgan", discriminator_options={"minibatch_std": True})
    assert dict(mbstd.discriminator_options) == {"widths": (32, 64), "minibatch_std": True}
    assert mbstd.generator_options == compact["generator_options"]
    for config in (TrainConfig.create("dcgan"), own):
        again = TrainConfig.from_json(json.loads(json.dumps(config.to_json())))
        assert again == config and again.resume_differences(config) == []


def test_a_resume_takes_the_saved_runs_epochs_and_networks_where_none_are_named():
    # A DCGAN run begun before the compact default (config.json: no options) resumes as
    # the full-size DCGAN it is, from the same command; networks the caller names must match,
    # even where they are today's defaults; a preset's epochs do not extend a run.
    from gan_lab.config import COMPACT_DCGAN

    saved = {**TrainConfig.create("dcgan", epochs=3).to_json(), "generator_options": {},
             "discriminator_options": {}}
    full_size = TrainConfig.from_json(json.loads(json.dumps(saved)))
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
    assert only_g.continuing(full_size).discriminator_options == ()  # the saved run's D
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


def test_packing_a_conditional_gan_is_refused_by_the_one_rule_the_api_and_the_cli_share():
    from gan_lab.options import check_rules

    with pytest.raises(ValueError, match="applies to unconditional GANs") as from_config:
        TrainConfig.create("cgan", pack=2)
    with pytest.raises(ValueError, match="applies to unconditional GANs") as from_compile:
        check_rules("non_saturating", "alternating", 1, 1, 1.0, pack=2, conditional=True)
    assert str(from_config.value) == str(from_compile.value)


@pytest.mark.integration
def test_cli_maps_its_arguments_onto_the_config(tmp_path, capsys):
    from gan_lab.cli import main

    out = tmp_path / "run"
    assert main(["train", "dcgan", "--preset", "collapse", "--epochs", "1"]) == 2
    assert "preset collapse trains the gan model" in capsys.readouterr().err
    assert main(["train", "gan", "--preset", "collapse", "--batch-size", "64", "--epochs", "1",
                 "--limit", "128", "--out", str(out)]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["batch_size"] == 64 and saved["preset"] == "collapse"  # not dropped
    assert saved["dataset"] == "ring" and saved["epochs"] == 1
    assert (saved["learning_rate"], saved["g_learning_rate"]) == (1e-4, 1e-3)
    capsys.readouterr()
    assert main(["train", "gan", "--source", "sample", "--limit", "128", "--epochs", "1",
                 "--out", str(out)]) == 2
    assert "--overwrite to replace it" in capsys.readouterr().err


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


def test_a_saved_config_is_read_as_saved_and_the_loss_settings_sit_under_the_presets():
    # Reloading a run never re-applies today's preset or defaults: its networks are its own.
    saved = {**TrainConfig.create("gan", preset="collapse").to_json(),
             "discriminator_options": {}}
    assert TrainConfig.from_json(saved).discriminator_options == ()
    # A loss's paper settings fill what the preset leaves; the preset's and the caller's win.
    radford = TrainConfig.create("dcgan", preset="radford", loss="wgan_gp")
    assert radford.learning_rate == 2e-4 and radford.d_steps == 5
    assert TrainConfig.create("dcgan", preset="radford", loss="wgan_gp",
                              learning_rate=3e-4).learning_rate == 3e-4


def test_a_builders_option_given_as_a_setting_says_where_it_belongs():
    # runs.train(..., minibatch_std=True) as the CLI's --minibatch-std suggests (a breaker).
    with pytest.raises(ValueError, match=r"pass discriminator_options=\{'minibatch_std'"):
        TrainConfig.create("gan", minibatch_std=True)
    with pytest.raises(ValueError, match=r"pass generator_options=\{'bound'"):
        TrainConfig.create("gan", bound=2.0)
    with pytest.raises(ValueError, match=r"pass generator_options=\{'hidden': \.\.\.\} or "
                                         r"discriminator_options=\{'hidden'"):
        TrainConfig.create("gan", hidden=(64,))
    for unknown in ("colour", "image_shape"):  # the shapes are the run's to give
        with pytest.raises(ValueError, match=rf"unknown training setting\(s\): {unknown}$"):
            TrainConfig.create("gan", **{unknown: 1})
