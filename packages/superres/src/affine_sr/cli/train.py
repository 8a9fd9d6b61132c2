"""``affine-sr train``: the three training stages on HR images."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from affine_sr.cli.common import COMMON
from app_toolkit.cli import add_device_option

log = logging.getLogger("affine_sr")

EPILOG = """\
outputs in OUT:
  autoencoder/   stage 1: the coupling autoencoder (with its training state and history.json)
  model/         stages 2 and 3: the whole model, for `upscale --model OUT` and `evaluate --model OUT`
                 (stage 3 adds model/refiner/)
  refiner_run/   stage 3's training state and history.json

examples:
  affine-sr train hr_photos/ --out run/                      # all three stages
  affine-sr train --samples --out run/ --textures 200         # offline images only
  affine-sr train hr_photos/ --out run/ --stage prior --resume
  affine-sr train hr_photos/ --out run/ --latent-channels 4 \\
      --prior sd15/unet --prompt-embeds empty_prompt.safetensors    # frozen SD prior
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        parents=[COMMON],
        help="train the autoencoder, the prior and its conditioning, then the refiner",
        description="Train on random crops of HR images; LR inputs are made on the fly, half "
        "by plain bicubic reduction and half by the Real-ESRGAN degradation model (blur, "
        "resize, noise, JPEG, twice). Runs under accelerate (`accelerate launch -m affine_sr "
        "train ...` for its settings).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="*", metavar="HR", help="HR images or folders")
    parser.add_argument("--out", required=True, metavar="DIR", help="run folder")
    data = parser.add_argument_group("data")
    data.add_argument(
        "--samples",
        action="store_true",
        help="add the offline scikit-image/scikit-learn sample images (held-out ones excluded)",
    )
    data.add_argument(
        "--textures",
        type=int,
        default=0,
        metavar="N",
        help="add N procedural textures of 256×256 (default: %(default)s)",
    )
    data.add_argument(
        "--scale", type=int, default=4, help="upscaling factor (default: %(default)s)"
    )
    data.add_argument(
        "--crop", type=int, default=128, help="HR crop side in pixels (default: %(default)s)"
    )
    data.add_argument(
        "--clean",
        type=float,
        default=0.5,
        help="share of plain bicubic LR inputs; the rest are degraded (default: %(default)s)",
    )
    run_group = parser.add_argument_group("run")
    run_group.add_argument(
        "--stage",
        choices=("all", "autoencoder", "prior", "refiner"),
        default="all",
        help="which stage(s) to run; `prior` needs OUT/autoencoder or --autoencoder, `refiner` "
        "needs OUT/model (default: %(default)s)",
    )
    run_group.add_argument("--ae-steps", type=int, default=2000, help="(default: %(default)s)")
    run_group.add_argument("--prior-steps", type=int, default=4000, help="(default: %(default)s)")
    run_group.add_argument(
        "--refiner-steps",
        type=int,
        default=2000,
        help="stage 3; 0 leaves the refiner out (default: %(default)s)",
    )
    run_group.add_argument("--batch-size", type=int, default=16, help="(default: %(default)s)")
    run_group.add_argument(
        "--ae-lr", type=float, default=1e-3, help="stage-1 learning rate (default: %(default)s)"
    )
    run_group.add_argument(
        "--prior-lr", type=float, default=3e-4, help="stage-2 learning rate (default: %(default)s)"
    )
    run_group.add_argument(
        "--refiner-lr",
        type=float,
        default=1e-3,
        help="stage-3 learning rate (default: %(default)s)",
    )
    run_group.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    run_group.add_argument(
        "--save-every", type=int, default=500, help="checkpoint interval in steps"
    )
    run_group.add_argument("--resume", action="store_true", help="continue from OUT's state")
    add_device_option(run_group)
    model = parser.add_argument_group("model")
    model.add_argument("--autoencoder", metavar="DIR", help="a trained autoencoder to start from")
    model.add_argument("--levels", type=int, default=3, help="autoencoder factor 2^levels")
    model.add_argument("--ae-steps-per-level", type=int, default=2, help="couplings per level")
    model.add_argument("--ae-hidden", type=int, default=64, help="coupling network width")
    model.add_argument(
        "--latent-channels",
        type=int,
        default=16,
        help="channels the prior generates (4 for a Stable Diffusion UNet) (default: %(default)s)",
    )
    model.add_argument(
        "--widths",
        default="32,64,128",
        help="our UNet's channels per level (default: %(default)s)",
    )
    model.add_argument(
        "--layers", type=int, default=1, help="ResNet blocks per UNet level (default: %(default)s)"
    )
    model.add_argument(
        "--refiner-width", type=int, default=48, help="refiner channels (default: %(default)s)"
    )
    model.add_argument(
        "--refiner-blocks",
        type=int,
        default=6,
        help="refiner residual blocks (default: %(default)s)",
    )
    model.add_argument(
        "--prior",
        metavar="PATH",
        help="a local diffusers UNet folder (e.g. Stable Diffusion's unet/), kept frozen",
    )
    model.add_argument(
        "--prompt-embeds",
        metavar="FILE",
        help="safetensors file with a `prompt_embeds` tensor [1, tokens, dim] for a "
        "text-conditioned prior (e.g. the empty prompt's CLIP embedding)",
    )
    parser.set_defaults(run=run)


