"""Command line: ``python -m gan_lab COMMAND ...``, also installed as ``gan-lab``.

Commands: ``train`` (a run folder of frames, GIF, losses, history, snapshots, checkpoint),
``compare`` (runs side by side at chosen epochs), ``evaluate`` (the measures of saved
snapshots), ``labs`` (the lab notebooks into a folder), ``release`` (labs/ from solutions/),
``grade`` (a class's notebooks, each student in a sandbox) and ``bench`` (speed, or time to
digits with ``--quality``). Every setting of ``train`` is a ``TrainConfig`` field."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import quiet_start, setup
from .config import TrainConfig
from .data import DATASETS, POINT_DATASETS, SOURCES, sample_kind
from .options import (ARCHS, COMPARE_EPOCHS, DEFAULT_SNAPSHOTS, DEFAULT_STEPS, LAST, LOSSES,
                      MODELS, POINT_SETTINGS, PRESETS, STRATEGIES, UPDATES, positive_int)


INTERRUPTED = 130  # the exit status of a command stopped by Ctrl-C (128 + SIGINT)


def user_errors() -> tuple:
    """Bad input (data, settings, models), unusable folders and a grading that cannot
    proceed: reported in one line saying what to fix. DataError, RunError and the model
    checks are ValueErrors; the grader is imported only by the commands that grade."""
    grader = sys.modules.get("gan_lab.grading.grader")
    return (ValueError, OSError, *((grader.GradingError,) if grader else ()))


def positive_integer(text):
    """argparse type: a whole number >= 1 (argparse names the type by this function)."""
    return positive_int(int(text), "it", argparse.ArgumentTypeError)


def epoch_or_last(text):
    """argparse type for compare's epochs: a whole number >= 1, or 'last'."""
    if text.strip().lower() == LAST:
        return LAST
    try:
        return positive_integer(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"an epoch is a whole number >= 1 or 'last', got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gan-lab", description="Train GANs on MNIST and compare what they draw."
    )
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up and log lines")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train a dense GAN or a DCGAN and write images, GIF, losses and history",
        description="Train a dense GAN or a DCGAN; per-epoch images, a GIF, a loss plot, "
        "history.csv and generator snapshots go into the --out folder.",
    )
    train.add_argument("model", choices=MODELS, help="gan: dense (Goodfellow 2014); "
                       "dcgan: convolutional (Radford 2015); cgan: the dcgan conditioned on "
                       "the class label (Mirza 2014), so you can ask it for a 7")
    train.add_argument("--arch", choices=ARCHS,
                       help="an alternative generator: course_cifar = the course's CIFAR-10 "
                            "G (one dense layer, four 3x3 transposed convolutions), for dcgan")
    train.add_argument("--dataset", choices=sorted(DATASETS),
                       help="default mnist; ring and grid are 2-D mixtures of Gaussians, "
                            "stacked_mnist three digits as R, G, B (the mode-collapse lab)")
    train.add_argument("--source", default="auto", choices=SOURCES,
                       help="where images come from (default: auto, see docs/students.md)")
    train.add_argument("--data-dir", help="TFDS cache folder (tfds) or IDX folder (idx)")
    train.add_argument("--epochs", type=positive_integer,
                       help="epochs to train (default: about "
                            f"{DEFAULT_STEPS['dcgan']:,} training steps' worth for the DCGAN, "
                            f"{DEFAULT_STEPS['cgan']:,} for the conditional one, "
                            f"{DEFAULT_STEPS['gan']:,} for the dense GAN: 40, 16 and 32 epochs "
                            "of the 4,000-digit sample; or the preset's; "
                            "the course run is --preset radford, 100)")
    train.add_argument("--preset", choices=sorted(PRESETS),
                       help="named settings: radford (the course's 100-epoch run at Radford "
                            "et al.'s batch 128 and learning rate 2e-4); the mode-collapse "
                            "lab's 2-D games " + ", ".join(sorted(
                                name for name, preset in PRESETS.items()
                                if preset.get("dataset") in POINT_DATASETS))
                            + " (docs/mode-collapse.md); remedy (the DCGAN on digits, "
                            "per-epoch metrics on); settings given beside it win")
    train.add_argument("--batch-size", type=positive_integer,
                       help=f"default {_default('batch_size')}")
    train.add_argument("--limit", type=positive_integer,
                       help="use a class-balanced subset of N training images")
    train.add_argument("--seed", type=int, help="default 0")
    train.add_argument("--latent-dim", type=positive_integer, metavar="Z",
                       help=f"size of G's input noise z (default {_default('latent_dim')}; "
                            f"{POINT_SETTINGS['latent_dim']} for the 2-D mixtures)")
    train.add_argument("--loss", choices=LOSSES,
                       help="the objective (default non_saturating); wgan_gp brings its "
                            "paper's settings: 5 critic steps, Adam(1e-4, 0, 0.9), layer norm")
    train.add_argument("--spectral-norm", action="store_true", default=None,
                       help="spectrally normalise D's layers (Miyato et al. 2018)")
    train.add_argument("--g-learning-rate", type=float,
                       help="G's own learning rate (default: --learning-rate)")
    train.add_argument("--d-learning-rate", type=float,
                       help="D's own learning rate (default: --learning-rate); 0 freezes D "
                            "at its first weights: G then plays against a fixed D")
    train.add_argument("--d-steps", type=positive_integer, help="D updates per G update (default 1)")
    train.add_argument("--g-steps", type=positive_integer,
                       help="G updates per training step (default 1; more lets G outrun D)")
    train.add_argument("--unroll", type=int, metavar="K",
                       help="Unrolled GAN (Metz et al. 2017): G's loss through K look-ahead "
                            "steps of D (default 0: none; the paper's 5)")
    train.add_argument("--pack", type=positive_integer, metavar="M",
                       help="PacGAN (Lin et al. 2018): D judges M samples packed together "
                            "(default 1: none; the paper's 2)")
    train.add_argument("--minibatch-std", action="store_true", default=None,
                       help="a minibatch standard deviation feature in D (Karras et al. 2018)")
    train.add_argument("--real-label", type=float,
                       help="target for real images; 0.9 = one-sided label smoothing")
    train.add_argument("--snapshot-epochs", type=positive_integer, nargs="+", metavar="E",
                       help="epochs whose generator is saved (default "
                            f"{' '.join(map(str, DEFAULT_SNAPSHOTS))}; the last always is)")
    train.add_argument("--out", help="run folder (default runs/<model>-<dataset>)")
    train.add_argument("--update", choices=UPDATES,
                       help="alternating: D, then G through the updated D (default); "
                            "simultaneous: both from one forward pass, a little faster")
    train.add_argument("--learning-rate", type=float,
                       help=f"Adam's learning rate for both networks (default "
                            f"{_default('learning_rate'):g})")
    train.add_argument("--beta-1", type=float,
                       help=f"Adam's beta_1 for both networks (default {_default('beta_1'):g}, "
                            "Radford et al.'s)")
    train.add_argument("--beta-2", type=float,
                       help=f"Adam's beta_2 for both networks (default {_default('beta_2'):g})")
    train.add_argument("--gp-weight", type=float, metavar="LAMBDA",
                       help=f"weight of the gradient penalty with --loss wgan_gp (default "
                            f"{_default('gp_weight'):g}, Gulrajani et al.'s)")
    train.add_argument("--epoch-metrics", action="store_true", default=None,
                       help="add modes and KL to uniform of each epoch's samples to history.csv")
    train.add_argument("--distribute", choices=STRATEGIES,
                       help="train on several devices with tf.distribute: mirrored = the "
                            "GPUs of this machine, multi_worker = machines named in "
                            "$TF_CONFIG; --batch-size is then per device")
    train.add_argument("--tensorboard", action=argparse.BooleanOptionalAction, default=None,
                       help="write TensorBoard events into the run folder's tensorboard/ "
                            "(default on; see them with: tensorboard --logdir runs)")
    what = train.add_mutually_exclusive_group()
    what.add_argument("--resume", action="store_true",
                      help="continue the run in --out from its last completed epoch")
    what.add_argument("--overwrite", action="store_true",
                      help="replace the run already in --out")

    compare = commands.add_parser(
        "compare", help="draw runs side by side at chosen epochs from their snapshots",
        description="Rows = runs, columns = epochs, drawn from each run's saved generator "
        "snapshots with its fixed latent batch.",
    )
    compare.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    compare.add_argument("--epochs", type=epoch_or_last, nargs="+", metavar="E",
                         default=list(COMPARE_EPOCHS),
                         help="snapshot epochs, one column each; 'last' = each run's last "
                              "saved epoch (default: "
                              f"{' '.join(map(str, COMPARE_EPOCHS))}, which every run keeps)")
    compare.add_argument("--out", required=True, help="PNG file to write")

    evaluate = commands.add_parser(
        "evaluate", help="measure a run's snapshots: modes, KL to uniform, score, Frechet",
        description="Generate images from each saved snapshot and measure them with a digit "
        "classifier (trained once, then cached), beside the same measures of real images; "
        "for a ring or grid: modes covered, high-quality share and KL; for Stacked MNIST: "
        "modes of 1,000 and KL. Writes RUN_DIR/metrics.csv.",
    )
    evaluate.add_argument("run_dir", metavar="RUN_DIR")
    evaluate.add_argument("--epochs", type=positive_integer, nargs="+",
                          help="snapshot epochs to measure (default: all saved)")
    evaluate.add_argument("--samples", type=positive_integer,
                          help="generated samples per snapshot, 100 to 100,000 (default "
                               "10,000 images; 2,500 points of a ring or grid, VEEGAN's "
                               "protocol; 26,000 Stacked MNIST images, PacGAN's)")
    evaluate.add_argument("--data-dir", help="TFDS cache or IDX folder, as for train")

    labs = commands.add_parser(
        "labs", help="write the five lab notebooks into a folder of yours",
        description="Write the lab notebooks shipped with gan_lab into DIR (created if "
        "needed). Notebooks there that you changed are kept: the command then writes nothing "
        "and says which, unless --overwrite.",
    )
    labs.add_argument("dir", metavar="DIR", help="folder to write the notebooks into")
    labs.add_argument("--overwrite", action="store_true",
                      help="replace notebooks in DIR that differ from the shipped ones")

    release = commands.add_parser(
        "release", help="write the student labs (and self-check data) from the solutions",
        description="Write labs/*.ipynb from solutions/*.ipynb, each solution region replaced "
        "by a NotImplementedError stub, and the self-check reference the labs' check cells use.",
    )
    release.add_argument("--solutions", default="solutions")
    release.add_argument("--labs", default="labs")
    release.add_argument("--check", action="store_true",
                         help="write nothing; fail if labs/ differs from what would be written")

    grade = commands.add_parser(
        "grade", help="grade student notebooks against the solutions and write a CSV",
        description="Grade notebooks: PATH is a notebook, a student's folder, or a folder of "
        "student folders. Each student's code runs in a bubblewrap sandbox of its own (no "
        "network, no project files, no other students), with limits on time, memory, "
        "processes and output; see docs/instructors.md.",
    )
    grade.add_argument("paths", nargs="+", metavar="PATH")
    grade.add_argument("--out", default="grades.csv", help="CSV to write (default grades.csv)")
    grade.add_argument("--feedback", metavar="DIR",
                       help="folder of the students' feedback reports and their index.html "
                            "(default: <CSV name>_feedback beside the CSV)")
    grade.add_argument("--no-feedback", action="store_true", help="write no feedback reports")
    grade.add_argument("--only", action="append", metavar="STUDENT",
                       help="grade only this student (repeatable), e.g. to regrade after a fix")
    grade.add_argument("--update", metavar="CSV",
                       help="replace the graded students' rows in this CSV (written by an "
                            "earlier grade), keeping every other row as it is")
    grade.add_argument("--solutions", help="the solution notebooks (default: solutions/ in "
                       "this folder, else the one beside the installed gan_lab package)")
    grade.add_argument("--lab", nargs="+", metavar="LAB", dest="labs",
                       help="grade only these labs' exercises, out of their points: e.g. "
                            "--lab 01 (default: every lab in the solutions)")
    grade.add_argument("--timeout", type=float, default=20.0,
                       help="seconds an exercise may run (default 20)")
    grade.add_argument("--student-timeout", type=float, default=300.0,
                       help="seconds all of a student's exercises may take (default 300)")
    grade.add_argument("--memory", type=float, default=4.0,
                       help="GiB of address space a student's process may map (default 4)")
    grade.add_argument("--processes", type=positive_integer, default=256,
                       help="processes and threads a student may add (default 256)")
    grade.add_argument("--seed", type=positive_integer,
                       help="seed of the graded inputs (default: a fresh one each run)")
    grade.add_argument("--workers", type=positive_integer, help="students graded at once (default: cores)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run students' code without bubblewrap: unsafe, for machines "
                            "without it; every run and the CSV say so")

    bench = commands.add_parser(
        "bench", help="measure training speed against a tutorial-style training loop",
        description="Train each model on 60,000 synthetic images, alternating a tutorial-style "
        "loop and gan_lab, and print images/s, seconds per epoch, memory and GFLOP/s.",
    )
    kind = bench.add_mutually_exclusive_group()
    kind.add_argument("--quick", action="store_true", help="few steps: under 2 minutes")
    kind.add_argument("--quality", action="store_true",
                      help="time to digits: CPU seconds until gan_lab's defaults and the "
                           "TensorFlow tutorial's recipe each reach >= 9 modes, confident "
                           ">= 0.6 and Frechet <= 40 on the 4,000-digit sample")
    bench.add_argument("--budget", type=positive_integer, default=1200,
                       help="--quality: CPU seconds of training each recipe may spend")
    bench.add_argument("--every", type=positive_integer, default=2,
                       help="--quality: epochs between judgements")
    bench.add_argument("--preset", choices=sorted(PRESETS),
                       help="--quality: gan_lab trains with this preset's settings")
    bench.add_argument("--out", default=None,
                       help="JSON file to write (default bench.json, or bench_quality.json "
                            "with --quality, beside it a PNG of the measures)")
    bench.add_argument("--doc", metavar="MARKDOWN",
                       help="also write the table into this Markdown file (e.g. "
                            "docs/performance.md), in the section of this CPU kind and "
                            "kind of run, replacing that section's previous table")
    return parser


