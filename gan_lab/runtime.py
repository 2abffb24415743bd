"""Where training runs: the device set-up (GPU memory growth, the precision policy), done
once per process before any model exists, and a line saying which device.

The visible call is ``gan_lab.setup()`` (the command line and the notebooks' first cell make
it); the model builders and ``GAN`` call ``configure()`` too, so a model is never built
before the set-up, whatever the order of imports. ``GAN_LAB_PRECISION`` (float32,
mixed_float16, mixed_bfloat16) overrides the automatic choice. Device placement is left
to TensorFlow.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

from . import quiet

with quiet.native_stderr_hidden():
    import keras
    import tensorflow as tf

    _GPUS = tf.config.list_physical_devices("GPU")  # the CUDA probe prints here

PRECISION_ENV = "GAN_LAB_PRECISION"
XLA_ENV = "GAN_LAB_XLA"  # "1" or "0": overrides xla_by_default()
POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
_configured = None  # the settings of the first configure() call


def gpus():
    return list(_GPUS)


def configure(mixed_precision="auto", deterministic=False) -> str:
    """Prepare TensorFlow for this machine, once; returns the precision policy's name.

    On a GPU: memory growth (so a notebook does not take the whole card). The policy, with
    ``mixed_precision="auto"``: ``default_policy()`` (mixed_float16 on a GPU,
    mixed_bfloat16 on a CPU with bfloat16 hardware, else float32; models keep their
    outputs, losses and variables in float32), or ``$GAN_LAB_PRECISION`` where set, or a
    mixed policy already set with ``keras.config.set_dtype_policy``.
    True asks for mixed_float16, False for float32; ``mixed_precision`` may also name a
    policy in POLICIES.

    ``deterministic=True`` turns on TensorFlow's op determinism (process-wide, and it runs
    ``jit_compile`` steps without XLA). On a CPU the XLA step repeats bit for bit without
    it; on a GPU XLA's reductions do not, so pass True there for repeatable runs.

    With "auto", a Keras policy set before the first call that is none of POLICIES (e.g.
    float64) raises ValueError naming them, rather than being replaced. The networks of the
    2-D mixtures compute in float32 whatever the policy (``models.point_generator``).

    The first call decides. A later call asking for the same, or for "auto", is a no-op;
    one asking for another policy raises RuntimeError, since models built under the first
    policy would silently keep it (restart the kernel and call configure first).
    """
    global _configured
    devices = gpus()
    if mixed_precision == "auto" and _configured is not None:
        policy = _configured[0]  # "auto" takes what the first call chose
    elif mixed_precision == "auto":
        # A mixed policy set with keras before gan_lab's first call is the caller's choice,
        # and so is the policy of layers made before it: "auto" never switches under them.
        chosen = keras.config.dtype_policy().name
        if chosen not in POLICIES and not os.environ.get(PRECISION_ENV):
            raise ValueError(
                f"Keras' dtype policy is {chosen}, set before gan_lab's set-up; gan_lab "
                f"trains in {', '.join(POLICIES)}: set one of them with "
                "keras.config.set_dtype_policy(...) before building any model, or restart "
                "the kernel and set none (gan_lab then chooses)")
        policy = os.environ.get(PRECISION_ENV) or (
            chosen if chosen in POLICIES and (chosen != "float32" or _layers_exist())
            else default_policy())
    elif mixed_precision in POLICIES:
        policy = mixed_precision
    else:
        policy = "mixed_float16" if mixed_precision else "float32"
    if policy not in POLICIES:
        raise ValueError(f"unknown precision {policy!r} (from ${PRECISION_ENV}?); choose one "
                         f"of {', '.join(POLICIES)}")
    wanted = (policy, bool(deterministic))
    if _configured is not None:
        if wanted[0] != _configured[0]:
            raise RuntimeError(
                f"gan_lab already set the precision policy to {_configured[0]} in this "
                f"process; to train under {policy}, restart the kernel and call "
                "gan_lab.runtime.configure(...) before building any model")
        if deterministic and not _configured[1]:
            tf.config.experimental.enable_op_determinism()
            _configured = wanted
        return policy
    current = keras.config.dtype_policy().name
    if policy != current and _layers_exist():
        raise RuntimeError(
            f"Keras layers already exist in this process under the {current} policy, so "
            f"gan_lab cannot switch to {policy} (they would keep {current}); restart the "
            "kernel and call gan_lab.setup(...) first, before building any model")
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    for device in devices:
        try:
            tf.config.experimental.set_memory_growth(device, True)
        except RuntimeError as error:  # the GPU was initialised before gan_lab was imported
            raise RuntimeError(
                "the GPU was already in use when gan_lab set it up (memory growth: "
                f"{error}); import gan_lab before running any TensorFlow code") from None
    keras.mixed_precision.set_global_policy(policy)
    quiet.new_runs_retracing_hidden()
    _configured = wanted
    return policy


def _layers_exist() -> bool:
    """Whether any Keras layer or model was made in this process (each takes a name from
    Keras' global counter)."""
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # another Keras layout: assume none, as before this check
        return False
    return bool(global_state.get_global_attribute("object_name_uids", None))


@dataclass(frozen=True)
class Setup:
    """What ``setup()`` chose: shown as one line in a notebook or a terminal."""

    version: str
    device: str
    precision: str
    xla: bool

    def __str__(self):
        return (f"gan_lab {self.version} · {self.device} · {self.precision} · "
                f"XLA {'on' if self.xla else 'off'}")

    __repr__ = __str__


def setup(precision="auto", deterministic=False) -> Setup:
    """``configure(precision, deterministic)``, then what it chose as a ``Setup``.
    Raises RuntimeError (saying to restart) when models already exist under another
    policy, ValueError for an unknown policy."""
    from . import __version__

    policy = configure(precision, deterministic)
    return Setup(__version__, describe_device(), policy, xla_by_default())


def bfloat16_hardware() -> bool:
    """True where bfloat16 matmuls run natively: a CPU with AMX-BF16 or AVX512-BF16 (its
    /proc/cpuinfo flags; TensorFlow reaches them through oneDNN, so not with
    ``TF_ENABLE_ONEDNN_OPTS=0``), or a GPU of compute capability 8.0 or more (Ampere on)."""
    for device in gpus():
        capability = tf.config.experimental.get_device_details(device).get(
            "compute_capability", (0, 0))
        if tuple(capability) >= (8, 0):
            return True
    if os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip() == "0":
        return False
    return bool({"amx_bf16", "avx512_bf16"} & cpu_flags())


def default_policy() -> str:
    """The precision policy "auto" chooses: mixed_float16 on a GPU (Micikevicius et al.
    2018, with loss scaling); on a CPU mixed_bfloat16 where ``bfloat16_hardware()``, since
    there it trains faster and to the same quality as float32 (docs/performance.md, "How fast"), else
    float32 (without bfloat16 hardware TensorFlow emulates it, slowly)."""
    if gpus():
        return "mixed_float16"
    return "mixed_bfloat16" if bfloat16_hardware() else "float32"


@contextlib.contextmanager
def policy_scope(name):
    """Build the models made inside the ``with`` block under the policy ``name`` (e.g. a
    float32 judge or reference model whatever the training policy); the global policy is
    restored afterwards. Models keep the policy they were built under."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def xla_by_default() -> bool:
    """Whether gan_lab's train step is compiled with XLA unless told otherwise.

    On a GPU, yes. On a CPU, only without AVX-512: there oneDNN's AVX-512 kernels, which
    XLA's CPU code does not call, outrun XLA; on AVX2-only CPUs XLA wins (docs/performance.md, "How fast",
    has both machines' figures). ``$GAN_LAB_XLA`` set to 1 or 0 overrides the choice.
    """
    wanted = os.environ.get(XLA_ENV, "").strip()
    if wanted in ("0", "1"):
        return wanted == "1"
    if wanted:
        raise ValueError(f"${XLA_ENV} must be 1 or 0, got {wanted!r}")
    if gpus():
        return True
    return "avx512f" not in cpu_flags()


def precision() -> str:
    """The precision policy models are built under now (e.g. "float32")."""
    return keras.config.dtype_policy().name


def describe_device() -> str:
    """'GPU: <name>' for the first GPU, else 'CPU (<n> cores)'."""
    devices = gpus()
    if devices:
        details = tf.config.experimental.get_device_details(devices[0])
        name = details.get("device_name", devices[0].name)
        more = f" (+{len(devices) - 1} more)" if len(devices) > 1 else ""
        return f"GPU: {name}{more}"
    return f"CPU ({os.cpu_count()} cores)"


def strategy(kind=None):
    """The ``tf.distribute`` strategy a run trains under, made after ``configure()``.

    None: TensorFlow's default (one device). "mirrored": ``MirroredStrategy`` over every GPU
    of this machine, else over every logical CPU (one, unless the CPU was split with
    ``tf.config.set_logical_device_configuration``, as the tests do). "multi_worker":
    ``MultiWorkerMirroredStrategy`` over the cluster in ``$TF_CONFIG``; make it before any
    other TensorFlow work of the process (``runs.train`` does so first)."""
    configure()
    if kind is None:
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    if kind == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError("--distribute multi_worker reads the cluster from $TF_CONFIG, "
                             "which is not set (see docs/instructors.md, 'Several GPUs')")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown distribution strategy {kind!r}; choose mirrored or multi_worker")


def cpu_name() -> str:
    """The processor's model name as ``lscpu`` gives it (e.g. 'AMD EPYC'), for benchmarks."""
    import platform
    import subprocess

    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> set:
    """The CPU's feature flags from /proc/cpuinfo (e.g. {"avx2", "avx512f", "amx_bf16"});
    empty where that file does not exist (macOS, Windows)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()
