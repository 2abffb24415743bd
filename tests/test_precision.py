"""Mixed precision, the GPU's path, checked on the CPU by forcing the policy on tiny models:
float32 outputs and losses from float16/bfloat16 layers, a gradient for every variable,
loss scaling under mixed_float16 only, and checkpoints that move between policies.

Type-correctness only: the CPU computes float16 slowly and says nothing of GPU speed."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lab import checkpoint
from gan_lab import gan as gan_module
from gan_lab.gan import GAN, make_gan
from gan_lab.models import (MinibatchStdDev, conditional_discriminator,
                            conditional_generator, dcgan_discriminator, dcgan_generator,
                            dense_discriminator, dense_generator)
from gan_lab.run_folder import RunFolder
from gan_lab.runtime import policy_scope

MIXED = ["mixed_float16", "mixed_bfloat16"]
LATENT_DIM = 8
BATCH = 16


def tiny_pair(arch):
    """A few-hundred-parameter G and D of each kind: dense (batch norm in G, minibatch
    standard deviation in D), DCGAN (spectrally normalised D), conditional DCGAN."""
    if arch == "gan":
        return (dense_generator(latent_dim=LATENT_DIM, hidden=(16, 16)),
                dense_discriminator(hidden=(16,), minibatch_std=True))
    if arch == "dcgan":
        return (dcgan_generator(latent_dim=LATENT_DIM, widths=(8, 4)),
                dcgan_discriminator(widths=(4, 8), spectral_norm=True))
    return (conditional_generator(latent_dim=LATENT_DIM, widths=(8, 4)),
            conditional_discriminator(widths=(4, 8)))


def batch(arch, seed=0):
    """Real images in [-1, 1], (BATCH, 28, 28, 1), with labels (BATCH,) for the cgan."""
    rng = np.random.default_rng(seed)
    images = tf.constant(rng.uniform(-1, 1, (BATCH, 28, 28, 1)).astype(np.float32))
    labels = tf.constant(np.arange(BATCH) % 10, tf.int32)
    return (images, labels) if arch == "cgan" else images


def inputs(network, first, labels):
    return [first, labels[:len(first)]] if len(network.inputs) == 2 else first


def compute_dtype(policy):
    return keras.DTypePolicy(policy).compute_dtype


def unwrapped(optimizer):
    return getattr(optimizer, "inner_optimizer", optimizer)


# --- outputs, losses, gradients ---------------------------------------------------------


@pytest.mark.parametrize("arch", ["gan", "dcgan", "cgan"])
@pytest.mark.parametrize("policy", MIXED, indirect=True)
def test_the_networks_compute_in_half_precision_and_answer_in_float32(policy, arch):
    generator, discriminator = tiny_pair(arch)
    labels = tf.constant(np.arange(4) % 10, tf.int32)
    z = tf.random.normal((4, LATENT_DIM))
    images = generator(inputs(generator, z, labels))
    logits = discriminator(inputs(discriminator, images, labels))
    assert images.dtype == "float32" and logits.dtype == "float32"
    assert logits.shape == (4, 1) and np.all(np.abs(images.numpy()) <= 1)
    for network in (generator, discriminator):
        assert {v.dtype for v in network.weights} == {"float32"}, network.name
        # The hidden layers really compute in half precision: the first one's output.
        first = next(layer for layer in network.layers
                     if layer.weights and not isinstance(layer, keras.layers.Embedding))
        assert first.compute_dtype == compute_dtype(policy), first.name
        probe = keras.Model(network.inputs, first.output)
        given = z if network is generator else images
        assert probe(inputs(network, given, labels)).dtype == compute_dtype(policy)


@pytest.mark.parametrize("arch", ["gan", "dcgan", "cgan"])
@pytest.mark.parametrize("policy", MIXED, indirect=True)
def test_one_train_step_gives_float32_losses_and_a_gradient_for_every_variable(
        policy, arch, monkeypatch):
    applied = []  # (network, loss as differentiated, loss scale, gradients, variables)
    minimise = gan_module._minimise

    def recording(optimizer, tape, loss, network):
        class Tape:
            def __enter__(self):
                return tape.__enter__()

            def __exit__(self, *raised):
                return tape.__exit__(*raised)

            def gradient(self, target, sources):
                gradients = tape.gradient(target, sources)
                applied.append((network.name, target, float(optimizer.scale_loss(1.0)),
                                gradients, sources))
                return gradients
        minimise(optimizer, Tape(), loss, network)

    monkeypatch.setattr(gan_module, "_minimise", recording)
    gan = make_gan(*tiny_pair(arch), seed=0)
    gan.compile()
    logs = gan.train_step(batch(arch))

    for name, value in logs.items():
        assert value.dtype == "float32" and np.isfinite(float(value)), name
    assert [name for name, *_ in applied] == [gan.discriminator.name, gan.generator.name]
    for (name, scaled, scale, gradients, variables), loss in zip(
            applied, (logs["d_loss"], logs["g_loss"])):
        assert scaled.dtype == "float32" and np.isfinite(float(scaled)), name
        # Scaled up under float16 only (2**15 to start), the loss itself under bfloat16.
        assert scale == (2.0 ** 15 if policy == "mixed_float16" else 1.0), name
        np.testing.assert_allclose(float(scaled), float(loss) * scale, rtol=1e-6)
        for gradient, variable in zip(gradients, variables):
            assert gradient is not None, f"no gradient reaches {variable.path}"
            assert gradient.dtype == variable.dtype == "float32", variable.path
    trained = {id(v) for *_, variables in applied for v in variables}
    assert trained == {id(v) for v in gan.generator.trainable_variables
                       + gan.discriminator.trainable_variables}


@pytest.mark.parametrize("policy", ["float32", *MIXED], indirect=True)
def test_optimizers_are_loss_scaled_under_mixed_float16_only(policy):
    gan = GAN(*tiny_pair("gan"), seed=0)
    gan.compile()
    for optimizer in (gan.d_optimizer, gan.g_optimizer):
        scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        assert scaled == (policy == "mixed_float16")
        assert isinstance(unwrapped(optimizer), keras.optimizers.Adam)
    # What a saved GAN records is the optimizer, not the device's wrapper.
    config = gan.get_compile_config()
    assert config["d_optimizer"]["class_name"] == "Adam"


@pytest.mark.parametrize("policy", MIXED, indirect=True)
def test_minibatch_stddev_has_a_gradient_on_a_collapsed_batch(policy):
    # The batch of copies a collapsed G makes: no spread at all, where sqrt needs its eps.
    copies = tf.ones((BATCH, 4), compute_dtype(policy))
    with tf.GradientTape() as tape:
        tape.watch(copies)
        features = MinibatchStdDev()(copies)
        total = tf.reduce_sum(tf.cast(features, "float32"))
    gradient = tape.gradient(total, copies)
    assert features.dtype == compute_dtype(policy) and features.shape == (BATCH, 5)
    assert np.all(np.isfinite(tf.cast(gradient, "float32").numpy()))


# --- checkpoints across policies --------------------------------------------------------


def training_state(gan):
    """Every variable a checkpoint restores, as (owner, path, value), in the owners' order
    (paths carry Keras' numbered layer names, which differ between two builds)."""
    return [(role, v.path, v.numpy())
            for role, variables in (
                ("generator", gan.generator.variables),
                ("discriminator", gan.discriminator.variables),
                ("d_optimizer", unwrapped(gan.d_optimizer).variables),
                ("g_optimizer", unwrapped(gan.g_optimizer).variables))
            for v in variables]


@pytest.mark.parametrize("policy, restored", [("mixed_float16", "mixed_bfloat16"),
                                              ("mixed_bfloat16", "float32"),
                                              ("float32", "mixed_float16")],
                         indirect=["policy"])
def test_a_checkpoint_resumes_under_another_policy(tmp_path, policy, restored):
    folder = RunFolder(tmp_path / "run").prepare()
    gan = GAN(*tiny_pair("gan"), seed=0)
    gan.compile(jit_compile=False)  # the graph step as a GPU runs it, without XLA's wait
    images = batch("gan").numpy()
    gan.fit(images, batch_size=BATCH // 2, epochs=1, verbose=0)  # two steps
    assert int(unwrapped(gan.g_optimizer).iterations.numpy()) == 2
    checkpoint.save(gan, folder, 1)
    saved = training_state(gan)

    keras.mixed_precision.set_global_policy(restored)  # the fixture puts float32 back
    again = GAN(*tiny_pair("gan"), seed=0)
    again.compile()
    assert not np.array_equal(again.generator.weights[0].numpy(), saved[0][2])  # fresh
    assert checkpoint.restore(again, folder) == 1
    state = training_state(again)
    assert [role for role, *_ in state] == [role for role, *_ in saved]
    for (role, path, value), (_, _, now) in zip(saved, state):
        np.testing.assert_array_equal(now, value, err_msg=f"{role} {path}")
    assert again.generator.layers[1].compute_dtype == compute_dtype(restored)
    assert isinstance(again.g_optimizer, keras.optimizers.LossScaleOptimizer) == (
        restored == "mixed_float16")
    logs = again.train_step(tf.constant(images))  # and trains on under the new policy
    assert all(np.isfinite(float(value)) for value in logs.values())


@pytest.mark.parametrize("flags, gpu, onednn, expected", [
    ({"avx2", "fma"}, False, "", "float32"),
    ({"avx512f", "avx512bw"}, False, "", "float32"),  # AVX-512 without bfloat16
    ({"avx512f", "avx512_bf16"}, False, "", "mixed_bfloat16"),  # e.g. AMD Zen 4
    ({"avx512f", "amx_bf16", "amx_tile"}, False, "", "mixed_bfloat16"),  # e.g. Sapphire Rapids
    ({"avx512f", "avx512_bf16"}, False, "0", "float32"),  # oneDNN off: bfloat16 emulated
    ({"avx2"}, True, "", "mixed_float16"),
])
def test_the_default_policy_follows_the_hardware(monkeypatch, flags, gpu, onednn, expected):
    from gan_lab import runtime

    monkeypatch.setattr(runtime, "cpu_flags", lambda: set(flags))
    monkeypatch.setattr(runtime, "gpus", lambda: ["GPU:0"] if gpu else [])
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", onednn)
    assert runtime.default_policy() == expected


@pytest.mark.parametrize("policy", ["mixed_bfloat16"], indirect=True)
def test_a_policy_scope_builds_in_its_policy_and_restores_the_global_one(policy):
    from gan_lab.classifier import build_classifier

    with policy_scope("float32"):
        judge = build_classifier()
    assert {layer.dtype_policy.name for layer in judge.layers} == {"float32"}
    assert keras.config.dtype_policy().name == "mixed_bfloat16"


@pytest.mark.integration
def test_a_run_records_the_precision_its_networks_trained_in(tmp_path, capsys):
    import json

    from gan_lab import runs

    settings = {"source": "sample", "limit": 128, "batch_size": 64, "snapshot_epochs": [1],
                "tensorboard": False}
    out = tmp_path / "run"
    with policy_scope("mixed_bfloat16"):  # networks built before the global policy changed
        generator, discriminator = tiny_pair("gan")
    runs.train("gan", out=out, epochs=1, generator=generator, discriminator=discriminator,
               **settings)
    assert json.loads((out / "config.json").read_text())["run"]["precision"] == "mixed_bfloat16"

    out = tmp_path / "moved"  # begun on a float32 machine, resumed on a bfloat16 one
    runs.train("gan", out=out, epochs=1, **settings)
    with policy_scope("mixed_bfloat16"):
        runs.train("gan", out=out, epochs=2, resume=True, **settings)
    assert json.loads((out / "config.json").read_text())["run"]["precision"] == (
        "float32 to epoch 1, then mixed_bfloat16")
    assert "epochs 1-1 of this run trained in float32" in capsys.readouterr().out


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_a_mixed_policy_set_with_keras_first_is_kept(monkeypatch, policy):
    from gan_lab import runtime

    monkeypatch.setattr(runtime, "_configured", None)  # as in a fresh kernel
    monkeypatch.delenv(runtime.PRECISION_ENV, raising=False)
    assert runtime.configure() == "mixed_float16"


@pytest.mark.parametrize("policy", MIXED, indirect=True)
def test_the_networks_of_points_compute_in_float32_under_any_policy(policy):
    """bfloat16 spaces numbers near the ring's radius 1 by 0.008, about a mode's standard
    deviation (0.01): the 2-D mixtures' G and D keep float32 whatever the policy, and the
    global policy is left as it was."""
    from gan_lab.models import point_discriminator, point_generator

    networks = point_generator(latent_dim=4, hidden=(8,)), point_discriminator(hidden=(8,),
                                                                                 pack=2)
    for network in networks:
        assert {layer.dtype_policy.name for layer in network.layers} == {"float32"}
    points = networks[0](tf.random.normal((4, 4)))
    assert points.dtype == tf.float32
    assert keras.config.dtype_policy().name == policy