def _default(name):
    """The TrainConfig default of setting ``name``, for the help texts."""
    return TrainConfig.__dataclass_fields__[name].default


# Arguments of ``train`` that are not TrainConfig fields.
TRAIN_ACTIONS = ("command", "verbose", "resume", "overwrite")


def train_config(args) -> TrainConfig:
    """The checked TrainConfig of ``train``'s parsed arguments."""
    settings = {key: value for key, value in vars(args).items() if key not in TRAIN_ACTIONS}
    if settings.pop("minibatch_std", None):  # an option of D's builder
        settings["discriminator_options"] = {"minibatch_std": True}
    return TrainConfig.create(**settings)


def run_train(args) -> int:
    config = train_config(args)
    chosen = setup()  # TensorFlow loads here, after the settings are checked
    from . import runs

    planned = runs.plan(config, resume=args.resume)  # a resume: the saved run's settings
    config = planned.config
    from .models import POINT_POLICY

    precision = POINT_POLICY if config.dataset in POINT_DATASETS else chosen.precision
    print(f"Device: {chosen.device}; precision: {precision}")
    verb = "Resuming" if args.resume else "Training"
    networks = [config.arch] if config.arch else []
    networks += [f"{role} " + ", ".join(f"{name} {value}" for name, value in options)
                 for role, options in (("G", config.generator_options),
                                       ("D", config.discriminator_options)) if options]
    if not networks and config.model != "gan":
        networks = ["full-size"]  # models.py's widths (Radford et al.'s for the DCGAN)
    arch = f" ({'; '.join(networks)})" if networks else ""
    until = (f"to epoch {config.epochs}" if config.epochs else
             f"for about {config.default_steps():,} steps")
    print(f"{verb} {config.model}{arch} {until}, batch {config.batch_size} -> {config.run_dir}")
    started = time.perf_counter()
    run = runs.train(planned, overwrite=args.overwrite)
    facts = runs.RunFolder(config.run_dir).read_config()["run"]
    print(f"Data: {facts['dataset']} {facts['split']}, {facts['images']:,} "
          f"{sample_kind(facts['image_shape'])} "
          f"{tuple(facts['image_shape'])} from {facts['source_used']}")
    seconds = [row["seconds"] for row in run.history]
    timing = (f" ({sum(seconds) / len(seconds):.1f} s per epoch of training, epochs 1-"
              f"{run.history[-1]['epoch']})" if seconds else "")
    print(f"Done in {time.perf_counter() - started:.0f} s{timing}. In {config.run_dir}:")
    for name, what in run.folder.describe():
        print(f"  {name:<15} {what}")
    return 0


