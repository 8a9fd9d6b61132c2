"""Timing helpers and the convolution benchmark behind ``core-flows bench conv``.

Times are medians of repeated runs after warm-up; on CUDA they come from CUDA events. Ratios are
taken within one run against the forward convolution, since absolute times on shared machines drift.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import torch

from app_toolkit.devices import environment
from core_flows.constants import SAMPLING_PRESETS
from core_flows.functional import causal_conv2d, causal_conv2d_inverse, corner_index
from core_flows.ops.causal_inverse import SOLVERS

__all__ = [
    "bench_conv",
    "bench_sampling",
    "bench_train",
    "format_sampling_table",
    "format_table",
    "format_train_table",
    "plot_sampling",
    "time_function",
]

# The dense backend builds a (CHW)² matrix; above this size it is reported as skipped.
DENSE_MAX_DIM = 4096


def time_function(
    fn: Callable[[], object], device: torch.device, repeats: int = 20, warmup: int = 3
) -> list[float]:
    """Seconds per call of ``fn`` for ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
    else:
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return times


def random_kernel(
    channels: int,
    kernel_size: int,
    order: str = "TL",
    dtype=torch.float32,
    device: torch.device | str = "cpu",
    seed: int = 0,
) -> torch.Tensor:
    """A FInC-style kernel (unit lower-triangular corner tap, small off-corner taps)."""
    g = torch.Generator().manual_seed(seed)
    std = 0.1 / (channels**0.5 * kernel_size)
    w = torch.randn(channels, channels, kernel_size, kernel_size, generator=g) * std
    ci, cj = corner_index(order, kernel_size)
    w[:, :, ci, cj] = torch.tril(w[:, :, ci, cj], -1) + torch.eye(channels)
    return w.to(device=device, dtype=dtype)


