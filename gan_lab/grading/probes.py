"""What each exercise is measured on: a probe runs the exercise's object on inputs it is
handed (built by ``inputs.py``, in the grader, from a seed) and returns observations.

This module runs inside the student's sandbox (as a plain file, next to ``runner.py``), and
in the student's own notebook for the self-checks. It holds no answers and imports nothing
from gan_lab: only numpy, and keras for the builders and the training step. The grader never
trusts what a probe reports beyond its raw values: ``compare.py``, in the grader, judges them.

An observation is ``{"what": words for the reason line, "value": JSON}``. Probes list the
rules (activations, dropout, batch norm, strides, initialisers) before parameter counts and
outputs, so a reason names the rule first.
"""

from __future__ import annotations

import contextlib

import numpy as np


def observe(what: str, value) -> dict:
    """One observation: ``what`` says in words what was measured, for the reason line."""
    if isinstance(value, np.ndarray) or hasattr(value, "numpy"):
        value = np.asarray(value)
        value = value.item() if value.ndim == 0 else value.tolist()
    elif isinstance(value, (np.floating, np.integer, np.bool_)):
        value = value.item()
    elif isinstance(value, tuple):
        value = list(value)
    return {"what": what, "value": value}


# --- looking at a model by what it does -----------------------------------------------------


def assign_weights(model, seed, x=None):
    """Give ``model`` deterministic weights from ``seed``: two models of the same
    architecture then compute the same function, whoever built them. With an input ``x``
    the weights are drawn in the order one forward pass uses their layers (not the order
    the layers were made: a subclassed model may make them in any order)."""
    rng = np.random.default_rng([seed, 99])
    for weight in _weights_in_call_order(model, x):
        if "float" not in str(weight.dtype):  # e.g. a dropout layer's seed state
            continue
        name = weight.name
        if "moving_variance" in name or name == "gamma":
            value = rng.uniform(0.5, 1.5, weight.shape)
        elif "moving_mean" in name:
            value = rng.normal(0, 0.1, weight.shape)
        else:
            value = rng.normal(0, 0.05, weight.shape)
        weight.assign(value.astype("float32"))


@contextlib.contextmanager
def _calls_recorded(layers, record):
    """While inside, each call of one of ``layers`` appends the layer to ``record``."""
    patched = []
    for layer in layers:
        if "call" in vars(layer):
            continue
        call = layer.call
        layer.call = lambda *args, _layer=layer, _call=call, **kwargs: (
            record.append(_layer), _call(*args, **kwargs))[1]
        patched.append(layer)
    try:
        yield
    finally:
        for layer in patched:
            del layer.call


def _weights_in_call_order(model, x):
    """``model.weights``, those of the innermost layers first in the order a forward pass
    (training=False) first calls them; the rest after, as the model lists them."""
    if x is None:
        return list(model.weights)
    leaves = [layer for layer in _layers(model)
              if not list(layer._flatten_layers(include_self=False, recursive=False))]
    order = []
    try:
        with _calls_recorded(leaves, order):
            model(x, training=False)
    except Exception:  # noqa: BLE001  as made, then
        return list(model.weights)
    weights, seen = [], set()
    for layer in order + [model]:
        for weight in layer.weights:
            if id(weight) not in seen:
                seen.add(id(weight))
                weights.append(weight)
    return weights


def _layers(model):
    return list(model._flatten_layers(include_self=False, recursive=True))


def _trainable(model):
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


_RAMP = np.concatenate([np.linspace(-3, -0.05, 32), np.linspace(0.05, 3, 32)])[None, :]