def run_compare(args) -> int:
    setup()
    from . import reports
    from .files import save_figure

    figure = reports.compare(args.run_dirs, args.epochs)
    print(f"Wrote {save_figure(figure, args.out)}")
    return 0


def run_evaluate(args) -> int:
    setup()
    from . import metrics, reports

    results, references, judge = reports.evaluate(args.run_dir, args.epochs, args.samples,
                                                  args.data_dir)
    print(judge.describe())  # with its caveat, when its measures mean little
    rows = {f"epoch {epoch}": m for epoch, m in results.items()}
    rows.update({f"({name})": m for name, m in references.items()})
    print(metrics.table(rows, judge.measures))
    print(f"Wrote {args.run_dir}/metrics.csv")
    return 0


def run_labs(args) -> int:
    from .handout import write_labs

    for path, status in write_labs(args.dir, overwrite=args.overwrite).items():
        print(f"  {path} ({status})")
    print(f"Open them with: jupyter lab {args.dir}")
    return 0


def run_release(args) -> int:
    from .grading import notebooks, write_self_check_reference

    changed = notebooks.release(args.solutions, args.labs, check=args.check)
    if args.check:
        if changed:
            print("Out of date (run python -m gan_lab release): "
                  + ", ".join(map(str, changed)), file=sys.stderr)
            return 1
        print(f"{args.labs}/ matches {args.solutions}/")
        return 0
    print(f"Wrote {len(changed)} lab notebook(s)" + (": " + ", ".join(map(str, changed))
                                                      if changed else " (all up to date)"))
    print(f"Wrote {write_self_check_reference(args.solutions)}")
    return 0


