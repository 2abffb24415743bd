"""What a lab's set-up cell needs on Google Colab, and nothing elsewhere.

``prepare(use_drive)`` keeps ``runs/`` in Google Drive when asked (``MyDrive/gan_lab``
outlives the runtime, so a run stopped by Colab resumes from there) and says how to get a
GPU when the runtime has none. Outside Colab it does nothing.
"""

from __future__ import annotations

import os
import sys

DRIVE = "/content/drive"
FOLDER = "/content/drive/MyDrive/gan_lab"


def on_colab() -> bool:
    return "google.colab" in sys.modules


def prepare(use_drive: bool = False) -> None:
    """On Colab: with ``use_drive``, mount Google Drive (Colab asks for permission) and work
    in ``MyDrive/gan_lab``, where ``runs/`` and every relative ``OUT`` then land; without a
    GPU, say how to get one. Elsewhere: nothing (``use_drive`` is refused, not ignored)."""
    if not on_colab():
        if use_drive:
            raise RuntimeError("USE_DRIVE = True works on Google Colab only: set it to False "
                               "here, where runs/ already stays on your disk")
        return
    if use_drive:
        from google.colab import drive

        drive.mount(DRIVE)
        os.makedirs(FOLDER, exist_ok=True)
        os.chdir(FOLDER)
        print(f"Working in {FOLDER} (Google Drive): runs/ outlives this runtime")
    from . import runtime

    if not runtime.gpus():
        print("No GPU in this runtime: Runtime > Change runtime type > a GPU, then run again.")
