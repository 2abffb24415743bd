"""Time to digits: the speed a student feels. The CPU seconds of training that gan_lab's
defaults and the TensorFlow DCGAN tutorial's recipe each need before their samples first
pass the bar ``TARGET`` (>= 9 modes, confident share >= 0.6, Frechet distance <= 40, all
from ``gan_lab.metrics`` on ``metrics.DEFAULT_SAMPLES`` samples), on the same 4,000-digit
MNIST sample.

``python -m gan_lab bench --quality [--budget SECONDS] [--every EPOCHS]``

The two recipes train in one process, taking turns of ``every`` epochs, so a change in the
machine's load hits both alike; each is judged after each turn (judging is not counted).
"gan_lab": ``GAN.fit`` as ``gan_lab train dcgan`` sets it up (the compact DCGAN of
``config.COMPACT_DCGAN``, batch 64, Adam(1e-3, 0.5), the alternating update, XLA by
``runtime.xla_by_default``, the policy of ``runtime.default_policy``), or with a preset's
settings (and its full-size networks).
"tutorial": the tutorial's loop (``bench.tutorial_train_step``) on the full-size Radford
DCGAN of ``models.py``, batch 256, Adam(1e-4), no XLA, float32.
"""

from __future__ import annotations

import time

TARGET = {"modes": 9, "confident": 0.6, "frechet_distance": 40.0}
RECIPES = ("gan_lab", "tutorial")
TUTORIAL_BATCH = 256  # the tutorial's; its Adam(1e-4) is tutorial_train_step's default
SAMPLE_LIMIT = 4_000


def passes(measures: dict) -> dict:
    """Which parts of ``TARGET`` the measures pass: name -> bool."""
    return {"modes": measures["modes"] >= TARGET["modes"],
            "confident": measures["confident"] >= TARGET["confident"],
            "frechet_distance": measures["frechet_distance"] <= TARGET["frechet_distance"]}


def gan_lab_config(seed=0, preset=None):
    """The TrainConfig gan_lab's side trains with: the DCGAN defaults, or ``preset``'s
    settings (a DCGAN preset). Raises ValueError for a preset of another model."""
    from ..config import TrainConfig

    config = TrainConfig.create(None if preset else "dcgan", preset=preset, seed=seed,
                                tensorboard=False)
    if config.model != "dcgan":
        raise ValueError(f"time to digits compares DCGANs; preset {preset} trains the "
                         f"{config.model} model")
    return config


class _GanLab:
    def __init__(self, data, config):
        from ..data import make_dataset
        from ..runs import compiled_gan

        self.gan = compiled_gan(config, data)
        self.generator = self.gan.generator
        self.dataset = make_dataset(data.images, config.batch_size, seed=config.seed)
        self.epoch = 0

    def train(self, epochs):
        self.gan.fit(self.dataset, epochs=self.epoch + epochs, initial_epoch=self.epoch,
                     verbose=0)
        self.epoch += epochs


class _Tutorial:
    def __init__(self, data, seed):
        import keras
        import tensorflow as tf

        from .. import runtime
        from .speed import tutorial_train_step
        from ..models import build_pair

        keras.utils.set_random_seed(seed)
        with runtime.policy_scope("float32"):  # the tutorial's, whatever gan_lab's default
            self.generator, discriminator = build_pair("dcgan")
        self.step = tutorial_train_step(self.generator, discriminator)
        self.dataset = tf.data.Dataset.from_tensor_slices(data.images).shuffle(
            len(data.images), seed=seed).batch(TUTORIAL_BATCH)
        self.epoch = 0

    def train(self, epochs):
        for _ in range(epochs):
            for batch in self.dataset:
                loss = self.step(batch)
        float(loss)  # wait for the last step
        self.epoch += epochs


