"""A GAN's whole training state, saved and restored by name with ``tf.train.Checkpoint``:
both networks (weights, batch-norm statistics, dropout seeds), both optimizers (slots, step
counts), the GAN's noise seed and the epoch.

Variables are matched by their path in the object graph (network -> layer -> variable,
optimizer -> slot), not by position in one flat list, and the optimizers are saved without
their loss-scaling wrapper, so a run started under a mixed precision policy (GPU) resumes
under float32 (CPU) and back. ``tf.train.CheckpointManager`` writes the new checkpoint
before it points at it, so a run killed while saving resumes from the previous one.
"""

from __future__ import annotations

import contextlib
import gc
import logging

import tensorflow as tf

from .run_folder import RunError, RunFolder


def _unwrapped(optimizer):
    """The optimizer under a LossScaleOptimizer (its loss scale is not training state)."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def _state(gan, epoch: int = 0):
    for optimizer, network in ((gan.d_optimizer, gan.discriminator),
                               (gan.g_optimizer, gan.generator)):
        if not optimizer.built:  # slots exist before a restore fills them
            optimizer.build(network.trainable_variables)
    return tf.train.Checkpoint(
        generator=gan.generator, discriminator=gan.discriminator,
        d_optimizer=_unwrapped(gan.d_optimizer), g_optimizer=_unwrapped(gan.g_optimizer),
        noise_seed=gan.noise_seed.state, layer_seeds=_layer_seeds(gan),
        epoch=tf.Variable(epoch, dtype=tf.int64))


def _layer_seeds(gan) -> dict:
    """The random-seed states of layers (dropout's), which the object graph of a Keras
    model does not reach: named by network and order of appearance."""
    return {f"{role}_{index}": variable
            for role, network in (("generator", gan.generator),
                                  ("discriminator", gan.discriminator))
            for index, variable in enumerate(
                v for v in network.variables if v.path.endswith("seed_generator_state"))}


def save(gan, folder: RunFolder, epoch: int) -> str:
    """Save ``gan``'s training state after ``epoch`` into ``folder.checkpoint_dir``,
    replacing the previous one only once the new one is complete. Returns its prefix."""
    manager = tf.train.CheckpointManager(_state(gan, epoch), folder.checkpoint_dir,
                                         max_to_keep=1, checkpoint_name="state")
    return manager.save(checkpoint_number=epoch)


def saved_epoch(folder: RunFolder) -> int | None:
    """The epoch of the last complete checkpoint in ``folder``, or None."""
    latest = tf.train.latest_checkpoint(folder.checkpoint_dir)
    return None if latest is None else int(latest.rsplit("-", 1)[1])


def restore(gan, folder: RunFolder) -> int:
    """Restore the state saved by ``save`` into ``gan`` (compiled, same architecture);
    returns its epoch. Raises RunError if there is none, it is damaged, or it belongs to
    another architecture."""
    latest = tf.train.latest_checkpoint(folder.checkpoint_dir)
    if latest is None:
        raise RunError(f"{folder} has no checkpoint to resume from; start it without --resume")
    state = _state(gan)
    # A failed restore's leftovers warn, when freed, that values were not restored: the
    # RunError below says so in one line, so they are freed here, quietly.
    with _tensorflow_warnings_off():
        try:
            state.restore(latest).assert_existing_objects_matched()
        except (tf.errors.OpError, ValueError) as error:
            first = str(error).strip().splitlines()[0][:200]
            failure = RunError(f"the checkpoint {latest} is damaged or holds another "
                               f"architecture ({first}); resume it with the settings it "
                               "was trained with, or train again without --resume")
        except AssertionError as error:
            first = str(error).strip().splitlines()[0][:200]
            failure = RunError(f"the checkpoint {latest} holds another architecture "
                               f"({first}); resume it with the settings it was trained with")
        else:
            return int(state.epoch.numpy())
        del state
        gc.collect()
    raise failure


@contextlib.contextmanager
def _tensorflow_warnings_off():
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
