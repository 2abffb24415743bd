"""Routes tried as the grid's second remedy, each built here (not a library option) and
trained through ``runs.train`` at ``--preset equal_rates`` (docs/mode-collapse.md, "The
grid's second remedy: the routes tried"): two batch-level features of D, and GDPP's term in
G's loss.

    python benchmarks/grid_routes.py group_std --seed 0 --out runs/grid-group-std
    python benchmarks/grid_routes.py minibatch_discrimination --out runs/grid-mbd --epochs 2
    python benchmarks/grid_routes.py gdpp --out runs/grid-gdpp [--weight 4] [--d-activation tanh]

group_std: the minibatch standard deviation over groups of 4 samples (Karras et al. 2018's
code's group size; the library's ``MinibatchStdDev`` takes the whole batch); each sample gets
its group's spread. minibatch_discrimination: Salimans et al. 2016, sec. 3.2, 5 kernels of 3
dimensions (every pair of the batch compared). gdpp: Elfeki et al. 2019 (GDPP), G's loss
0.5 (non-saturating loss + weight x GDPP loss) on D's last hidden features, as in the
paper's 2-D code (M-Elfeki/GDPP, gdppgan_Synthetic.py). Then ``python -m gan_lab evaluate
OUT``.
"""

from __future__ import annotations

import argparse
import functools
from unittest import mock

import keras
import tensorflow as tf
from keras import layers, ops

from gan_lab import runs
from gan_lab.gan import GAN

GROUP = 4
KERNELS, DIMENSIONS = 5, 3


class GroupStd(layers.Layer):
    """(N, F) -> (N, F + 1): each sample's group's mean over features of the standard
    deviation across the group; sample i is in group i mod N/GROUP (N a multiple of GROUP)."""

    def call(self, x):
        grouped = ops.reshape(x, (GROUP, -1, x.shape[-1]))
        spread = ops.sqrt(ops.var(grouped, axis=0) + 1e-8)  # (N / GROUP, F)
        per_sample = ops.tile(ops.mean(spread, axis=1, keepdims=True), (GROUP, 1))
        return ops.concatenate([x, per_sample], axis=-1)

    def compute_output_shape(self, shape):
        return (*shape[:-1], shape[-1] + 1)


class MinibatchDiscrimination(layers.Layer):
    """(N, F) -> (N, F + KERNELS): for each kernel, sum over the other samples of
    exp(-L1 distance) between the samples' projections (N x N pairs)."""

    def build(self, shape):
        self.projection = self.add_weight(shape=(shape[-1], KERNELS * DIMENSIONS),
                                          initializer="glorot_uniform", name="projection")

    def call(self, x):
        m = ops.reshape(ops.matmul(x, self.projection), (-1, KERNELS, DIMENSIONS))
        distance = ops.sum(ops.abs(ops.expand_dims(m, 0) - ops.expand_dims(m, 1)), axis=-1)
        return ops.concatenate([x, ops.sum(ops.exp(-distance), axis=1) - 1.0], axis=-1)

    def compute_output_shape(self, shape):
        return (*shape[:-1], shape[-1] + KERNELS)


FEATURES = {"group_std": GroupStd, "minibatch_discrimination": MinibatchDiscrimination}
EIGENVALUE_WEIGHT = 1e-4  # the reference code's, to bring the two terms to one range


def gdpp_loss(fake_features, real_features):
    """GDPP's loss (Elfeki et al. 2019, sec. 3): features (N, F) of a fake and a real batch;
    each batch's kernel L = phi phi^T of its L2-normalised rows is eigendecomposed (N
    eigenvalues, ascending, and their eigenvectors); the loss is the eigenvalues' mean squared
    difference (weighted 1e-4) minus the cosines of paired eigenvectors, each weighted by the
    real eigenvalue min-max scaled to [0, 1]. Real features are held constant."""
    def spectrum(features):
        features = tf.math.l2_normalize(features, axis=1)
        return tf.linalg.eigh(tf.matmul(features, features, transpose_b=True))

    fake_values, fake_vectors = spectrum(fake_features)
    real_values, real_vectors = map(tf.stop_gradient, spectrum(real_features))
    magnitude = EIGENVALUE_WEIGHT * ops.mean(ops.square(real_values - fake_values))
    scaled = ((real_values - ops.min(real_values))
              / (ops.max(real_values) - ops.min(real_values)))
    structure = -ops.sum(scaled * ops.sum(fake_vectors * real_vectors, axis=0))
    return magnitude + structure


class GDPPGAN(GAN):
    """The plain step, with GDPP's term (times ``weight``) added to G's loss on D's last
    hidden features."""

    def __init__(self, generator, discriminator, seed=None, weight=1.0, **kwargs):
        super().__init__(generator, discriminator, seed=seed, **kwargs)
        self.weight = weight
        self.features = keras.Model(discriminator.inputs, discriminator.layers[-2].output)

    def g_loss(self, real, fake, look_ahead_from=None):
        diversity = gdpp_loss(self.features(fake, training=True),
                              self.features(real, training=True))
        return 0.5 * (super().g_loss(real, fake) + self.weight * diversity)


def discriminator(feature):
    """The point D of the preset (two hidden layers of 128, ReLU) with ``feature`` before
    its logit."""
    points = keras.Input((2,))
    x = points
    for _ in range(2):
        x = layers.Dense(128, activation="relu")(x)
    x = FEATURES[feature]()(x)
    return keras.Model(points, layers.Dense(1, dtype="float32")(x))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("route", choices=[*FEATURES, "gdpp"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", required=True)
    parser.add_argument("--weight", type=float, default=1.0, help="gdpp: the term's weight")
    parser.add_argument("--d-activation", default="relu", help="gdpp: D's hidden activation")
    args = parser.parse_args(argv)
    settings = dict(preset="equal_rates", dataset="grid", seed=args.seed, epochs=args.epochs,
                    out=args.out, overwrite=True)
    if args.route != "gdpp":
        runs.train("gan", discriminator=discriminator(args.route), **settings)
        return
    # runs.train builds its GAN with runs.make_gan: this run's GAN is GDPP's, for this call only.
    gdpp = functools.partial(GDPPGAN, weight=args.weight)
    with mock.patch.object(runs, "make_gan", gdpp):
        runs.train("gan", discriminator_options={"activation": args.d_activation}, **settings)


if __name__ == "__main__":
    main()