def default_solutions() -> Path:
    """solutions/ in the working folder, else the clone's (beside the gan_lab package of an
    editable install); the working folder's name when neither holds notebooks."""
    here = Path("solutions")
    clone = Path(__file__).resolve().parents[1] / "solutions"
    for folder in (here, clone):
        if any(folder.glob("*.ipynb")):
            return folder
    return here


def run_grade(args) -> int:
    from .grading.grader import (NO_SANDBOX_WARNING, grade, solution_exercises,
                                 updatable_rows, write_results)
    from .grading.sandbox import Limits

    solutions = args.solutions or default_solutions()
    if args.update:  # before any grading: a CSV that cannot be updated fails fast
        updatable_rows(args.update, solution_exercises(solutions, args.labs))
    elif args.only and Path(args.out).exists():
        raise ValueError(f"--only would replace {args.out} with only these students' rows: "
                         f"add --update {args.out} to replace their rows alone, or --out "
                         "another file")

    if args.no_sandbox:
        print(f"gan-lab grade: WARNING: {NO_SANDBOX_WARNING}", file=sys.stderr)
    limits = Limits(exercise_seconds=args.timeout, student_seconds=args.student_timeout,
                    memory_bytes=int(args.memory * (1 << 30)), processes=args.processes)
    started = time.perf_counter()
    grading = grade(args.paths, solutions, seed=args.seed,
                    limits=limits, workers=args.workers, sandbox=not args.no_sandbox,
                    labs=args.labs, only=args.only)
    maximum = sum(e.points for e in grading.exercises)
    for result in grading.grades:
        lost = ", ".join(result.reasons) or "-"
        # a folder's name is the student's text: shown escaped, never as terminal codes
        name = "".join(c if c.isprintable() else repr(c)[1:-1] for c in result.student)
        print(f"{name:<24} {result.total:>3}/{maximum}   lost: {lost}")
    written = write_results(grading, args.update or args.out,
                            feedback=False if args.no_feedback else args.feedback or True,
                            update=bool(args.update))
    print(f"Graded {len(grading.grades)} student(s) in {time.perf_counter() - started:.0f} s "
          f"({grading.note}); wrote {written.csv}"
          + (f" (rows replaced: {len(written.replaced)}, added: {len(written.added)})"
             if args.update else ""))
    if written.feedback:
        print(f"Feedback reports: {written.feedback}/ (index.html links them)")
    print(f"Class overview: {written.overview[0]}, {written.overview[1]}")
    if args.no_sandbox:
        print(f"gan-lab grade: WARNING: {NO_SANDBOX_WARNING}", file=sys.stderr)
    return 0


