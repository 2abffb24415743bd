"""The discriminator as a feature extractor (Radford et al. 2015, section 5.1): each
convolutional layer's output max-pooled to a 4x4 grid, flattened and concatenated, then a
linear L2-SVM trained on a few labelled images; compared with the same CNN trained
supervised on the same labels and with a linear SVM on raw pixels.
"""

from __future__ import annotations

import math

import numpy as np

GRID = 4  # the paper pools every layer to a 4x4 spatial grid
SVM_C = (1e-4, 1e-3, 1e-2, 1e-1)  # chosen by 3-fold cross-validation on the labelled images
CNN_STEPS = 1_000  # the supervised baseline's budget: about this many batches of 32


def pool_to_grid(feature_maps, grid=GRID):
    """Max over ``grid`` x ``grid`` cells: feature maps (N, H, W, C) -> (N, grid*grid*C),
    ordered cell row, cell column, channel. Cell (i, j) covers rows floor(i H / grid) to
    ceil((i + 1) H / grid) - 1 and the same for columns (adaptive pooling: cells may
    overlap when H is not a multiple of ``grid``, none is empty)."""
    maps = np.asarray(feature_maps)
    if maps.ndim != 4:
        raise ValueError(f"feature maps must have shape (N, H, W, C), got {maps.shape}")
    _, height, width, _ = maps.shape

    def bounds(size, i):
        return (i * size) // grid, -(-(i + 1) * size // grid)

    cells = [maps[:, slice(*bounds(height, i)), slice(*bounds(width, j))].max(axis=(1, 2))
             for i in range(grid) for j in range(grid)]
    return np.stack(cells, axis=1).reshape(len(maps), -1)


def feature_layers(discriminator):
    """The layers whose outputs are D's features: those named ``features_*`` (the DCGAN
    discriminators name every convolutional block's activation so)."""
    found = [layer for layer in discriminator.layers if layer.name.startswith("features_")]
    if not found:
        raise ValueError(f"{discriminator.name} has no layers named features_*: build it with "
                         "gan_lab.models.dcgan_discriminator")
    return found


def discriminator_features(discriminator, images, grid=GRID, batch_size=500, pool=pool_to_grid):
    """Images (N, H, W, C) in [-1, 1] -> D's features (N, F): every ``features_*`` layer
    in inference mode, pooled to ``grid`` x ``grid`` by ``pool`` and concatenated."""
    import keras

    extractor = keras.Model(discriminator.inputs[0],
                            [layer.output for layer in feature_layers(discriminator)])
    outputs = extractor.predict(np.asarray(images, np.float32), batch_size=batch_size,
                                verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    return np.concatenate([np.asarray(pool(maps, grid)) for maps in outputs], axis=1)


def labelled_subset(labels, per_class, seed=0):
    """Indices of ``per_class`` images of every class, drawn at random with ``seed``."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    picked = []
    for k in np.unique(labels):
        members = np.flatnonzero(labels == k)
        if len(members) < per_class:
            raise ValueError(f"class {k} has {len(members)} images, fewer than the "
                             f"{per_class} labels asked for")
        picked.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(picked))


def linear_svm_accuracy(train_x, train_y, test_x, test_y, seed=0):
    """Test accuracy of a linear L2-SVM (squared hinge, one-vs-rest) on standardised
    features (N, F); C from SVM_C by 3-fold cross-validation on the training rows."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    pipeline = make_pipeline(StandardScaler(), LinearSVC(max_iter=5_000, random_state=seed))
    search = GridSearchCV(pipeline, {"linearsvc__C": SVM_C},
                          cv=StratifiedKFold(3, shuffle=True, random_state=seed))
    search.fit(np.asarray(train_x, np.float64), train_y)
    return float(search.score(np.asarray(test_x, np.float64), test_y))


def supervised_cnn_accuracy(train_images, train_y, test_images, test_y, classes=10, seed=0,
                            steps=CNN_STEPS):
    """Test accuracy of the DCGAN discriminator's architecture, freshly initialised, with a
    softmax over ``classes`` instead of the logit, trained on the labelled images only
    (Adam 2e-4, batch 32, about ``steps`` steps)."""
    import keras

    from ..models import dcgan_discriminator

    keras.utils.set_random_seed(seed)
    body = dcgan_discriminator(train_images.shape[1:])
    flat = body.get_layer("logit").input
    outputs = keras.layers.Dense(classes, activation="softmax")(flat)
    model = keras.Model(body.inputs[0], outputs)
    model.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    epochs = math.ceil(steps / math.ceil(len(train_images) / 32))
    model.fit(train_images, train_y, batch_size=32, epochs=epochs, verbose=0)
    return float(model.evaluate(test_images, test_y, batch_size=500, verbose=0)[1])


METHODS = ("D features + linear SVM", "same CNN, supervised", "pixels + linear SVM")


def few_label_table(discriminator, train, test, per_class=(10, 100), draws=3, seed=0,
                    pool=pool_to_grid, cnn_steps=CNN_STEPS):
    """Test accuracy of the three METHODS with ``per_class`` labels of each class of
    ``train`` (ImageSets, images in [-1, 1]), each over ``draws`` random labelled subsets;
    D's layers pooled by ``pool`` (e.g. a student's). Returns rows {"labels", "method",
    "accuracy" (mean), "spread" (std), "draws"}. ``cnn_steps``: the supervised CNN's budget."""
    train_features = discriminator_features(discriminator, train.images, pool=pool)
    test_features = discriminator_features(discriminator, test.images, pool=pool)
    pixels = train.images.reshape(len(train.images), -1)
    test_pixels = test.images.reshape(len(test.images), -1)
    classes = int(max(train.labels.max(), test.labels.max())) + 1
    rows = []
    for count in per_class:
        scores = {method: [] for method in METHODS}
        for draw in range(draws):
            picked = labelled_subset(train.labels, count, seed=seed + draw)
            y = train.labels[picked]
            scores[METHODS[0]].append(linear_svm_accuracy(
                train_features[picked], y, test_features, test.labels, seed))
            scores[METHODS[1]].append(supervised_cnn_accuracy(
                train.images[picked], y, test.images, test.labels, classes, seed + draw,
                cnn_steps))
            scores[METHODS[2]].append(linear_svm_accuracy(
                pixels[picked], y, test_pixels, test.labels, seed))
        rows += [{"labels": len(picked), "method": method,
                  "accuracy": float(np.mean(values)), "spread": float(np.std(values)),
                  "draws": draws} for method, values in scores.items()]
    return rows


def markdown_table(rows) -> str:
    """few_label_table rows as a markdown table of test error and accuracy."""
    from tabulate import tabulate

    return tabulate([[f"{row['labels']:,}", row["method"],
                      f"{row['accuracy']:.1%} (± {row['spread']:.1%})",
                      f"{1 - row['accuracy']:.1%}", row["draws"]] for row in rows],
                    ["labels", "method", "test accuracy", "test error", "draws"],
                    tablefmt="github", disable_numparse=True)