def describe_function(function):
    """What an elementwise function computes on a ramp of inputs: None (the identity, or not
    elementwise), "ReLU", "LeakyReLU(a)", "tanh", "sigmoid" or "other"."""
    x = _RAMP.astype(np.float32)
    try:
        y = np.asarray(function(x), np.float64)
    except Exception:  # noqa: BLE001  not a function of one tensor (Reshape, InputLayer...)
        return None
    if y.shape != x.shape or not np.all(np.isfinite(y)):
        return None
    x = x.astype(np.float64)
    negative, positive = x < 0, x > 0
    slopes = y[negative] / x[negative]
    if np.allclose(y[positive], x[positive], atol=1e-5) and np.ptp(slopes) < 1e-4:
        slope = float(np.mean(slopes))
        if abs(slope - 1) < 1e-4:
            return None
        return "ReLU" if abs(slope) < 1e-4 else f"LeakyReLU({slope:.3g})"
    if np.allclose(y, np.tanh(x), atol=1e-4):
        return "tanh"
    if np.allclose(y, 1 / (1 + np.exp(-x)), atol=1e-4):
        return "sigmoid"
    return "other"


_ACTIVATION_OPS = {"Relu": "ReLU", "Tanh": "tanh", "Sigmoid": "sigmoid", "Elu": "ELU",
                   "Selu": "SELU", "Relu6": "ReLU6", "Softplus": "softplus", "Softmax": "softmax"}


def activations(model, x):
    """Sorted descriptions of the activations one forward pass computes, read from the
    traced computation: Dense(..., activation=...), Activation, LeakyReLU, ReLU(negative_
    slope=...) and an activation called inside a subclassed model's call() all count, once
    for every time they run. Activations written out by hand (tf.maximum(x, 0.2 * x) in a
    Lambda, or in the call() of a weightless layer class of one's own) are probed as
    functions instead."""
    import tensorflow as tf

    try:
        graph = tf.function(lambda t: model(t, training=False)).get_concrete_function(
            tf.TensorSpec(x.shape, tf.float32)).graph
    except Exception:  # noqa: BLE001  not traceable: probe the layers one by one
        return _layer_activations(model)
    found = _activation_ops(graph)
    own_layers, calls = [layer for layer in _layers(model) if _hand_written(layer)], []
    if own_layers:
        try:
            with _calls_recorded(own_layers, calls):  # how often the pass calls each
                model(x, training=False)
        except Exception:  # noqa: BLE001
            calls = list(own_layers)
    for layer in own_layers:  # hand-written activations: Lambda or a layer of one's own
        function = lambda t, layer=layer: layer(t, training=False)  # noqa: E731
        try:
            own = _activation_ops(tf.function(function).get_concrete_function(
                tf.TensorSpec(_RAMP.shape, tf.float32)).graph)
        except Exception:  # noqa: BLE001
            own = []
        description = None if own else describe_function(function)
        if description:
            found += [description] * sum(1 for called in calls if called is layer)
    return sorted(found)


def _hand_written(layer):
    """A Lambda, or a weightless layer of the student's own class (not Keras's)."""
    if type(layer).__name__ == "Lambda":
        return True
    module = type(layer).__module__ or ""
    return (not module.startswith(("keras", "tensorflow", "tf_keras")) and not layer.weights
            and not list(layer._flatten_layers(include_self=False, recursive=False)))


def _activation_ops(graph):
    found = []
    for op in graph.get_operations():
        if op.type == "LeakyRelu":
            slope = op.get_attr("alpha")
            found.append("ReLU" if slope == 0 else f"LeakyReLU({slope:.3g})")
        elif op.type in _ACTIVATION_OPS:
            found.append(_ACTIVATION_OPS[op.type])
    return found


def _layer_activations(model):
    """Each layer's activation (or each weightless layer) applied to a ramp."""
    found = []
    for layer in _layers(model):
        function = getattr(layer, "activation", None)
        if not callable(function):
            if layer.weights or type(layer).__name__ == "InputLayer":
                continue
            function = lambda x, layer=layer: layer(x, training=False)  # noqa: E731
        description = describe_function(function)
        if description:
            found.append(description)
    return sorted(found)


_WEIGHTED = ("Dense", "Conv2D", "Conv2DTranspose", "Conv1D", "Conv3D", "Embedding")
_SHAPING = ("InputLayer", "Reshape", "Flatten")


