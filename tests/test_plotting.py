import numpy as np
import pytest

from gan_lab.data import DataError
from gan_lab.plotting import plot_comparison, plot_grid, plot_losses, tile


def test_tile_places_each_image_and_maps_range_to_pixels():
    images = np.stack([np.full((4, 4, 1), v, np.float32) for v in (-1.0, 0.0, 1.0)])
    mosaic = tile(images, columns=2, pad=1)
    assert mosaic.shape == (2 * 5 + 1, 2 * 5 + 1, 1) and mosaic.dtype == np.uint8
    assert mosaic[1:5, 1:5].max() == 0          # -1 -> black
    assert (mosaic[1:5, 6:10] == 128).all()     # 0 -> mid grey
    assert (mosaic[6:10, 1:5] == 255).all()     # 1 -> white
    assert mosaic[6:10, 6:10].max() == 0        # empty slot stays black


def test_tile_refuses_pixels_in_0_255():
    with pytest.raises(DataError, match="must lie in"):
        tile(np.full((2, 4, 4, 1), 255.0, np.float32))


def test_figures_are_returned_not_shown():
    images = np.zeros((16, 28, 28, 1), np.float32)
    assert plot_grid(images, title="epoch 1").axes
    rows = [{"epoch": e, "d_loss": 1.0, "g_loss": 0.5, "d_real": 0.6, "d_fake": 0.4}
            for e in (1, 2, 3)]
    assert len(plot_losses(rows).axes) == 2
    comparison = plot_comparison({"GAN": {1: images, 10: images}, "DCGAN": {1: images, 10: images}},
                                 [1, 10])
    assert len(comparison.axes) == 4
    assert comparison.axes[0].get_title() == "epoch 1"


def test_measures_over_epochs_draw_one_line_per_run_in_each_panel():
    from gan_lab.plotting import plot_measures

    rows = {"collapse": [{"epoch": e, "precision": 0.9, "recall": 0.05 * e} for e in (1, 2, 3)],
            "remedy": [{"epoch": e, "precision": 0.5, "recall": 0.2 * e} for e in (1, 2)]}
    figure = plot_measures(rows)
    assert [axis.get_title() for axis in figure.axes] == ["precision", "recall"]
    recall = figure.axes[1].get_lines()
    assert [list(line.get_xdata()) for line in recall] == [[1, 2, 3], [1, 2]]
    assert list(recall[1].get_ydata()) == [0.2, 0.4]


def test_a_bfloat16_generators_images_are_drawn_and_measured():
    # What a student's own generator gives under mixed_bfloat16 (gan_lab's cast to float32).
    import ml_dtypes

    from gan_lab.metrics import pairwise_distance

    images = np.linspace(-1, 1, 4 * 4 * 4).reshape(4, 4, 4, 1).astype(ml_dtypes.bfloat16)
    np.testing.assert_array_equal(tile(images, pad=0), tile(images.astype(np.float32), pad=0))
    assert pairwise_distance(images) == pairwise_distance(images.astype(np.float32))
