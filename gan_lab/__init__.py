"""gan_lab: a Keras/TensorFlow lab kit for teaching GANs (dense GAN and DCGAN on MNIST)."""

__version__ = "0.1.0"