def architecture(model, x):
    """The network as the reasons name it: one entry a layer with weights, in the order one
    forward pass calls them, each ``[layer, bias, [what follows it]]`` (e.g. ``["Dense 512",
    True, ["BatchNormalization", "LeakyReLU(0.2)", "Dropout(0.3)"]]``; a layer's own
    activation first). None for a network with layers of the student's own or a
    subclassed model, whose activations may hide in code: measured by behaviour instead."""
    import keras

    if type(model).__name__ not in ("Sequential", "Functional"):
        return None
    leaves = [layer for layer in _layers(model)
              if not list(layer._flatten_layers(include_self=False, recursive=False))]
    if any(not (type(layer).__module__ or "").startswith("keras") or _hand_written(layer)
           for layer in leaves):
        return None
    order = []
    with _calls_recorded(leaves, order):
        model(x, training=False)
    blocks, seen = [], set()
    for layer in order:
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        kind = type(layer).__name__
        if kind in _WEIGHTED:
            size = getattr(layer, "units", None) or getattr(layer, "filters", None) or ""
            strides = tuple(getattr(layer, "strides", ()) or ())
            name = f"{kind} {size}".strip() + (
                f" (stride {strides[0]})" if strides and set(strides) != {1} else "")
            own = getattr(layer, "activation", None)
            blocks.append([name, bool(getattr(layer, "use_bias", True)),
                           [d for d in [describe_function(own)] if d] if callable(own) else []])
        elif blocks and kind not in _SHAPING:
            if isinstance(layer, keras.layers.Dropout):
                follower = f"Dropout({float(layer.rate):.3g})"
            elif "Normalization" in kind:
                follower = kind
            else:
                follower = describe_function(lambda t, layer=layer: layer(t, training=False))
            if follower:
                blocks[-1][2].append(follower)
    return blocks


def dropout_rates(model, x, seed):
    """The dropout applied in one training-mode forward pass, by what it does: each weightless
    layer's share of units zeroed (rounded to 0.05), once for every time the pass calls it."""
    import keras

    rates, ones = [], np.ones((1, 20000), np.float32)
    for layer in _layers(model):
        if layer.weights or type(layer).__name__ in ("InputLayer", "Reshape", "Flatten"):
            continue
        keras.utils.set_random_seed(seed)
        try:
            out = np.asarray(layer(ones, training=True), np.float64)
        except Exception:  # noqa: BLE001  not elementwise
            continue
        if out.shape == ones.shape and np.mean(out == 0) > 0:
            rates.append((layer, round(float(np.mean(out == 0)) * 20) / 20))
    applied = []
    for layer, rate in rates:  # count the calls of each in one forward pass
        calls, call = [], layer.call
        layer.call = lambda *args, _call=call, _calls=calls, **kwargs: (
            _calls.append(1), _call(*args, **kwargs))[1]
        try:
            model(x, training=True)
        finally:
            del layer.call
        applied += [rate] * len(calls)
    if not rates:  # no dropout layer: dropout called inside a call() (keras.random.dropout)
        applied = _dropout_calls(model, x, seed)
    return sorted(applied)


def _dropout_calls(model, x, seed):
    """The dropout functions one training-mode forward pass calls (keras.random.dropout,
    tf.nn.dropout), each measured by the share of units it zeroes at the rate it was given."""
    import keras
    import tensorflow as tf
    from keras.src import backend

    measured, ones = [], np.ones((1, 20000), np.float32)
    places = [(backend.random, "dropout"), (tf.nn, "dropout")]
    originals = [getattr(owner, name) for owner, name in places]

    def recorder(original):
        def dropout(inputs, rate=None, *args, **kwargs):
            rate_value = kwargs.get("rate", rate)
            measured.append((original, rate_value))
            return original(inputs, rate, *args, **kwargs)
        return dropout

    keras.utils.set_random_seed(seed)
    try:
        for (owner, name), original in zip(places, originals):
            setattr(owner, name, recorder(original))
        model(x, training=True)
    except Exception:  # noqa: BLE001
        measured = []
    finally:
        for (owner, name), original in zip(places, originals):
            setattr(owner, name, original)
    rates = []
    for original, rate in measured:
        try:
            out = np.asarray(original(ones, rate), np.float64)
        except Exception:  # noqa: BLE001
            continue
        rates.append(round(float(np.mean(out == 0)) * 20) / 20)
    return rates


