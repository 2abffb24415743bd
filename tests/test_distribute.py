"""Training across devices with tf.distribute, on this CPU: split into 2 logical devices for
MirroredStrategy (in a subprocess: the split must come before TensorFlow starts), and two
worker processes on localhost ports for MultiWorkerMirroredStrategy."""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration  # sandboxes, notebooks, whole runs: the full suite

SPLIT_CPU = """
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
"""


def _python(code, cwd, env=None, timeout=420):
    result = subprocess.run([sys.executable, "-c", SPLIT_CPU + textwrap.dedent(code)], cwd=cwd,
                            env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_a_mirrored_step_matches_a_single_device_step(tmp_path):
    """The same global batch of 16 (8 a replica): D's then G's update of the DCGAN (batch
    norm in both networks) leaves the same weights and batch-norm statistics."""
    out = _python("""
    import numpy as np
    from gan_lab import runs, runtime
    from gan_lab.config import TrainConfig
    from gan_lab.data import as_image_set

    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
    z = rng.standard_normal((16, 100)).astype("float32")
    config = TrainConfig.create("dcgan")
    data = as_image_set(real, "mnist")
    single = runs._build_gan(config, data, None, None)
    strategy = runtime.strategy("mirrored")
    mirrored = runs._build_gan(config, data, None, None, strategy)
    assert strategy.num_replicas_in_sync == 2
    for name in ("generator", "discriminator"):
        getattr(mirrored, name).set_weights(getattr(single, name).get_weights())

    def step(gan, real, z):
        fake = gan.fakes_like(real, z)
        d_loss = gan.discriminator_step(real, fake)[0]
        return d_loss, gan.generator_step(real, z)

    losses = step(single, real, z)
    halves = lambda array: strategy.experimental_distribute_values_from_function(
        lambda context: array[8 * context.replica_id_in_sync_group:][:8])
    per_replica = strategy.run(step, args=(mirrored, halves(real), halves(z)))
    mean = [float(np.mean([v.numpy() for v in strategy.experimental_local_results(loss)]))
            for loss in per_replica]
    np.testing.assert_allclose(mean, [float(l) for l in losses], rtol=1e-5)
    for name in ("generator", "discriminator"):
        ours, theirs = (getattr(g, name).get_weights() for g in (mirrored, single))
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            # One Adam step moves a weight by about the learning rate: float noise in the
            # replicas' summed gradients shows on that scale.
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=config.learning_rate / 200)
    noise = strategy.experimental_local_results(strategy.run(mirrored.sample_noise, args=(4,)))
    assert not np.allclose(noise[0], noise[1]), "replicas drew the same noise"
    print("MATCH")
    """, tmp_path)
    assert "MATCH" in out


def test_a_mirrored_run_writes_the_usual_run_and_resumes(tmp_path):
    out = _python("""
    from gan_lab.cli import main

    common = ["train", "gan", "--distribute", "mirrored", "--source", "sample", "--limit",
              "256", "--batch-size", "32", "--out", "run"]
    assert main([*common, "--epochs", "1"]) == 0
    assert main([*common, "--epochs", "2", "--resume"]) == 0
    """, tmp_path)
    run = tmp_path / "run"
    facts = json.loads((run / "config.json").read_text())
    assert facts["distribute"] == "mirrored" and facts["run"]["replicas"] == 2
    lines = (run / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines] == ["epoch", "1", "2"]
    for artifact in ("frames/epoch_0001.png", "frames/epoch_0002.png", "progress.gif",
                     "snapshots/generator_epoch_0002.keras", "checkpoint", "tensorboard"):
        assert (run / artifact).exists(), artifact
    assert np.load(run / "fixed_z.npy").shape == (64, 100)
    assert "Epoch 2/2" in out


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_on_localhost_train_one_model(tmp_path):
    """MultiWorkerMirroredStrategy from TF_CONFIG: two processes, each its own run folder
    (as non-chief workers should), end with the same history and the same frames."""
    workers = [f"localhost:{port}" for port in _free_ports(2)]
    processes = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": json.dumps(
            {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "gan_lab", "train", "gan", "--distribute", "multi_worker",
             "--epochs", "1", "--source", "sample", "--limit", "128", "--batch-size", "32",
             "--out", f"worker{index}"], cwd=tmp_path, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    try:
        outputs = [process.communicate(timeout=300)[0] for process in processes]
    finally:
        for process in processes:
            process.kill()
    assert [p.returncode for p in processes] == [0, 0], "\n".join(o[-2000:] for o in outputs)
    runs = [tmp_path / f"worker{index}" for index in range(2)]
    histories = [(run / "history.csv").read_text().splitlines() for run in runs]
    assert len(histories[0]) == 2 and histories[0][1].split(",")[1:5] == \
        histories[1][1].split(",")[1:5]
    assert (runs[0] / "frames/epoch_0001.png").read_bytes() == \
        (runs[1] / "frames/epoch_0001.png").read_bytes()
    assert json.loads((runs[0] / "config.json").read_text())["run"]["replicas"] == 2
    assert "2/2" in outputs[0]  # 128 images in global batches of 2 x 32: 2 steps


def test_multi_worker_without_tf_config_says_so(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    result = subprocess.run([sys.executable, "-m", "gan_lab", "train", "gan", "--distribute",
                             "multi_worker", "--source", "sample", "--out", "run"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "TF_CONFIG" in result.stderr
    assert not Path(tmp_path / "run").exists()