def run_bench(args) -> int:
    import json

    from .bench.speed import run_benchmark, table

    if args.preset and not args.quality:
        print("error: --preset goes with --quality", file=sys.stderr)
        return 2
    started = time.perf_counter()
    if args.quality:
        from .bench import time_to_digits
        from .plotting import plot_time_to_digits
        from .runtime import cpu_name

        out = args.out or "bench_quality.json"
        print(f"Time to digits on {cpu_name()} (training CPU seconds; judging not counted):")
        results = time_to_digits.run(budget=args.budget, every=args.every, preset=args.preset)
        print(time_to_digits.table(results))
        figure = plot_time_to_digits(results)
        figure.savefig(os.path.splitext(out)[0] + ".png", dpi=100, bbox_inches="tight")
    else:
        out = args.out or "bench.json"
        print("Benchmark runs (each in a fresh process):")
        results = run_benchmark(quick=args.quick)
        print(table(results))
    with open(out, "w") as stream:
        json.dump(results, stream, indent=2)
    seconds = time.perf_counter() - started
    print(f"Wrote {out} in {seconds:.0f} s")
    if args.doc:
        from .bench.report import cpu_kind, doc_text, write_doc_section

        what = ("bench --quality" + (f" --preset {args.preset}" if args.preset else "")
                if args.quality else "bench --quick" if args.quick else "bench")
        flags = (f" --budget {args.budget}" if args.quality else "")
        text = doc_text(time_to_digits.table(results) if args.quality else table(results),
                        f"python -m gan_lab {what}{flags}", seconds)
        write_doc_section(args.doc, f"{what}; {cpu_kind()}", text)
        print(f"Wrote the table into {args.doc} ({what}; {cpu_kind()})")
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # --verbose may stand anywhere (before or after the command).
    args = build_parser().parse_args([a for a in argv if a != "--verbose"])
    args.verbose = "--verbose" in argv
    quiet_start(args.verbose)  # before any command imports TensorFlow
    handler = {"train": run_train, "compare": run_compare, "release": run_release,
               "grade": run_grade, "bench": run_bench, "labs": run_labs,
               "evaluate": run_evaluate}[args.command]
    try:
        return handler(args)
    except user_errors() as error:
        # A bad input: one line saying what to fix, not a TensorFlow traceback.
        print(f"gan-lab {args.command}: error: {error}", file=sys.stderr)
        return 2
    except MemoryError as error:  # numpy's names the size it could not allocate
        print(f"gan-lab {args.command}: error: not enough memory ({error}); ask for less "
              "(fewer --samples, a smaller --batch-size or --limit)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        resume = (" (its completed epochs are kept: the same command with --resume goes on)"
                  if args.command == "train" else "")
        print(f"\ngan-lab {args.command}: interrupted{resume}", file=sys.stderr)
        return INTERRUPTED


def console():
    """The process's entry (``gan-lab``, ``python -m gan_lab``): ``main``'s status as the exit
    code. After Ctrl-C the run's files are already whole (``runs.train`` finishes them), and
    TensorFlow's teardown of a stopped ``fit`` takes seconds: the process ends at once."""
    code = main()
    if code == INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    console()
