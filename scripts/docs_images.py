"""Write the README's pictures into docs/images/ from the two first runs.

    python scripts/docs_images.py            # reuses runs/dcgan-mnist and runs/gan-mnist
    python scripts/docs_images.py --retrain  # trains both first (about 5 minutes on 2 cores)

The runs are README command 1 (`python -m gan_lab train dcgan`) and `python -m gan_lab train
gan`, at their defaults; a run folder that is missing is trained. It writes:

    docs/images/dcgan_last_frame.png   the DCGAN's last frame (64 samples, fixed latent batch)
    docs/images/dcgan_progress.gif     its frames in order, shrunk to keep the file small
    docs/images/compare.png            `gan_lab compare ... --epochs 1 10 last`
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GIF_WIDTH = 240  # pixels: the README shows it beside the last frame


def train(model: str, out: Path, retrain: bool) -> None:
    if (out / "history.csv").is_file() and not retrain:
        print(f"Using {out} (--retrain trains it again)")
        return
    command = [sys.executable, "-m", "gan_lab", "train", model, "--out", str(out)]
    if out.exists():
        command.append("--overwrite")
    print("Running:", " ".join(command[1:]))
    subprocess.run(command, check=True)


def shrink_gif(source: Path, target: Path, width: int = GIF_WIDTH) -> Path:
    """The run's GIF at ``width`` pixels, every frame kept, the last one held longer."""
    from PIL import Image, ImageSequence

    with Image.open(source) as gif:
        frames = [frame.convert("L") for frame in ImageSequence.Iterator(gif)]
    height = round(frames[0].height * width / frames[0].width)
    frames = [frame.resize((width, height), Image.LANCZOS) for frame in frames]
    durations = [120] * (len(frames) - 1) + [1500]
    frames[0].save(target, save_all=True, append_images=frames[1:], duration=durations,
                   loop=0, optimize=True)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=str(ROOT / "runs"), help="folder of the two runs")
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    parser.add_argument("--retrain", action="store_true", help="train both runs again")
    args = parser.parse_args(argv)
    runs_dir, out = Path(args.runs), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dcgan, gan = runs_dir / "dcgan-mnist", runs_dir / "gan-mnist"
    train("dcgan", dcgan, args.retrain)
    train("gan", gan, args.retrain)

    from PIL import Image

    last = sorted((dcgan / "frames").glob("epoch_*.png"))[-1]
    with Image.open(last) as frame:  # 256 grey levels are all a frame holds
        frame.convert("L").save(out / "dcgan_last_frame.png", optimize=True)
    shrink_gif(dcgan / "progress.gif", out / "dcgan_progress.gif")
    subprocess.run([sys.executable, "-m", "gan_lab", "compare", str(gan), str(dcgan),
                    "--epochs", "1", "10", "last", "--out", str(out / "compare.png")],
                   check=True)
    for name in ("dcgan_last_frame.png", "dcgan_progress.gif", "compare.png"):
        print(f"{out / name}: {(out / name).stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
