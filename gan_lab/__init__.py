"""gan_lab: a Keras/TensorFlow lab kit for teaching GANs (dense GAN and DCGAN on MNIST)."""

__version__ = "0.1.0"


def check(name, obj):
    """Self-check a lab exercise: ``gan_lab.check("discriminator_loss", discriminator_loss)``."""
    from .grading import check as run_check

    return run_check(name, obj)
