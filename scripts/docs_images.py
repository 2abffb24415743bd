"""Write the README's pictures into docs/images/ from the two first runs.

    python scripts/docs_images.py            # reuses runs/dcgan-mnist and runs/gan-mnist
    python scripts/docs_images.py --retrain  # trains both first (about 5 minutes on 2 cores)

The runs are README command 1 (`python -m gan_lab train dcgan`) and `python -m gan_lab train
gan`, at their defaults; a run folder that is missing is trained. It writes:

    docs/images/dcgan_last_frame.png   the DCGAN's last frame (64 samples, fixed latent batch)
    docs/images/dcgan_progress.gif     its frames (epochs 1-10, then every 5th), small
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


def shrink_gif(source: Path, target: Path, width: int = GIF_WIDTH, levels: int = 16) -> Path:
    """The run's GIF made small: ``width`` pixels wide, ``levels`` grey levels, epochs 1 to
    10 (where the digits form) and then every 5th and the last, the last held longer."""
    from PIL import Image, ImageSequence

    with Image.open(source) as gif:
        frames = [frame.convert("L") for frame in ImageSequence.Iterator(gif)]
    kept = [i for i in range(len(frames)) if i < 10 or (i + 1) % 5 == 0 or i == len(frames) - 1]
    height = round(frames[0].height * width / frames[0].width)
    step = 256 // levels
    small = [frames[i].resize((width, height), Image.LANCZOS)
             .point(lambda v: v // step * step + step // 2)
             .quantize(levels, dither=Image.Dither.NONE) for i in kept]
    durations = [250] * (len(small) - 1) + [2000]
    small[0].save(target, save_all=True, append_images=small[1:], duration=durations,
                  loop=0, optimize=True)
    return target


def save_grey(source: Path, target: Path) -> Path:
    """A PNG in 256 grey levels (the figures hold no colour), optimised."""
    from PIL import Image

    with Image.open(source) as image:
        image.convert("L").save(target, optimize=True)
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

    save_grey(sorted((dcgan / "frames").glob("epoch_*.png"))[-1], out / "dcgan_last_frame.png")
    shrink_gif(dcgan / "progress.gif", out / "dcgan_progress.gif")
    subprocess.run([sys.executable, "-m", "gan_lab", "compare", str(gan), str(dcgan),
                    "--epochs", "1", "10", "last", "--out", str(out / "compare.png")],
                   check=True)
    save_grey(out / "compare.png", out / "compare.png")
    for name in ("dcgan_last_frame.png", "dcgan_progress.gif", "compare.png"):
        print(f"{out / name}: {(out / name).stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