def run(budget=1_200.0, every=2, seed=0, samples=None, limit=SAMPLE_LIMIT, preset=None,
        log=print) -> dict:
    """Train both recipes in turns until each passes ``TARGET`` or has spent ``budget`` CPU
    seconds of training (process CPU time, all cores: on 2 busy cores about twice the wall
    time). Returns {"target", "budget", "rows": [{recipe, epoch, cpu_seconds, modes,
    confident, frechet_distance, passes}], "reached": {recipe: {criterion or "all":
    CPU seconds when first passed, or None}}}. ``limit``: digits of the sample trained on
    (class-balanced). ``preset``: gan_lab's side trains with that preset's settings (e.g.
    "remedy") instead of the defaults."""
    from .. import metrics
    from ..classifier import trained
    from ..data import load_images, subset
    from ..gan import generate

    config = gan_lab_config(seed, preset)
    samples = samples or metrics.DEFAULT_SAMPLES
    data = subset(load_images("mnist", source="sample"), limit, seed=seed)
    judge = trained("mnist", "sample", log=log)
    recipes = {"gan_lab": _GanLab(data, config), "tutorial": _Tutorial(data, seed)}
    spent = dict.fromkeys(RECIPES, 0.0)
    reached = {name: dict.fromkeys((*TARGET, "all")) for name in RECIPES}
    rows = []
    running = list(RECIPES)
    while running:
        for name in list(running):
            recipe = recipes[name]
            started = time.process_time()
            recipe.train(every)
            spent[name] += time.process_time() - started
            measures = judge.evaluate(generate(recipe.generator, n=samples, seed=0))
            passed = passes(measures)
            for criterion, ok in {**passed, "all": all(passed.values())}.items():
                if ok and reached[name][criterion] is None:
                    reached[name][criterion] = round(spent[name], 1)
            rows.append({"recipe": name, "epoch": recipe.epoch,
                         "cpu_seconds": round(spent[name], 1), "modes": measures["modes"],
                         "confident": round(measures["confident"], 3),
                         "frechet_distance": round(measures["frechet_distance"], 1),
                         "passes": all(passed.values())})
            log(f"  {name:<8} epoch {recipe.epoch:>3}, {spent[name]:>6.0f} CPU s: "
                f"{measures['modes']} modes, confident {measures['confident']:.2f}, "
                f"Frechet {measures['frechet_distance']:.1f}")
            if all(passed.values()) or spent[name] >= budget:
                running.remove(name)
    return {"target": TARGET, "budget": budget, "every": every, "seed": seed, "limit": limit,
            "preset": preset,
            "samples": samples, "rows": rows, "reached": reached}


def table(results) -> str:
    """CPU seconds to each part of the target, per recipe, and where each ended, as a
    Markdown table; then the speed-up of gan_lab over the tutorial to the whole target."""
    from tabulate import tabulate

    def seconds(value):
        return f"{value:,.0f}" if value is not None else f"not in {results['budget']:,.0f}"

    body = []
    for name in RECIPES:
        last = [row for row in results["rows"] if row["recipe"] == name][-1]
        reached = results["reached"][name]
        label = f"gan_lab, preset {results['preset']}" if (
            name == "gan_lab" and results.get("preset")) else name
        body.append([label, *(seconds(reached[c]) for c in (*TARGET, "all")), last["epoch"],
                     f"{last['cpu_seconds']:,.0f}", last["modes"], f"{last['confident']:.2f}",
                     f"{last['frechet_distance']:.1f}"])
    headers = ["recipe", f"CPU s to >= {TARGET['modes']} modes",
               f"to confident >= {TARGET['confident']}",
               f"to Frechet <= {TARGET['frechet_distance']:.0f}", "to all three",
               "last epoch", "CPU s at last", "modes", "confident", "Frechet"]
    ours, theirs = (results["reached"][name]["all"] for name in RECIPES)
    if ours is None:
        verdict = "gan_lab did not reach the target within the budget"
    elif theirs is None:
        verdict = (f"gan_lab reached the target in {ours:,.0f} CPU s; the tutorial's recipe "
                   f"had not after {results['budget']:,.0f} (> {results['budget'] / ours:.1f}x)")
    else:
        verdict = f"gan_lab reached the target {theirs / ours:.1f}x sooner than the tutorial's recipe"
    return tabulate(body, headers, tablefmt="github", disable_numparse=True) + "\n\n" + verdict
