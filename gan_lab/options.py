"""Names of the training settings, importable without TensorFlow: the command line builds
its parser from them before anything heavy loads."""

# gan: dense (Goodfellow et al. 2014); dcgan: convolutional (Radford et al. 2015);
# cgan: the DCGAN conditioned on class labels (Mirza & Osindero 2014).
MODELS = ("gan", "dcgan", "cgan")
# Named alternative generators: the course's CIFAR-10 generator for the dcgan.
ARCHS = ("course_cifar",)
# The objectives of gan_lab.losses: cross-entropy (non_saturating, minimax), least squares
# (Mao et al. 2017), hinge (Miyato et al. 2018), Wasserstein with gradient penalty
# (Gulrajani et al. 2017).
LOSSES = ("non_saturating", "minimax", "lsgan", "hinge", "wgan_gp")
# "alternating": D's update, then G's through the updated D (Goodfellow et al., Algorithm 1).
# "simultaneous": both from one forward pass (the TensorFlow DCGAN tutorial); a little faster.
UPDATES = ("alternating", "simultaneous")

# Named settings. "radford": the course's full run of either model, with Radford et al.
# 2015's batch 128 and Adam(2e-4, beta_1 0.5), 100 epochs. The mode-collapse lab's (04),
# found by experiment on the 4,000-digit sample (seed-by-seed figures:
# benchmarks/mode_collapse.py and the lab), train 20 epochs at batch 64 with per-epoch
# metrics: "collapse", the dense GAN without batch norm in G at a learning rate of 2e-3;
# "remedy", the DCGAN (batch norm in G and D) at 1e-3. The lab also reports the settings
# tried on the way.
PRESETS = {
    "radford": {"epochs": 100, "batch_size": 128, "learning_rate": 2e-4},
    "collapse": {"model": "gan", "epochs": 20, "batch_size": 64, "learning_rate": 2e-3,
                 "generator_options": {"batch_norm": False}, "epoch_metrics": True},
    "remedy": {"model": "dcgan", "epochs": 20, "batch_size": 64, "learning_rate": 1e-3,
               "epoch_metrics": True},
}