def initial_kernel_stds(model):
    """Standard deviation of each kernel as built (before any weight is assigned)."""
    return [float(np.std(np.asarray(w))) for w in model.trainable_weights
            if "kernel" in w.name or "embeddings" in w.name]


def _kind_rules(layers, kinds, generator):
    """Radford's layer rules, by layer kind."""
    rules = {}
    with_kernel = [i for i, layer in enumerate(layers)
                   if any("kernel" in w.name for w in layer.weights)]
    output = with_kernel[-1] if with_kernel else -1
    normalisations = [i for i, k in enumerate(kinds) if "Normalization" in k]
    pooling = [k for k in kinds if "Pooling" in k or k == "UpSampling2D"]
    rules["pooling layers"] = observe("pooling/upsampling layers (Radford: none)", len(pooling))
    if generator:
        transposed = [layer for layer in layers if type(layer).__name__ == "Conv2DTranspose"]
        rules["transposed convolutions stride 2"] = observe(
            "every Conv2DTranspose has stride 2 (fractional-strided)",
            all(tuple(layer.strides) == (2, 2) for layer in transposed))
        rules["batch norm after output"] = observe(
            "batch norm after the output layer (Radford: none there)",
            any(i > output for i in normalisations))
    else:
        convolutions = [i for i, k in enumerate(kinds) if k == "Conv2D"]
        first_follow = next((kinds[i] for i in range(convolutions[0] + 1, len(kinds))
                             if kinds[i] not in ("LeakyReLU", "ReLU", "Activation")), None) \
            if convolutions else None
        rules["convolutions stride 2"] = observe(
            "every Conv2D has stride 2",
            all(tuple(layers[i].strides) == (2, 2) for i in convolutions))
        rules["batch norm on input layer"] = observe(
            "batch norm right after the first convolution (Radford: none there)",
            first_follow is not None and "Normalization" in first_follow)
        rules["dense layers"] = observe("Dense layers (only the final logit)",
                                        kinds.count("Dense"))
    return rules


def _build(builder, what):
    import keras

    model = builder()
    if not isinstance(model, keras.Model):
        raise TypeError(f"{what}() must return a keras.Model, got {type(model).__name__}")
    return model


def _model_probe(builder, inputs, what, generator):
    """Rules first (output shape, activations, dropout, batch norm, layer kinds, initial
    weights), then parameter count and outputs with fixed weights."""
    import keras

    keras.utils.set_random_seed(inputs["seed"])
    model = _build(builder, what)
    x = np.asarray(inputs["x"], np.float32)
    shaped = np.asarray(model(x, training=False))  # builds a subclassed model too
    stds = initial_kernel_stds(model)  # before any weight is assigned
    layers = _layers(model)
    kinds = [type(layer).__name__ for layer in layers]
    observations = {
        "output shape": observe(f"output shape for input {list(x.shape)}", shaped.shape),
        "activations": observe("activations (what each computes)", activations(model, x)),
        # not judged (a network may be written many ways): the grader's reasons name the
        # layer where a student's differs from the solution's
        "layers": {**observe("the layers with weights, and what follows each",
                             architecture(model, x)), "judged": False},
    }
    if inputs.get("dropout"):
        observations["dropout rates"] = observe(
            "dropout rates in training mode (fraction of units zeroed)",
            dropout_rates(model, x, inputs["seed"]))
    if inputs.get("radford"):
        observations.update(_kind_rules(layers, kinds, generator))
    if inputs.get("init_std"):
        observations["initial kernel std"] = observe(
            "std of each kernel as built (Radford: N(0, 0.02))", stds)
        observations["initial kernel std"]["spread"] = 0.25
    if generator:
        big = np.asarray(model(x * 50, training=False))
        observations["range"] = observe("outputs for large z stay in [-1, 1]",
                                        bool(np.abs(big).max() <= 1.0 + 1e-6))
    assign_weights(model, inputs["weights_seed"], x)
    test = np.asarray(model(x, training=False), np.float64)
    train = np.asarray(model(x, training=True), np.float64)
    observations["training mode matters"] = observe(
        "outputs differ between training=True and training=False (dropout/batch norm)",
        bool(test.shape != train.shape or not np.allclose(test, train, atol=1e-6)))
    observations["trainable parameters"] = observe("trainable parameters", _trainable(model))
    observations["outputs"] = observe(
        "outputs with fixed weights on fixed inputs (training=False)", test.ravel()[:400])
    return observations


