"""``seed-gan gan train|sample``: the class-conditional GAN that generates rare defect classes."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from app_toolkit.files import atomic_write, check_output_dir, write_json
from seed_gan.cli.common import COMMON, DEVICE, TRAINING

log = logging.getLogger("seed_gan")

TRAIN_EPILOG = """\
outputs in DIR:
  generator/     the EMA generator (config.json + model.safetensors), for `gan sample` and
                 `classify train --gan`
  samples.png    one row of generated kernels per class     losses.png  hinge losses
  history.json   losses every 50 steps                       gan_state.pt  to --resume

examples:
  seed-gan gan train seeds/ --out gan/ --size 64 --steps 5000
  seed-gan gan train seeds/ --out gan/ --steps 8000 --resume     # continue to 8000 steps
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "gan",
        help="train the class-conditional GAN, or sample from it",
        description="A class-conditional GAN (BigGAN-style generator with class-conditional "
        "batch norm, projection discriminator with spectral norm, hinge loss, EMA generator).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    train = actions.add_parser(
        "train",
        parents=[COMMON, DEVICE, TRAINING],
        help="train on a folder with one subfolder per class",
        description="Train on the train split of DATA (DATA/<class>/*.png). Classes are drawn "
        "uniformly for the generated images, so rare classes are learned as well as common ones.",
        epilog=TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("data", metavar="DATA", help="image folder, one subfolder per class")
    train.add_argument("--out", required=True, metavar="DIR", help="output folder")
    train.add_argument("--steps", type=int, default=5000, help="steps (default: %(default)s)")
    train.add_argument(
        "--width", type=int, default=32, help="base channel width (default: %(default)s)"
    )
    train.add_argument("--lr", type=float, default=2e-4, help="Adam rate (default: %(default)s)")
    train.add_argument(
        "--ema-decay", type=float, default=0.999, help="generator EMA (default: %(default)s)"
    )
    train.add_argument(
        "--split",
        choices=("train", "all"),
        default="train",
        help="train on the train split only (so the classifier's test split stays unseen) or "
        "on every image (default: %(default)s)",
    )
    train.add_argument(
        "--checkpoint-every", type=int, default=500, help="steps between checkpoints"
    )
    train.add_argument(
        "--diffaugment",
        default="",
        metavar="POLICY",
        help="differentiable augmentations the discriminator sees every image through, for few "
        "images: comma-separated translation, cutout, color (default: none)",
    )
    train.add_argument("--resume", action="store_true", help="continue the run in --out")
    train.add_argument(
        "--rare-count",
        type=int,
        metavar="N",
        help="keep only N images of each rare class (fewer than half the largest class's): "
        "the GAN for `bench --rare-count N`, which sees what the classifier sees",
    )
    train.set_defaults(run=run_train)

    sample = actions.add_parser(
        "sample",
        parents=[COMMON, DEVICE],
        help="write generated images per class",
        description="Write DIR/<class>/gen_NNNNN.png (a class folder like the training data) and "
        "DIR/grid.png.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sample.add_argument("generator", metavar="GAN", help="`gan train` output folder")
    sample.add_argument("--out", required=True, metavar="DIR", help="output folder")
    sample.add_argument("--per-class", type=int, default=16, help="images per class")
    sample.add_argument("--classes", help="comma-separated class names (default: all)")
    sample.add_argument("--seed", type=int, default=0, help="random seed")
    sample.set_defaults(run=run_sample)


def run_train(args: argparse.Namespace) -> int:
    from app_toolkit.devices import resolve_device
    from seed_gan.data import SeedImages
    from seed_gan.diffaugment import parse_policy
    from seed_gan.gan import STATE_FILE, train_gan

    parse_policy(args.diffaugment)  # a misspelt augmentation fails before the data is read

    out = check_output_dir(args.out, [args.data])
    if args.resume and not (out / STATE_FILE).is_file():
        raise ValueError(f"--resume: {out / STATE_FILE} not found")
    if not args.resume and (out / STATE_FILE).is_file():
        raise ValueError(f"{out} holds a GAN run already; add --resume or choose another --out")
    data = SeedImages(args.data, None if args.split == "all" else "train", args.size)
    if args.rare_count is not None:
        data = data.keep_rare(args.rare_count)
    log.info("Training on %d images: %s", len(data), data.class_counts())
    generator, history = train_gan(
        data,
        len(data.classes),
        size=args.size,
        width=args.width,
        steps=args.steps,
        batch_size=args.batch_size,
        lr_g=args.lr,
        lr_d=args.lr,
        ema_decay=args.ema_decay,
        seed=args.seed,
        device=resolve_device(args.device).type,
        classes=data.classes,
        out_dir=out,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        progress=not args.quiet,
        augment=args.diffaugment,
    )
    write_json(out / "history.json", history)
    _plot_losses(history, out / "losses.png")
    save_class_grid(generator, out / "samples.png", per_class=10, seed=args.seed)
    log.info("Results saved to %s", out)
    return 0


def save_class_grid(generator, path: Path, per_class: int = 10, seed: int = 0) -> None:
    """One row of generated images per class."""
    from app_toolkit.plots import save_grid
    from seed_gan.gan import generate

    counts = dict.fromkeys(range(generator.num_classes), per_class)
    images, _ = generate(generator, counts, seed=seed)
    save_grid((images + 1) / 2, path, nrow=per_class, upscale=max(1, 64 // generator.size))


def _plot_losses(history: list[dict], path: Path) -> None:
    from app_toolkit.plots import plot_curves

    steps = [h["step"] for h in history]
    series = {
        "discriminator": (steps, [h["d_loss"] for h in history]),
        "generator": (steps, [h["g_loss"] for h in history]),
    }
    plot_curves(series, path, xlabel="step", ylabel="hinge loss")


def run_sample(args: argparse.Namespace) -> int:
    from PIL import Image

    from app_toolkit.devices import resolve_device
    from app_toolkit.plots import save_grid
    from seed_gan.gan import generate, load_generator

    if args.per_class < 1:
        raise ValueError(f"--per-class must be >= 1, got {args.per_class}")
    generator = load_generator(args.generator, str(resolve_device(args.device)))
    names = args.classes.split(",") if args.classes else generator.classes
    unknown = [c for c in names if c not in generator.classes]
    if unknown:
        raise ValueError(f"unknown classes {unknown}; the generator knows {generator.classes}")
    counts = {generator.classes.index(c): args.per_class for c in names}
    images, labels = generate(generator, counts, seed=args.seed)
    pixels = ((images + 1) * 127.5).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    out = Path(args.out)
    index: dict[str, int] = {}
    for array, label in zip(pixels, labels.tolist()):
        name = generator.classes[label]
        (out / name).mkdir(parents=True, exist_ok=True)
        i = index[name] = index.get(name, -1) + 1
        image = Image.fromarray(array)
        atomic_write(out / name / f"gen_{i:05d}.png", lambda p, im=image: im.save(p, format="PNG"))
    save_grid(
        (images + 1) / 2,
        out / "grid.png",
        nrow=args.per_class,
        upscale=max(1, 64 // generator.size),
    )
    log.info("Wrote %d images per class for %s", args.per_class, ", ".join(names))
    log.info("Results saved to %s", out)
    return 0
