"""``affine-sr evaluate``: PSNR/SSIM against HR references, bicubic and Lanczos beside."""

from __future__ import annotations

import argparse
from pathlib import Path

from affine_sr.cli.common import (
    COMMON,
    DEVICE,
    SAMPLING,
    add_degradation_argument,
    sampling_options,
)
from affine_sr.constants import LR_KINDS

EPILOG = """\
outputs in DIR:
  results.csv      one row per image and method (PSNR/SSIM on Y and RGB, detail ratio, GMSD,
                   NIQE, seconds)
  summary.json     means per method, PSNR gain over bicubic, on how many images it beats
                   Lanczos, parameters per component, options
  comparison.png   the same crop of input, bicubic, affine-sr and reference for every image
detail ratio: high-pass energy (Y minus its Gaussian blur, sigma 1.5 px) of the output over the
reference's; 1.0 is as much fine detail as the truth, below is smoother
GMSD: gradient magnitude similarity deviation against the reference (0 is identical; lower is
better); NIQE: no-reference naturalness of the output alone against a model of pristine
photographs shipped with the package (lower is more natural)

examples:
  affine-sr evaluate --heldout --out eval/              # the offline held-out photographs
  affine-sr evaluate --heldout --lr jpeg --out eval_jpeg/   # their reductions saved as JPEG q70
  affine-sr evaluate hr_images/ --out eval/ --lr realesrgan
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "evaluate",
        parents=[COMMON, DEVICE, SAMPLING],
        help="PSNR/SSIM against HR references",
        description="Reduce each HR reference by --scale, upscale it with the model, with "
        "bicubic and with Lanczos, and compare each with the reference (PSNR and SSIM on Y and "
        "RGB, a border of --scale pixels left out; the detail ratio, GMSD and NIQE).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("references", nargs="*", metavar="HR", help="HR images or folders")
    parser.add_argument(
        "--heldout",
        action="store_true",
        help="add the offline sample images kept out of the default model's training",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--lr",
        choices=LR_KINDS,
        default="bicubic",
        help="how LR inputs are made: antialiased bicubic reduction, that saved as JPEG "
        "(--jpeg-quality), or the second-order Real-ESRGAN degradation (default: %(default)s)",
    )
    parser.add_argument(
        "--jpeg-quality",
        type=_quality,
        default=70,
        help="JPEG quality of --lr jpeg inputs (default: %(default)s)",
    )
    add_degradation_argument(parser)
    parser.set_defaults(run=run)


def references(inputs: list[str], heldout: bool, scale: int = 4) -> dict:
    from affine_sr.data import heldout_images
    from app_toolkit.media import read_images

    images = heldout_images() if heldout else {}
    if inputs:
        # SSIM's 7×7 window must fit the low-resolution image
        images.update(read_images(inputs, min_side=8 * scale))
    if not images:
        raise ValueError("give HR images or folders, or --heldout")
    return images


def _quality(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise argparse.ArgumentTypeError(f"a JPEG quality is 1..100, got {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    from affine_sr.checkpoint import load_model
    from affine_sr.evaluate import COLUMNS, METHODS, evaluate, side_by_side
    from app_toolkit.devices import resolve_device
    from app_toolkit.files import check_output_dir, write_csv, write_json

    check_output_dir(args.out, args.references)
    options = sampling_options(args)
    model = load_model(args.model, str(resolve_device(args.device)), args.prior)
    rows, summary, panels = evaluate(
        model,
        references(args.references, args.heldout, args.scale),
        scale=args.scale,
        lr_kind=args.lr,
        seed=args.seed,
        jpeg_quality=args.jpeg_quality,
        progress=not args.quiet,
        degradation=args.degradation,
        **options,
    )
    out = Path(args.out)
    write_csv(out / "results.csv", COLUMNS, [[row[c] for c in COLUMNS] for row in rows])
    write_json(out / "summary.json", summary)
    side_by_side(panels, out / "comparison.png")
    print(
        f"{'method':<10} {'PSNR-Y':>7} {'SSIM-Y':>7} {'PSNR-RGB':>8} {'SSIM-RGB':>8} "
        f"{'detail':>7} {'GMSD':>7} {'NIQE':>6} {'s/img':>7}"
    )
    for method in METHODS:
        s = summary[method]
        print(
            f"{method:<10} {s['psnr_y']:7.2f} {s['ssim_y']:7.4f} {s['psnr_rgb']:8.2f} "
            f"{s['ssim_rgb']:8.4f} {s['detail']:7.3f} {s['gmsd']:7.4f} "
            f"{'–' if s['niqe'] is None else round(s['niqe'], 2)!s:>6} "
            f"{s['median_seconds']:7.2f}"
        )
    params = summary["parameters"]
    print(
        f"PSNR-Y gain over bicubic {summary['psnr_y_gain']:+.2f} dB on {summary['images']} images, "
        f"above Lanczos on {summary['beats_lanczos_on']}; "
        "parameters " + ", ".join(f"{k} {v / 1e6:.2f} M" for k, v in params.items())
    )
    return 0
