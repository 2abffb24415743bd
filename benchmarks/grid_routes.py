"""Two batch-level features tried as the grid's second remedy, each a D built here (not a
library option) and trained through ``runs.train`` at ``--preset equal_rates``
(docs/mode-collapse.md, "The grid's second remedy: the routes tried").

    python benchmarks/grid_routes.py group_std --seed 0 --out runs/grid-group-std
    python benchmarks/grid_routes.py minibatch_discrimination --out runs/grid-mbd --epochs 2

group_std: the minibatch standard deviation over groups of 4 samples (Karras et al. 2018's
code's group size; the library's ``MinibatchStdDev`` takes the whole batch); each sample gets
its group's spread. minibatch_discrimination: Salimans et al. 2016, sec. 3.2, 5 kernels of 3
dimensions (every pair of the batch compared). Then ``python -m gan_lab evaluate OUT``.
"""

from __future__ import annotations

import argparse

import keras
from keras import layers, ops

from gan_lab import runs

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
    parser.add_argument("feature", choices=FEATURES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    runs.train("gan", preset="equal_rates", dataset="grid", seed=args.seed, epochs=args.epochs,
               out=args.out, overwrite=True, discriminator=discriminator(args.feature))


if __name__ == "__main__":
    main()
