"""One run of the search for a plain game that collapses (docs/mode-collapse.md, "Looking
for a plain game that collapses"): the ring's or grid's GAN built from the library's pieces
with any of the search's settings, measured every ``--every`` steps on the fixed 2,500
points (VEEGAN's protocol). Prints one JSON line: the settings, the wall time and a row per
measurement (steps, modes covered, high-quality share, the mode holding most points or -1,
share of 1,000 points within 0.05 of one point, the cloud's mean).

    python benchmarks/collapse_search.py --dlr 1e-3 --glr 1e-4 --seed 0
    python benchmarks/collapse_search.py --dhidden 128 --dact tanh --steps 10000 --every 1000
"""

import os, sys, time, json, argparse

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--data", default="ring")
p.add_argument("--steps", type=int, default=25000)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--batch", type=int, default=256)
p.add_argument("--z", type=int, default=64)
p.add_argument("--act", default="relu")
p.add_argument("--ghidden", default="128,128")
p.add_argument("--dhidden", default="128,128")
p.add_argument("--dlr", type=float, default=1e-4)
p.add_argument("--glr", type=float, default=1e-3)
p.add_argument("--b1", type=float, default=0.5)
p.add_argument("--update", default="alternating")
p.add_argument("--loss", default="non_saturating")
p.add_argument("--unroll", type=int, default=0)
p.add_argument("--pack", type=int, default=1)
p.add_argument("--mbstd", action="store_true")
p.add_argument("--frozen", type=int, default=-1, help="D's learning rate 0 from this step on")
p.add_argument("--spe", type=int, default=500)
p.add_argument("--jit", default="auto")
p.add_argument("--gsteps", type=int, default=1)
p.add_argument("--dsteps", type=int, default=1)
p.add_argument("--save", default=None)
p.add_argument("--gopt", default="adam", help="G's optimiser: adam, sgd, or sgdM (momentum M)")
p.add_argument("--dopt", default="adam", help="D's optimiser, as --gopt")
p.add_argument("--every", type=int, default=2500)
p.add_argument("--bound", type=float, default=None)
p.add_argument("--dact", default=None)
a = p.parse_args()
import gan_lab

gan_lab.setup(precision="float32")
import keras
from gan_lab import mixtures, models
from gan_lab.gan import GAN

keras.utils.set_random_seed(a.seed)
mix = mixtures.mixture(a.data)
hid = lambda s: tuple(int(x) for x in s.split(",") if x)
G = models.point_generator((2,), a.z, hid(a.ghidden), a.act, bound=a.bound)
D = models.point_discriminator(
    (2,), hid(a.dhidden), a.dact or a.act, minibatch_std=a.mbstd, pack=a.pack
)
gan = GAN(G, D, seed=a.seed)
jit = {"auto": False, "1": True, "0": False}[a.jit]
mk = lambda kind, lr: (
    keras.optimizers.Adam(lr, a.b1)
    if kind == "adam"
    else keras.optimizers.SGD(lr)
    if kind == "sgd"
    else keras.optimizers.SGD(lr, momentum=float(kind[3:]))
)
gan.compile(
    d_optimizer=mk(a.dopt, a.dlr),
    g_optimizer=mk(a.gopt, a.glr),
    loss=a.loss,
    update=a.update,
    unroll=a.unroll,
    steps_per_execution=a.spe,
    jit_compile=jit,
    g_steps=a.gsteps,
    d_steps=a.dsteps,
)
from gan_lab.data import make_dataset

pts, _ = mix.sample(a.every * a.batch * a.dsteps, seed=a.seed + 1000)
ds = make_dataset(pts, a.batch * a.dsteps, seed=a.seed, epochs=a.steps // a.every)
rows = []
t0 = time.perf_counter()
done = 0
while done < a.steps:
    n = min(a.every, a.steps - done)
    if a.frozen >= 0 and done >= a.frozen:
        gan.d_optimizer.learning_rate = 0.0
    gan.fit(ds, epochs=len(rows) + 1, initial_epoch=len(rows), steps_per_epoch=n, verbose=0)
    done += n
    x = gan.generate(n=2500, seed=0)
    c = mixtures.coverage(np.asarray(x), mix)
    h = mixtures.mode_histogram(np.asarray(x), mix)
    rows.append(
        (
            done,
            c["modes"],
            round(c["high_quality"], 3),
            int(np.argmax(h)) if h.sum() else -1,
            round(mixtures.concentration(np.asarray(x)[:1000], 0.05), 3),
            [round(float(v), 2) for v in np.asarray(x).mean(0)],
        )
    )
el = time.perf_counter() - t0
if a.save:
    np.save(a.save, np.asarray(x))
    xx = np.asarray(x)
    med = np.median(xx, 0)
    d = np.linalg.norm(xx - med, axis=1)
    dm = np.min(np.linalg.norm(xx[:, None] - mix.means[None], axis=2), 1)
    print(
        "median",
        med,
        "dist-to-median pct 10/50/90",
        np.percentile(d, [10, 50, 90]).round(3),
        "dist-to-mode pct",
        np.percentile(dm, [10, 50, 90]).round(3),
        file=sys.stderr,
    )
print(json.dumps({"args": vars(a), "time": round(el, 1), "rows": rows}))