def bench_conv(
    batch: int = 16,
    channels: int = 32,
    size: int = 32,
    kernel_size: int = 3,
    device: torch.device | str = "cpu",
    backends: Sequence[str] | None = None,
    repeats: int = 20,
    warmup: int = 3,
    dtype: torch.dtype = torch.float32,
) -> dict[str, object]:
    """Time the causal convolution and its inverse with each backend on one shape.

    Returns a dict with ``config``, ``environment`` and ``rows``; each row has ``op``, ``backend``,
    ``median_ms``, ``min_ms``, ``ratio_to_conv`` and ``max_abs_error`` (round trip), or ``skipped``.
    """
    device = torch.device(device)
    if (
        backends is None
    ):  # the Triton backends are GPU kernels; on CPU only the interpreter runs them
        gpu_only = ("triton", "published")
        backends = [b for b in SOLVERS if device.type == "cuda" or b not in gpu_only]
    backends = list(backends)
    for b in backends:
        if b not in SOLVERS:
            raise ValueError(f"unknown backend {b!r}; choose from {list(SOLVERS)}")
    weight = random_kernel(channels, kernel_size, dtype=dtype, device=device)
    x = torch.randn(batch, channels, size, size, generator=torch.Generator().manual_seed(1))
    x = x.to(device=device, dtype=dtype)
    rows: list[dict[str, object]] = []
    with torch.inference_mode():
        y = causal_conv2d(x, weight)
        conv_times = time_function(lambda: causal_conv2d(x, weight), device, repeats, warmup)
        conv_ms = statistics.median(conv_times) * 1e3
        rows.append(
            {
                "op": "conv (forward)",
                "backend": "torch.conv2d",
                "median_ms": conv_ms,
                "min_ms": min(conv_times) * 1e3,
                "ratio_to_conv": 1.0,
            }
        )
        for b in backends:
            row: dict[str, object] = {"op": "inverse", "backend": b}
            if b == "dense" and channels * size * size > DENSE_MAX_DIM:
                row["skipped"] = f"C·H·W = {channels * size * size} > {DENSE_MAX_DIM}"
                rows.append(row)
                continue
            # the sequential schedule is ~H·W steps: fewer repeats keep the benchmark short
            n = max(3, repeats // 4) if b == "sequential" else repeats
            times = time_function(
                lambda b=b: causal_conv2d_inverse(y, weight, backend=b),
                device,
                n,
                min(warmup, 1) if b == "sequential" else warmup,
            )
            err = (causal_conv2d_inverse(y, weight, backend=b) - x).abs().max().item()
            med = statistics.median(times) * 1e3
            row.update(
                median_ms=med,
                min_ms=min(times) * 1e3,
                ratio_to_conv=med / conv_ms,
                max_abs_error=err,
            )
            rows.append(row)
    return {
        "config": {
            "batch": batch,
            "channels": channels,
            "height": size,
            "width": size,
            "kernel_size": kernel_size,
            "dtype": str(dtype).removeprefix("torch."),
            "repeats": repeats,
            "warmup": warmup,
        },
        "environment": environment(device),
        "rows": rows,
    }


def format_table(result: dict[str, object]) -> str:
    """Plain-text table of :func:`bench_conv`'s result."""
    cfg = result["config"]
    env = result["environment"]
    head = (
        f"B={cfg['batch']} C={cfg['channels']} H=W={cfg['height']} k={cfg['kernel_size']} "
        f"{cfg['dtype']} on {env.get('gpu') or env['device']} "
        f"({env['cpu_threads']} CPU threads, torch {env['torch']})"
    )
    lines = [
        head,
        f"{'op':<16}{'backend':<14}{'median ms':>11}{'min ms':>10}{'× conv':>9}{'max |err|':>11}",
    ]
    for r in result["rows"]:
        if "skipped" in r:
            lines.append(f"{r['op']:<16}{r['backend']:<14}  skipped: {r['skipped']}")
            continue
        err = f"{r['max_abs_error']:.1e}" if "max_abs_error" in r else "-"
        lines.append(
            f"{r['op']:<16}{r['backend']:<14}{r['median_ms']:>11.3f}{r['min_ms']:>10.3f}"
            f"{r['ratio_to_conv']:>9.2f}{err:>11}"
        )
    return "\n".join(lines)


def _build(preset: str, config: str, width: int, steps: int | None, device, kernel_size: int = 3):
    from core_flows.models import PAPER_CONFIGS, build_flow

    cfg = PAPER_CONFIGS[config]
    name, _, variant = preset.partition("-")
    backend = variant or "auto"  # "finc-wavefront": the per-call solve, no cached inverse
    flow = build_flow(
        name,
        cfg["image_shape"],
        cfg["levels"],
        steps or cfg["steps"],
        width,
        kernel_size,
        backend=backend,
    )
    return flow.to(device).eval()


def _published_usable(device: torch.device) -> str | None:
    from core_flows.ops.causal_inverse import triton_available

    if not triton_available():
        return "triton is not installed"
    if device.type != "cuda":
        return "the published schedule is a GPU kernel; no CUDA device"
    return None


def _sampling_rows(config, batch, presets, width, steps, device, repeats, budget_s) -> list[dict]:
    """One config and batch: every preset timed in turn within each repeat (round-robin), so
    that drift of the machine's speed over the run and the warm-up of the first one timed fall on
    all presets alike."""
    rows, flows, inputs = {}, {}, {}
    for preset in presets:
        row: dict[str, object] = {"config": config, "batch": batch, "preset": preset}
        reason = _published_usable(device) if preset.endswith("published") else None
        rows[preset] = {**row, "skipped": reason} if reason else row
        if not reason:
            torch.manual_seed(0)
            flows[preset] = _build(preset, config, width, steps, device)
            inputs[preset] = torch.rand(batch, *flows[preset].image_shape, device=device)
    times: dict[tuple[str, str], list[float]] = {}
    with torch.inference_mode():
        calls = {
            (p, op): (lambda f=f, x=inputs[p]: f.log_prob(x)) if op == "forward"
            else (lambda f=f: f.sample(batch))
            for p, f in flows.items() for op in ("forward", "sample")
        }  # fmt: skip
        for key, fn in calls.items():  # warm-up; an entry slower than the budget is timed once
            times[key] = time_function(fn, device, repeats=1, warmup=1)
        for _ in range(repeats - 1):
            for key, fn in calls.items():
                if times[key][0] <= budget_s:
                    times[key] += time_function(fn, device, repeats=1, warmup=0)
        for p, f in flows.items():
            x = inputs[p]
            rows[p].update(
                parameters=sum(q.numel() for q in f.parameters()),
                forward_ms=statistics.median(times[p, "forward"]) * 1e3,
                sample_ms=statistics.median(times[p, "sample"]) * 1e3,
                repeats=len(times[p, "sample"]),
                # exactness of the sampling direction: x -> every level's z -> x
                round_trip_max_error=(f.inverse(f(x)[0])[0] - x).abs().max().item(),
            )
    glow = rows.get("glow")
    if glow is not None and "skipped" not in glow:
        for row in rows.values():
            if "skipped" not in row:
                row["forward_vs_glow"] = row["forward_ms"] / glow["forward_ms"]
                row["sample_vs_glow"] = row["sample_ms"] / glow["sample_ms"]
    return list(rows.values())


def bench_sampling(
    configs: Sequence[str] = ("mnist", "cifar10", "imagenet32", "imagenet64"),
    batches: Sequence[int] = (1, 100),
    presets: Sequence[str] = SAMPLING_PRESETS,
    width: int = 512,
    steps: int | None = None,
    device: torch.device | str = "cpu",
    repeats: int = 10,
    budget_s: float = 5.0,
) -> dict[str, object]:
    """Parameters, forward (density) time and sampling time of each preset on the papers' configs,
    with every time also as a ratio to glow's in the same run (presets timed round-robin), and
    the round-trip error of each. Random weights: speed does not depend on training. ``steps``
    overrides K (to fit small machines)."""
    from core_flows.models import PAPER_CONFIGS

    device = torch.device(device)
    for p in presets:
        if p not in SAMPLING_PRESETS:
            raise ValueError(f"unknown preset {p!r}; choose from {SAMPLING_PRESETS}")
    for c in configs:
        if c not in PAPER_CONFIGS:
            raise ValueError(f"unknown config {c!r}; choose from {list(PAPER_CONFIGS)}")
    rows: list[dict[str, object]] = []
    for config in configs:
        for batch in batches:
            rows += _sampling_rows(config, batch, presets, width, steps, device, repeats, budget_s)
    return {
        "config": {
            "configs": list(configs),
            "batches": list(batches),
            "width": width,
            "steps": steps,
            "repeats": repeats,
        },
        "environment": environment(device),
        "rows": rows,
    }


def bench_train(
    config: str = "cifar10",
    batch: int = 16,
    presets: Sequence[str] = ("glow", "finc", "inverse_flow"),
    width: int = 512,
    steps: int | None = None,
    device: torch.device | str = "cpu",
    repeats: int = 10,
) -> dict[str, object]:
    """Time of one optimiser step (forward, backward, Adam) per preset, with ratios to finc."""
    device = torch.device(device)
    rows = []
    for preset in presets:
        torch.manual_seed(0)
        flow = _build(preset, config, width, steps, device).train()
        x = torch.rand(batch, *flow.image_shape, device=device)
        flow.initialize(x)
        opt = torch.optim.Adam(flow.parameters(), lr=1e-4)

        def step(flow=flow, opt=opt, x=x):
            opt.zero_grad(set_to_none=True)
            flow.bits_per_dim(x).mean().backward()
            opt.step()

        times = time_function(step, device, repeats, warmup=2)
        rows.append(
            {
                "preset": preset,
                "parameters": sum(p.numel() for p in flow.parameters()),
                "step_ms": statistics.median(times) * 1e3,
            }
        )
    ref = next((r["step_ms"] for r in rows if r["preset"] == "finc"), None)
    for r in rows:
        r["vs_finc"] = r["step_ms"] / ref if ref else None
    return {
        "config": {
            "config": config,
            "batch": batch,
            "width": width,
            "steps": steps,
            "repeats": repeats,
        },
        "environment": environment(device),
        "rows": rows,
    }


def format_sampling_table(result: dict[str, object]) -> str:
    env = result["environment"]
    cfg = result["config"]
    lines = [
        f"sampling on {env.get('gpu') or env['device']} (torch {env['torch']}), width "
        f"{cfg['width']}, K {'per paper' if cfg['steps'] is None else cfg['steps']}",
        f"{'config':<11}{'batch':>6}  {'preset':<15}{'params':>12}{'forward ms':>12}"
        f"{'× glow':>8}{'sample ms':>12}{'× glow':>8}{'round trip':>12}",
    ]
    for r in result["rows"]:
        head = f"{r['config']:<11}{r['batch']:>6}  {r['preset']:<15}"
        if "skipped" in r:
            lines.append(f"{head}skipped: {r['skipped']}")
            continue
        fv = f"{r['forward_vs_glow']:.2f}" if "forward_vs_glow" in r else "-"
        sv = f"{r['sample_vs_glow']:.2f}" if "sample_vs_glow" in r else "-"
        lines.append(
            f"{head}{r['parameters']:>12,}{r['forward_ms']:>12.2f}{fv:>8}"
            f"{r['sample_ms']:>12.2f}{sv:>8}{r['round_trip_max_error']:>12.1e}"
        )
    return "\n".join(lines)


def format_train_table(result: dict[str, object]) -> str:
    env = result["environment"]
    cfg = result["config"]
    lines = [
        f"training step on {env.get('gpu') or env['device']}: {cfg['config']}, batch "
        f"{cfg['batch']}, width {cfg['width']}",
        f"{'preset':<15}{'params':>12}{'step ms':>12}{'× finc':>9}",
    ]
    for r in result["rows"]:
        vs = f"{r['vs_finc']:.2f}" if r["vs_finc"] else "-"
        lines.append(f"{r['preset']:<15}{r['parameters']:>12,}{r['step_ms']:>12.2f}{vs:>9}")
    return "\n".join(lines)


def plot_sampling(result: dict[str, object], path) -> None:
    """Sampling time against image size, one panel per batch size, one line per preset."""
    from app_toolkit.files import atomic_write
    from app_toolkit.plots import pyplot
    from core_flows.models import PAPER_CONFIGS

    plt = pyplot()
    rows = [r for r in result["rows"] if "sample_ms" in r]
    batches = sorted({r["batch"] for r in rows})
    fig, axes = plt.subplots(1, len(batches), figsize=(5 * len(batches), 3.8), squeeze=False)
    for ax, batch in zip(axes[0], batches):
        for preset in dict.fromkeys(r["preset"] for r in rows):
            pts = sorted(
                (PAPER_CONFIGS[r["config"]]["image_shape"][1], r["sample_ms"] / 1e3, r["config"])
                for r in rows
                if r["batch"] == batch and r["preset"] == preset
            )
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=preset)
        ax.set_yscale("log")
        ax.set_xlabel("image side (pixels)")
        ax.set_ylabel("sampling time (s)")
        ax.set_title(f"batch {batch}")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].legend(fontsize=8)
    env = result["environment"]
    fig.suptitle(f"sampling time on {env.get('gpu') or env['device']}", fontsize=10)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=100))
    plt.close(fig)
