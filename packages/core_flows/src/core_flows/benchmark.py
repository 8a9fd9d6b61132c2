"""Timing helpers and the convolution benchmark behind ``core-flows bench conv``.

Times are medians of repeated runs after warm-up; on CUDA they come from CUDA events. Ratios are
taken within one run against the forward convolution, since absolute times on shared machines drift.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import torch

from core_flows.functional import causal_conv2d, causal_conv2d_inverse, corner_index
from core_flows.ops.causal_inverse import SOLVERS
from core_flows.utils import environment

__all__ = ["bench_conv", "format_table", "time_function"]

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
    backends = list(backends or SOLVERS)
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
