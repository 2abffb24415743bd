"""Shared test set-up: CPU only, quiet TensorFlow, and no network for any test."""

import gc
import os
import socket
import tempfile

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # every test runs on the CPU
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The suite builds hundreds of tiny models, and XLA would compile each for seconds: tests run
# the graph step. The kill-and-resume runs (tests/test_resume.py) train with each step
# path, and README command 1 in CI with the machine's default.
os.environ.setdefault("GAN_LAB_XLA", "0")
# And in float32, so the same figures come out on every CPU kind (the default is bfloat16
# where the CPU has it); tests/test_resume.py and test_precision.py train the mixed policies.
os.environ.setdefault("GAN_LAB_PRECISION", "float32")
MAX_WORKERS = 4  # -n auto: TensorFlow's memory a worker, and the hostile class's 3 sandboxes
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Under pytest-xdist (-n N) the workers share the cores instead of each oversubscribing
    # them (their notebooks and command lines too).
    _share = max(1, (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", 1)))
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(_share))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
# An empty TFDS cache: tensorflow-datasets reads this once, at import.
os.environ["TFDS_DATA_DIR"] = tempfile.mkdtemp(prefix="gan_lab_tfds_")
_MADE_HERE = [os.environ["TFDS_DATA_DIR"]]  # removed when this process's pytest ends
# Classifiers for the metrics train once per test run, not into the user's cache. The
# pytest process makes the run's cache before pytest-xdist (-n) starts its workers, which
# inherit it: they share one cache, and gan_lab's lock lets one of them train.
if not os.environ.get("PYTEST_XDIST_WORKER") or not os.environ.get("GAN_LAB_TEST_CACHE"):
    os.environ["GAN_LAB_TEST_CACHE"] = tempfile.mkdtemp(prefix="gan_lab_cache_")
    _MADE_HERE.append(os.environ["GAN_LAB_TEST_CACHE"])
os.environ["GAN_LAB_CACHE"] = os.environ["GAN_LAB_TEST_CACHE"]

import numpy as np  # noqa: E402
import pytest  # noqa: E402


class NetworkBlocked(OSError):
    pass


def _refuse(*args, **kwargs):
    raise NetworkBlocked("tests may not use the network")


_connect = socket.socket.connect


def _local_only(sock, address):
    # Unix sockets stay open: they reach only this machine's processes, not a network.
    if sock.family == socket.AF_UNIX:
        return _connect(sock, address)
    return _refuse()


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Block sockets and forget any GAN_LAB_DATA_DIR, for every test."""
    monkeypatch.setattr(socket.socket, "connect", _local_only)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
    monkeypatch.delenv("GAN_LAB_DATA_DIR", raising=False)


@pytest.fixture(autouse=True, scope="module")
def freeze_what_earlier_modules_left():
    """A worker lives for the whole run, and its heap grows to over a million objects that
    earlier tests left alive (TensorFlow's and Keras' state, cached functions), which every
    full collection traverses again. What is alive when a module starts is collected once
    and then frozen out of every later collection (``gc.freeze``), which saves the suite
    CPU time (docs/instructors.md#tests)."""
    gc.collect()
    gc.freeze()
    yield


@pytest.fixture(scope="session")
def sample_digits():
    """The real MNIST sample (train split), images in [-1, 1], shape (4000, 28, 28, 1)."""
    from gan_lab.data import load_images

    return load_images("mnist", source="sample")


@pytest.fixture
def policy(request):
    """The global precision policy ``request.param`` (parametrize with indirect=True) for
    one test, float32 again afterwards. gan_lab's first set-up call, which takes float32
    from $GAN_LAB_PRECISION above, is made before the policy is set, not inside the test:
    else a test run on its own would build in float32."""
    import keras

    from gan_lab import runtime

    runtime.configure()
    keras.mixed_precision.set_global_policy(request.param)
    yield request.param
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture
def seeded():
    import keras

    keras.utils.set_random_seed(1234)
    return np.random.default_rng(1234)


# Fixtures that train for long: a test using one belongs to the full suite only.
HEAVY_FIXTURES = {"digit_classifier",  # tests/test_metrics.py: trains the sample's classifier
                  "judge",             # tests/test_per_class_frechet.py: the same
                  "trained"}           # tests/test_cli.py: whole command-line runs


def pytest_collection_modifyitems(config, items):
    """A test on a heavy fixture is an integration test (the fast tier, -m "not
    integration", leaves it out), and so is a slow one. The long runs (@pytest.mark.slow)
    stay out unless the -m expression names them (pytest -m slow): a -m on the command line
    replaces any in addopts, so the default cannot live there."""
    for item in items:
        if item.get_closest_marker("slow") or HEAVY_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.integration)
    if "slow" in (config.getoption("markexpr") or ""):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


def pytest_unconfigure(config):
    """The temporary folders this process made go when its pytest ends (the workers' before
    the cache they share, which the main process made and removes last)."""
    import shutil

    for folder in _MADE_HERE:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_xdist_auto_num_workers(config):
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def pytest_addoption(parser):
    group = parser.getgroup("gan_lab grading")
    group.addoption("--submission", action="append", default=[], metavar="PATH",
                    help="notebook, student folder or class folder for tests/grading "
                         "(repeatable; default: solutions/)")
    group.addoption("--grading-timeout", type=float, default=20.0,
                    help="seconds one exercise may run (default 20)")
    group.addoption("--grades-csv", metavar="FILE", help="also write the grades as CSV")
    group.addoption("--grading-seed", type=int, metavar="SEED",
                    help="seed of the graded inputs, to repeat a grading (default: a fresh one)")
    group.addoption("--grading-workers", type=int, metavar="N",
                    help="students graded at once (default: the cores)")
    group.addoption("--lab", action="append", default=[], metavar="LAB", dest="labs",
                    help="grade only this lab's exercises, e.g. --lab 01 (repeatable; "
                         "default: every lab)")


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """One tiny 2-epoch run of the dense GAN (tests/helpers.TINY); tests work on copies."""
    from gan_lab import runs
    from helpers import TINY

    out = tmp_path_factory.mktemp("trained") / "run"
    runs.train("gan", out=out, **{**TINY, "epochs": 2}, verbose=0)
    return out


@pytest.fixture
def run_copy(trained_run, tmp_path):
    """A copy of the tiny run, at tmp_path/alice/gan-mnist."""
    import shutil
    from pathlib import Path

    return Path(shutil.copytree(trained_run, tmp_path / "alice" / "gan-mnist"))