def _images(args: argparse.Namespace) -> list:
    import numpy as np

    from affine_sr.data import HELD_OUT, procedural_texture, sample_images
    from app_toolkit.media import read_images

    images = []
    if args.samples:
        images += [im for name, im in sample_images().items() if name not in HELD_OUT]
    if args.textures:
        rng = np.random.default_rng(args.seed)
        images += [procedural_texture(rng, 256) for _ in range(args.textures)]
    if args.inputs:
        images += list(read_images(args.inputs).values())
    if not images:
        raise ValueError("no training images: give HR folders, --samples or --textures N")
    return images


def _prompt_embeds(path: str | None):
    if path is None:
        return None
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(path)
    except (OSError, SafetensorError) as err:
        raise ValueError(f"{path}: not a readable safetensors file ({err})") from None
    if "prompt_embeds" not in tensors:
        raise ValueError(f"{path}: no `prompt_embeds` tensor (found {', '.join(tensors)})")
    return tensors["prompt_embeds"]


def run(args: argparse.Namespace) -> int:
    import torch

    from affine_sr.autoencoder import CouplingAutoencoder
    from affine_sr.checkpoint import load_model
    from affine_sr.data import PairedCrops
    from affine_sr.model import AffineSR
    from affine_sr.train import (
        check_new_run,
        set_latent_scales,
        train_autoencoder,
        train_prior,
        train_refiner,
    )
    from app_toolkit.devices import resolve_device
    from app_toolkit.files import check_output_dir, write_json

    stages = ("autoencoder", "prior", "refiner") if args.stage == "all" else (args.stage,)
    if not args.refiner_steps:
        stages = tuple(s for s in stages if s != "refiner")
    folders = {"autoencoder": "autoencoder", "prior": "model", "refiner": "refiner_run"}
    check_new_run(args.out, args.resume, [folders[s] for s in stages])
    check_output_dir(args.out, args.inputs)
    if not 0 <= args.clean <= 1:
        raise ValueError(f"--clean must be in [0, 1], got {args.clean}")
    widths = tuple(int(w) for w in args.widths.split(","))
    prompt_embeds = _prompt_embeds(args.prompt_embeds)
    device = str(resolve_device(args.device))
    out = Path(args.out)
    torch.manual_seed(args.seed)
    dataset = PairedCrops(
        _images(args), args.crop, args.scale, args.clean, args.batch_size * 50, args.seed
    )
    log.info("%d training images, crops of %d px, ×%d", len(dataset.images), args.crop, args.scale)
    write_json(out / "args.json", {k: v for k, v in vars(args).items() if k != "run"})
    progress = not args.quiet

    ae_dir = Path(args.autoencoder) if args.autoencoder else out / "autoencoder"
    if "autoencoder" in stages:
        if args.autoencoder:
            ae = CouplingAutoencoder.from_pretrained(ae_dir)
            ae_dir = out / "autoencoder"
        else:
            ae = CouplingAutoencoder(
                3, args.levels, args.ae_steps_per_level, args.ae_hidden, args.latent_channels
            )
        train_autoencoder(
            ae,
            dataset,
            ae_dir,
            args.ae_steps,
            args.batch_size,
            args.ae_lr,
            device=device,
            save_every=args.save_every,
            resume=args.resume,
            progress=progress,
        )
        print(f"autoencoder -> {ae_dir}")
    if "prior" in stages:
        if not (ae_dir / "config.json").is_file():
            raise ValueError(f"{ae_dir}: no trained autoencoder (run --stage autoencoder first)")
        ae = CouplingAutoencoder.from_pretrained(ae_dir).to(device).eval()
        model = AffineSR.build(
            ae, widths, args.layers, prior=args.prior, prompt_embeds=prompt_embeds
        )
        set_latent_scales(model, torch.utils.data.DataLoader(dataset, args.batch_size), args.scale)
        train_prior(
            model,
            dataset,
            out / "model",
            args.prior_steps,
            args.batch_size,
            args.prior_lr,
            device=device,
            save_every=args.save_every,
            resume=args.resume,
            progress=progress,
        )
        print(f"model -> {out / 'model'}")
    if "refiner" in stages:
        if not (out / "model" / "config.json").is_file():
            raise ValueError(f"{out / 'model'}: no trained model (run --stage prior first)")
        train_refiner(
            load_model(out / "model", device),
            dataset,
            out / "model",
            args.refiner_steps,
            args.batch_size,
            args.refiner_lr,
            device=device,
            save_every=args.save_every,
            resume=args.resume,
            progress=progress,
            width=args.refiner_width,
            blocks=args.refiner_blocks,
        )
        print(f"model with refiner -> {out / 'model'}")
    return 0