def loadable(model):
    """True for a network Keras can load from its .keras file alone: a Sequential or
    functional model of Keras' own layers (no Lambda, no class of the student's own)."""
    return type(model).__name__ in ("Sequential", "Functional") and all(
        (type(layer).__module__ or "").startswith("keras") and type(layer).__name__ != "Lambda"
        for layer in _layers(model))


def save_built(builder, inputs, path):
    """Build the network as the probe would (same seed, float32) and save it to ``path``
    (.keras: config and weights as built) if ``loadable``; True if saved, False if not
    loadable; raises if it cannot be saved or loaded back in Keras' safe mode (which
    refuses code: a lambda, a function of the student's own)."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        keras.utils.set_random_seed(inputs["seed"])
        model = _build(builder, inputs["builder"])
        model(np.asarray(inputs["x"], np.float32), training=False)
        if not loadable(model):
            return False
        model.save(path)  # raises on a lambda it cannot serialise
        # and one it can, or a function of the student's own, does not load in safe mode
        keras.saving.load_model(path, compile=False, safe_mode=True)
        return True
    finally:
        keras.config.set_dtype_policy(previous)


def probe_generator(builder, inputs):
    return _model_probe(builder, inputs, inputs["builder"], generator=True)


def probe_discriminator(builder, inputs):
    return _model_probe(builder, inputs, inputs["builder"], generator=False)


def probe_scale_images(scale_images, inputs):
    observations = {}
    for label, pixels in inputs["cases"].items():
        out = np.asarray(scale_images(pixels.copy()))
        observations[f"{label}: shape"] = observe(f"output shape for {label}", out.shape)
        observations[f"{label}: dtype"] = observe(f"output dtype for {label}", str(out.dtype))
        observations[f"{label}: values"] = observe(f"values for {label}",
                                                   out.astype(np.float64).ravel()[:300])
    return observations


def probe_loss(loss, inputs):
    """A loss on each case ((real, fake) logits or scores for D's loss, fake ones for G's):
    its shape (a scalar), its value, and its gradient with respect to each input (a loss
    computed outside the tape, through numpy or behind stop_gradient, has none, and a
    clipped one has the wrong one: training follows the gradient, not the value)."""
    import tensorflow as tf

    function = inputs["function"]
    observations = {}
    for label, arguments in inputs["cases"].items():
        tensors = [tf.constant(np.asarray(a, np.float32)) for a in arguments]
        with tf.GradientTape() as tape:
            for tensor in tensors:
                tape.watch(tensor)
            value = loss(*tensors)
        out = np.asarray(value, np.float64)
        observations[f"{label}: shape"] = observe(
            f"shape of {function} on {label} (a scalar: the mean over the batch)", out.shape)
        observations[label] = observe(f"{function} on {label}",
                                      out.item() if out.size == 1 else out.ravel()[:50])
        observations[f"{label}: gradient"] = observe(
            f"gradient of {function} on {label} with respect to its inputs (the loss must "
            "stay a tensor on the tape: training follows its gradient)",
            _gradients(tape, value, tensors))
        if len(tensors) == 2:  # not judged: tells a swap of the two arguments apart
            observations[f"{label}: arguments swapped"] = {
                **observe(f"{function} on {label}, its two arguments swapped",
                          _value_or_none(loss, tensors[::-1])), "judged": False}
    return observations


def _value_or_none(function, arguments):
    """``function(*arguments)`` as one number, or None if it raises or is not one."""
    try:
        out = np.asarray(function(*arguments), np.float64)
    except Exception:  # noqa: BLE001  only ever a hint
        return None
    return float(out.item()) if out.size == 1 else None


def _gradients(tape, value, sources):
    """The gradient of ``value`` with respect to ``sources``, flattened into one array (a
    source it does not reach counts as zeros), or None when it reaches none of them."""
    try:
        gradients = tape.gradient(value, sources)
    except Exception:  # noqa: BLE001  not a tensor the tape recorded
        return None
    if all(g is None for g in gradients):
        return None
    return np.concatenate([np.zeros(np.shape(v)).ravel() if g is None else
                           np.asarray(g, np.float64).ravel() for g, v in zip(gradients, sources)])


# --- the training step, on small networks of the probe's own ------------------------------


def _mode_layer(name, record):
    """Identity-like layer that halves its input in training mode and records the flag it
    was called with: whether the step ran a network with training=True shows in its effect
    (weights and losses) and in the flags."""
    import keras

    class TrainingMode(keras.layers.Layer):
        def call(self, x, training=None):
            record.append(bool(training))
            return x * 0.5 if training else x

    return TrainingMode(name=name)


def probe_losses(coefficients):
    """Loss functions of the probe's own for the training step: least-squares losses with
    seeded targets, not the cross-entropies the loss exercises ask for, so nothing handed to
    the step earns points anywhere else."""
    import keras

    a, b, c = (float(v) for v in coefficients)

    def discriminator_loss(real_logits, fake_logits):
        return (keras.ops.mean(keras.ops.square(real_logits - a))
                + keras.ops.mean(keras.ops.square(fake_logits + b)))

    def generator_loss(fake_logits):
        return keras.ops.mean(keras.ops.square(fake_logits - c))

    return {"discriminator_loss": discriminator_loss,
            "generator_loss_non_saturating": generator_loss,
            "generator_loss_minimax": lambda logits: -keras.ops.mean(
                keras.ops.square(logits + b))}


def probe_train_step(train_step, inputs):
    import keras
    from keras import layers

    keras.utils.set_random_seed(inputs["seed"])
    g_modes, d_modes = [], []
    latent = inputs["z"].shape[1]
    generator = keras.Sequential([
        keras.Input((latent,)), layers.Dense(16), layers.BatchNormalization(),
        _mode_layer("g_mode", g_modes), layers.LeakyReLU(0.2),
        layers.Dense(28 * 28, activation="tanh"), layers.Reshape((28, 28, 1))])
    discriminator = keras.Sequential([
        keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(16),
        _mode_layer("d_mode", d_modes), layers.LeakyReLU(0.2), layers.Dense(1)])
    assign_weights(generator, inputs["weights_seed"])
    assign_weights(discriminator, inputs["weights_seed"] + 1)
    g_modes.clear(), d_modes.clear()
    d_optimizer = keras.optimizers.SGD(learning_rate=0.5)
    g_optimizer = keras.optimizers.SGD(learning_rate=0.5)
    with losses_injected(train_step, probe_losses(inputs["coefficients"])):
        result = train_step(generator, discriminator, g_optimizer, d_optimizer,
                            np.array(inputs["real"]), np.array(inputs["z"]))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError("train_step must return (d_loss, g_loss)")
    d_loss, g_loss = (float(np.asarray(v)) for v in result)

    def flat(model):
        return np.concatenate([np.asarray(w).ravel() for w in model.trainable_weights])

    return {
        "D training flags": observe("training= flags D was called with in the step "
                                    "(training=True asked)", sorted(set(d_modes))),
        "G training flags": observe("training= flags G was called with in the step "
                                    "(training=True asked)", sorted(set(g_modes))),
        "d_loss": observe("d_loss returned by one step", d_loss),
        "g_loss": observe("g_loss returned by one step", g_loss),
        "discriminator weights": observe("discriminator weights after one step",
                                         flat(discriminator)[::7]),
        "generator weights": observe("generator weights after one step", flat(generator)[::7]),
    }


def _globals_of(function, depth=0):
    """The module namespace the step's code looks names up in, through a tf.function, a
    functools.partial, a decorator's __wrapped__, a bound method or an object with
    __call__; None if there is none."""
    if depth > 10:
        return None
    namespace = getattr(function, "__globals__", None)
    if isinstance(namespace, dict) and not hasattr(function, "__wrapped__"):
        return namespace
    for inner in (getattr(function, "python_function", None), getattr(function, "func", None),
                  getattr(function, "__wrapped__", None), getattr(function, "__func__", None),
                  getattr(type(function), "__call__", None)):
        if inner is not None and inner is not function:
            found = _globals_of(inner, depth + 1)
            if found is not None:
                return found
    return namespace if isinstance(namespace, dict) else None


@contextlib.contextmanager
def losses_injected(function, losses):
    """While the step runs, the loss names it looks up in its globals are the probe's
    (restored afterwards: in a notebook they are the student's own)."""
    namespace = _globals_of(function)
    if namespace is None:
        yield
        return
    saved = {name: namespace[name] for name in losses if name in namespace}
    namespace.update(losses)
    try:
        yield
    finally:
        for name in losses:
            namespace.pop(name, None)
        namespace.update(saved)


# --- WGAN-GP's gradient penalty, on critics of the probe's own ------------------------------


def _critic(kind, weights):
    """A critic with the given weights: linear on images of w's shape (H, W, 1) (its
    gradient is w everywhere), or a tanh convolution on (8, 8, 2) images, then a Dense
    score."""
    import keras
    from keras import layers

    if kind.startswith("linear"):
        model = keras.Sequential([keras.Input(weights[0].shape), layers.Flatten(),
                                  layers.Dense(1)])
        model.set_weights([weights[0].reshape(-1, 1), weights[1]])
    else:
        model = keras.Sequential([
            keras.Input((8, 8, 2)),
            layers.Conv2D(4, 3, strides=2, padding="same", activation="tanh"),
            layers.Flatten(), layers.Dense(1)])
        model.set_weights(weights)
    return model


def probe_gradient_penalty(gradient_penalty, inputs):
    """The penalty on each (critic, real, fake, alpha) case: its shape, its value (with the
    linear critic's ||w|| and the batch size, for the grader's hints), and its gradient with
    respect to the critic's weights (a penalty computed outside the tape, e.g. through
    numpy, has none)."""
    import tensorflow as tf

    critics = {kind: _critic(kind, weights) for kind, weights in inputs["critics"].items()}
    observations = {}
    for label, (kind, real, fake, alpha) in inputs["cases"].items():
        critic = critics[kind]
        with tf.GradientTape() as tape:
            penalty = gradient_penalty(critic, tf.constant(real), tf.constant(fake),
                                       tf.constant(alpha))
        out = np.asarray(penalty, np.float64)
        observations[f"{label}: shape"] = observe(
            f"shape of the penalty for {label} (a scalar: the mean over the batch)", out.shape)
        observations[label] = observe(f"gradient_penalty for {label}",
                                      out.item() if out.size == 1 else out.ravel()[:50])
        observations[label]["batch"] = len(real)
        if kind.startswith("linear"):
            observations[label]["norm"] = float(np.linalg.norm(inputs["critics"][kind][0]))
        # Every case: an answer that keeps the tape for some inputs only loses too. The
        # score's bias never gets a gradient (zeros).
        key = f"{label}: weight gradients"
        observations[key] = observe(
            f"gradient of the penalty for {label} with respect to the critic's weights "
            "(the penalty must stay a tensor on the tape: training minimises it)",
            _gradients(tape, penalty, critic.trainable_variables))
        observations[key].update(rtol=1e-3, atol=1e-5)
    return observations


# --- numbers and arrays ------------------------------------------------------------------


def probe_sizes(function, inputs):
    observations = {}
    for args in inputs["cases"]:
        args = tuple(args)
        call = f"{inputs['function']}{args}"
        observations[call] = observe(call, int(function(*args)))
    return observations


def probe_mode_coverage(mode_coverage, inputs):
    """VEEGAN's measures on each (points, means, std) case: the modes covered (an integer)
    and the high-quality share (a float), each named with the rule it rests on."""
    observations = {}
    for label, (points, means, std) in inputs["cases"].items():
        result = mode_coverage(points.copy(), means.copy(), float(std))
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise TypeError("mode_coverage must return two numbers: (modes covered, "
                            f"high-quality share), got {type(result).__name__}")
        modes, quality = result
        observations[f"{label}: modes"] = observe(
            f"modes covered (means nearest to at least one point within 3 std) for {label}",
            _number(modes, int, "modes covered"))
        observations[f"{label}: high quality"] = observe(
            f"high-quality share (points within 3 std of their nearest mean, of all N) for "
            f"{label}", _number(quality, float, "the high-quality share"))
    return observations


def _number(value, kind, what):
    """``value`` as one ``kind`` (a 0-d array or tensor counts); TypeError naming ``what``."""
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "iufb":
        raise TypeError(f"{what} must be one number, got {_briefly(value)}")
    number = array.item()
    if kind is int and float(number) != int(number):
        raise TypeError(f"{what} must be a whole number, got {number!r}")
    return kind(number)


def _briefly(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def probe_pack_samples(pack_samples, inputs):
    """PacGAN's packing on each (samples, m) case: the shape and the values."""
    observations = {}
    for label, (samples, m) in inputs["cases"].items():
        out = np.asarray(pack_samples(samples.copy(), int(m)), np.float64)
        observations[f"{label}: shape"] = observe(f"packed shape for {label}", out.shape)
        observations[f"{label}: values"] = observe(
            f"packed values for {label} (each m consecutive samples side by side on the "
            "last axis)", out.ravel()[:600])
        observations[f"{label}: values"]["m"] = int(m)
    return observations


def probe_slerp(slerp, inputs):
    observations = {}
    for label, (a, b, t) in inputs["cases"].items():
        out = np.asarray(slerp(a.copy(), b.copy(), np.asarray(t)), float)
        observations[f"{label}: shape"] = observe(f"slerp shape for {label}", out.shape)
        observations[f"{label}: values"] = observe(f"slerp points for {label}", out)
        # for the grader's hints (inputs, not answers): linear interpolation tells apart
        observations[f"{label}: values"].update(t=np.asarray(t, float).tolist(),
                                                ends=[np.asarray(a, float).tolist(),
                                                      np.asarray(b, float).tolist()])
    return observations


def probe_pool_to_grid(pool_to_grid, inputs):
    observations = {}
    for label, (maps, grid) in inputs["cases"].items():
        out = np.asarray(pool_to_grid(maps.copy(), grid), float)
        observations[f"{label}: shape"] = observe(f"pooled shape for {label}", out.shape)
        observations[f"{label}: values"] = observe(f"pooled features for {label}", out)
    return observations


PROBES = {
    "generator": probe_generator,
    "discriminator": probe_discriminator,
    "scale_images": probe_scale_images,
    "loss": probe_loss,
    "train_step": probe_train_step,
    "gradient_penalty": probe_gradient_penalty,
    "sizes": probe_sizes,
    "mode_coverage": probe_mode_coverage,
    "pack_samples": probe_pack_samples,
    "slerp": probe_slerp,
    "pool_to_grid": probe_pool_to_grid,
}


def run_probe(obj, inputs):
    """The observations of ``obj`` on ``inputs`` (``inputs["probe"]`` names the probe);
    raises what the code raises. Models are built and run in float32 whatever the session's
    precision policy (a notebook on a CPU with bfloat16 trains in mixed_bfloat16), since the
    references are float32 observations."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        return PROBES[inputs["probe"]](obj, inputs)
    finally:
        keras.config.set_dtype_policy(previous)
