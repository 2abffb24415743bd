"""Small things several test files share: the tiny run's settings and a tiny network pair."""

from gan_lab.models import dense_discriminator, dense_generator

TINY = {"source": "sample", "limit": 128, "batch_size": 64, "epochs": 1,
        "snapshot_epochs": [1]}


def tiny_pair(latent_dim=8):
    return (dense_generator(latent_dim=latent_dim, hidden=(16,)),
            dense_discriminator(hidden=(16,)))
