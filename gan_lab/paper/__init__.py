"""The DCGAN paper's experiments that only Lab 5 uses (Radford et al. 2015, sections 6-7):
walks and vector arithmetic in the latent space (``latent``), and the discriminator's
features as a classifier's input (``features``). The core package does not import them."""
