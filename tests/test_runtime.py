"""The set-up: one visible call, the precision policy set once and never switched under
models whatever the order of imports, and a quiet start."""

import subprocess
import sys

import pytest


def _python(code):
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-1500:]
    return done


def test_the_precision_policy_is_set_once_and_never_switched_under_models():
    from gan_lab import runtime

    assert runtime.configure() == "float32"  # the suite's GAN_LAB_PRECISION
    with pytest.raises(RuntimeError, match="already set the precision policy to float32"):
        runtime.configure(mixed_precision="mixed_float16")


def test_setup_says_what_it_chose_in_one_line():
    import gan_lab

    chosen = gan_lab.setup()
    assert chosen.precision == "float32" and "CPU" in chosen.device
    assert repr(chosen) == str(chosen) and "\n" not in str(chosen)
    assert str(chosen).startswith(f"gan_lab {gan_lab.__version__} · CPU")


@pytest.mark.integration
def test_importing_builds_nothing_and_sets_no_policy():
    # No import-time set-up: importing every module leaves Keras' policy alone, so a policy
    # chosen afterwards, before any model, is the one models get.
    done = _python("import keras, gan_lab.models, gan_lab.runs, gan_lab.gan; "
                   "before = keras.config.dtype_policy().name; "
                   "import gan_lab; gan_lab.setup('mixed_bfloat16'); "
                   "g = gan_lab.models.dense_generator(latent_dim=4, hidden=(8,)); "
                   "print(before, g.layers[1].dtype_policy.name)")
    assert done.stdout.split() == ["float32", "mixed_bfloat16"]


@pytest.mark.integration
def test_a_policy_asked_for_after_models_exist_is_refused_with_the_fix():
    code = ("import keras, gan_lab; keras.layers.Dense(3); "
            "gan_lab.setup('mixed_bfloat16')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1
    assert "restart the kernel and call gan_lab.setup(...) first" in done.stderr


@pytest.mark.integration
def test_auto_keeps_the_policy_of_models_made_before_the_set_up():
    # A student's own layers, made under float32 before gan_lab's first call: "auto" (the
    # builders' implicit call) keeps float32 even where the machine's default is bfloat16.
    code = ("import os; os.environ.pop('GAN_LAB_PRECISION', None); "
            "from gan_lab import runtime; runtime.default_policy = lambda: 'mixed_bfloat16'; "
            "import keras; keras.layers.Dense(3); "
            "from gan_lab.models import dense_generator; "
            "print(dense_generator(latent_dim=4, hidden=(8,)).layers[1].dtype_policy.name)")
    assert _python(code).stdout.split() == ["float32"]


@pytest.mark.integration
def test_a_keras_policy_gan_lab_does_not_train_in_is_refused_not_replaced():
    # A student's keras.config.set_dtype_policy("float64") before the first build was
    # silently replaced by the machine's default (a breaker found it).
    code = ("import os; os.environ.pop('GAN_LAB_PRECISION', None); import keras; "
            "keras.config.set_dtype_policy('float64'); "
            "from gan_lab.models import point_generator; point_generator()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1
    assert "Keras' dtype policy is float64" in done.stderr
    assert "float32, mixed_float16, mixed_bfloat16" in done.stderr


@pytest.mark.integration
def test_a_policy_chosen_before_the_models_import_is_kept():
    code = ("from gan_lab import runtime; runtime.configure('mixed_bfloat16'); "
            "import gan_lab.models; print(runtime.precision())")
    assert _python(code).stdout.split() == ["mixed_bfloat16"]


@pytest.mark.integration
def test_tensorflow_start_up_lines_are_not_shown():
    done = subprocess.run([sys.executable, "-m", "gan_lab", "train", "--help"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == ""
    quiet = _python("import gan_lab; gan_lab.setup(); import gan_lab.models, gan_lab.runs")
    assert quiet.stderr == "", quiet.stderr


def test_the_retracing_warning_of_each_new_runs_train_function_is_kept_from_students(
        monkeypatch):
    # From the fifth run in one notebook TensorFlow called each new run's one trace of
    # Keras' train function retracing, twice a run (a breaker's find in Lab 4).
    import logging

    from gan_lab import quiet, runtime

    runtime.configure()
    logger = logging.getLogger("tensorflow")
    assert quiet._RETRACING in logger.filters and logger.filters.count(quiet._RETRACING) == 1

    def kept(message):
        return quiet._RETRACING.filter(logging.makeLogRecord({"msg": message}))

    assert not kept("5 out of the last 5 calls to <function TensorFlowTrainer._make_function."
                    "<locals>.multi_step_on_iterator at 0x7f> triggered tf.function retracing.")
    # The same warning about a function of the student's own stays, as does any other.
    assert kept("5 out of the last 5 calls to <function my_step at 0x7f> triggered "
                "tf.function retracing.")
    assert kept("Model was constructed with shape (None, 2)")
