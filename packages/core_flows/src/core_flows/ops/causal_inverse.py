"""Solvers for the inverse of a top-left causal convolution, and the autograd function around them.

Every solver takes ``y [B, C, H, W]`` and ``weight [C, C, k, k]`` of a TL convolution and returns
``x`` with ``conv2d(pad_TL(x), weight) == y``. Other corners are reduced to TL by flips in
:mod:`core_flows.functional`. Pixel ``(h, w)`` obeys

    x[:, :, h, w] = L⁻¹ (y[:, :, h, w] − Σ_{(a, b) ≠ (0, 0)} K[:, :, k-1-a, k-1-b] x[:, :, h-a, w-b])

with ``L = K[:, :, k-1, k-1]`` the corner tap. Pixels on one anti-diagonal ``h + w = d`` do not
depend on each other, so the wavefront solver needs ``H + W - 1`` steps, each one matrix product
over batch × pixels of the diagonal, with every channel solved at once through the precomputed
``L⁻¹`` (float64, folded into the kernel).

The Triton backends (``triton``, ``published``) live in :mod:`core_flows.ops.triton_wavefront`, which
is imported only when one of them runs; ``"auto"`` picks ``triton`` for CUDA tensors.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from core_flows.constants import SOLVER_NAMES
from core_flows.errors import NotInvertibleError

__all__ = [
    "SOLVERS",
    "CausalConvInverse",
    "QuadConvInverse",
    "corner_inverse",
    "dense_solve",
    "resolve_backend",
    "schedule_solve",
    "sequential_solve",
    "transposed_solve",
    "wavefront_solve",
]

Solver = Callable[[Tensor, Tensor], Tensor]


def corner_inverse(weight: Tensor, tap: tuple[int, int] | None = None) -> Tensor:
    """``L⁻¹`` in float64 of the tap ``weight[:, :, i, j]`` that multiplies the current pixel
    (the TL corner unless ``tap`` says otherwise); raises :class:`NotInvertibleError` if singular."""
    i, j = tap if tap is not None else (weight.shape[-2] - 1, weight.shape[-1] - 1)
    corner = weight[:, :, i, j].detach().to(torch.float64)
    diag = torch.diagonal(corner)
    if torch.equal(corner, torch.tril(corner)) and bool((diag == 0).any()):
        bad = torch.nonzero(diag == 0).flatten().tolist()
        raise NotInvertibleError(
            f"the convolution is not invertible: its corner tap has zero diagonal entries at "
            f"channels {bad}"
        )
    inv, info = torch.linalg.inv_ex(corner)
    if int(info) != 0 or not bool(torch.isfinite(inv).all()):
        raise NotInvertibleError(
            "the convolution is not invertible: its corner tap is a singular matrix"
        )
    return inv


@lru_cache(maxsize=64)
def _schedule(height: int, width: int, k: int, tap: tuple[int, int], kind: str, device):
    """Index tensors per step (flat positions of the step's pixels and of their k×k patches),
    and every pixel in schedule order.

    Positions index a padded, channels-last buffer ``[B, (H+k-1)·(W+k-1), C]`` in which the
    current pixel ``(h, w)`` sits at ``(h + tap[0], w + tap[1])``.
    """
    wp = width + k - 1
    taps = torch.arange(k)
    if kind == "wavefront":
        groups = []
        for d in range(height + width - 1):
            hs = torch.arange(max(0, d - width + 1), min(d, height - 1) + 1)
            groups.append((hs, d - hs))
    else:  # sequential: one pixel at a time, raster order
        groups = [
            (torch.tensor([h]), torch.tensor([w])) for h in range(height) for w in range(width)
        ]
    steps = []
    for hs, ws in groups:
        # patch of pixel (h, w) in padded coordinates: rows h..h+k-1, columns w..w+k-1
        rows = hs[:, None, None] + taps[None, :, None]
        cols = ws[:, None, None] + taps[None, None, :]
        patch = (rows * wp + cols).flatten().to(device)
        out = ((hs + tap[0]) * wp + (ws + tap[1])).to(device)
        pix = (hs * width + ws).to(device)
        steps.append((patch, out, pix))
    return steps, torch.cat([pix for _, _, pix in steps])


def schedule_solve(
    y: Tensor, weight: Tensor, kind: str, tap: tuple[int, int] | None = None
) -> Tensor:
    """Solve ``conv2d(pad(x), weight) == y`` over a schedule of independent pixel groups.

    ``tap`` is the kernel position that multiplies the current pixel; the padding puts the image at
    that offset (``(k-1, k-1)``, the TL causal convolution, by default). Every other non-zero tap
    must point at pixels earlier in the schedule: ``wavefront`` (anti-diagonals) is valid for TL
    causal kernels, ``sequential`` (raster order) also for raster-masked kernels (Emerging).

    ``y`` ``[B, C, H, W]`` with ``weight`` ``[C, C, k, k]``, or ``G`` independent systems at once:
    ``y`` ``[G, B, C, H, W]`` with ``weight`` ``[G, C, C, k, k]`` (one batched product per step).
    """
    if y.ndim == 4:
        return schedule_solve(y[None], weight[None], kind, tap)[0]
    g, b, c, h, w = y.shape
    k = weight.shape[-1]
    tap = tap if tap is not None else (k - 1, k - 1)
    work = torch.float32 if y.dtype in (torch.float16, torch.bfloat16) else y.dtype
    linv = torch.stack([corner_inverse(wg, tap) for wg in weight])
    # x = L⁻¹y − (L⁻¹K) * x: fold L⁻¹ into the kernel (in float64) so one product per step remains.
    kt = torch.einsum("goc,gcikl->goikl", linv, weight.detach().to(torch.float64))
    # rows (i, j, c_in), columns c_out
    kmat = kt.permute(0, 3, 4, 2, 1).reshape(g, k * k * c, c).to(work)
    steps, order = _schedule(h, w, k, tap, kind, y.device)
    # L⁻¹y with its pixels in schedule order, so each step's right-hand side is a slice: one
    # gather here instead of one a step
    yt = torch.einsum("goc,gbchw->gbhwo", linv.to(work), y.detach().to(work))
    rhs_all = yt.reshape(g, b, h * w, c).index_select(2, order)
    # The current pixel's tap multiplies x at that pixel, still zero in the buffer, and so do taps
    # on pixels later in the schedule: no mask needed.
    p = k - 1
    xp = y.new_zeros(g, b, (h + p) * (w + p), c, dtype=work)
    start = 0
    for patch, out, pix in steps:
        n = pix.numel()
        patches = xp.index_select(2, patch).reshape(g, b * n, k * k * c)
        rhs = rhs_all[:, :, start : start + n].reshape(g, b * n, c)
        start += n
        xn = torch.baddbmm(rhs, patches, kmat, alpha=-1)
        xp.index_copy_(2, out, xn.view(g, b, n, c))
    x = xp.view(g, b, h + p, w + p, c)[:, :, tap[0] : tap[0] + h, tap[1] : tap[1] + w, :]
    return x.permute(0, 1, 4, 2, 3).to(y.dtype).contiguous()


def wavefront_solve(y: Tensor, weight: Tensor) -> Tensor:
    """``H + W - 1`` steps, one anti-diagonal each, channels in parallel."""
    return schedule_solve(y, weight, "wavefront")


def sequential_solve(y: Tensor, weight: Tensor) -> Tensor:
    """``H·W`` steps, one pixel each in raster order (the CInC paper's schedule)."""
    return schedule_solve(y, weight, "sequential")


def dense_solve(y: Tensor, weight: Tensor, max_dim: int = 16384) -> Tensor:
    """Build the ``[CHW, CHW]`` matrix and solve with LU; a reference for small sizes."""
    from core_flows.functional import causal_conv2d_matrix  # functional imports this module

    b, c, h, w = y.shape
    if c * h * w > max_dim:
        raise ValueError(
            f"backend 'dense' builds a {c * h * w}×{c * h * w} matrix; use it for C·H·W <= "
            f"{max_dim} or choose backend 'wavefront'"
        )
    corner_inverse(weight)  # same error as the other solvers for a singular corner tap
    matrix = causal_conv2d_matrix(weight.detach(), h, w, "TL")
    return torch.linalg.solve(matrix, y.reshape(b, -1).T).T.reshape(b, c, h, w)


def triton_available() -> bool:
    """Whether the Triton package can be imported (it is only imported when a kernel runs)."""
    return importlib.util.find_spec("triton") is not None


def _interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def check_triton(y: Tensor, backend: str) -> None:
    if not triton_available():
        raise ValueError(f"backend {backend!r} needs triton: pip install 'core-flows[gpu]'")
    if y.dtype == torch.float64:
        raise ValueError(
            f"backend {backend!r} computes in float32; use backend 'wavefront' for float64"
        )
    if not (y.is_cuda or _interpreting()):
        raise ValueError(
            f"backend {backend!r} runs on CUDA tensors (or on CPU with TRITON_INTERPRET=1); "
            f"got a {y.device.type} tensor, use backend 'wavefront'"
        )


def triton_solve(y: Tensor, weight: Tensor) -> Tensor:
    """Persistent Triton kernel: anti-diagonals in one launch (see ``ops.triton_wavefront``)."""
    check_triton(y, "triton")
    from core_flows.ops import triton_wavefront

    return triton_wavefront.quad_solve(y, [weight], [(False, False)]).to(y.dtype)


def published_solve(y: Tensor, weight: Tensor) -> Tensor:
    """The published FInC schedule: a launch per (anti-diagonal, channel), synchronised (baseline)."""
    check_triton(y, "published")
    from core_flows.ops import triton_wavefront

    return triton_wavefront.published_solve(y, weight)


# the names live in core_flows.constants so that the command line lists them without torch
SOLVERS: dict[str, Solver] = dict(
    zip(
        SOLVER_NAMES,
        (wavefront_solve, sequential_solve, dense_solve, triton_solve, published_solve),
        strict=True,
    )
)


def resolve_backend(backend: str, x: Tensor) -> str:
    """Map ``"auto"`` to a concrete backend for ``x``'s device and check the name: the Triton
    kernel for float32/16 CUDA tensors when Triton is installed, the wavefront solver otherwise."""
    if backend == "auto":
        gpu = x.is_cuda and x.dtype != torch.float64 and triton_available()
        return "triton" if gpu else "wavefront"  # float64 keeps the exact-precision CPU path
    if backend not in SOLVERS:
        raise ValueError(f"backend must be one of {('auto', *SOLVERS)}, got {backend!r}")
    return backend


def transposed_solve(g: Tensor, weight: Tensor, backend: str) -> Tensor:
    """``T⁻ᵀ g`` for the TL convolution ``T``: reversing channels, rows and columns turns ``Tᵀ``
    into another TL convolution, with ``Ks[i, o] = K[C-1-o, C-1-i]`` (no spatial flip)."""
    ks = weight.flip(-4, -3).transpose(-4, -3)
    return SOLVERS[backend](g.flip(-3, -2, -1), ks).flip(-3, -2, -1)


class CausalConvInverse(torch.autograd.Function):
    """``x = T⁻¹ y`` for a TL causal convolution ``T`` with its analytic backward:
    ``dL/dy = T⁻ᵀ dL/dx`` and ``dL/dK = −conv2d_weight(pad_TL(x), dL/dy)``. With a leading group
    dimension (``[G, B, C, H, W]``, ``[G, C, C, k, k]``; wavefront and sequential backends) it
    solves G independent systems together."""

    @staticmethod
    def forward(ctx, y: Tensor, weight: Tensor, backend: str) -> Tensor:
        x = SOLVERS[backend](y, weight)
        ctx.save_for_backward(x, weight)
        ctx.backend = backend
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_x: Tensor):
        x, weight = ctx.saved_tensors
        grad_y = transposed_solve(grad_x.contiguous(), weight, ctx.backend)
        grad_w = None
        if ctx.needs_input_grad[1]:
            p = weight.shape[-1] - 1
            if weight.ndim == 4:
                grad_w = -torch.nn.grad.conv2d_weight(F.pad(x, (p, 0, p, 0)), weight.shape, grad_y)
            else:  # one system per group
                grad_w = -torch.stack(
                    [
                        torch.nn.grad.conv2d_weight(F.pad(xg, (p, 0, p, 0)), wg.shape, gg)
                        for xg, wg, gg in zip(x, weight, grad_y)
                    ]
                )
        return (grad_y if ctx.needs_input_grad[0] else None), grad_w, None


class QuadConvInverse(torch.autograd.Function):
    """Inverse of a FInC/Inverse-Flow unit's four causal convolutions in one Triton launch, with
    the transposed solve of the backward also in one launch.

    Group ``j`` (``weights[j].shape[0]`` consecutive channels) is convolved with ``weights[j]`` in
    the corner ``flips[j] = (flip_h, flip_w)``.
    """

    @staticmethod
    def forward(ctx, y: Tensor, flips: Sequence[tuple[bool, bool]], *weights: Tensor) -> Tensor:
        from core_flows.ops import triton_wavefront

        x = triton_wavefront.quad_solve(y, weights, flips).to(y.dtype)
        ctx.save_for_backward(x, *weights)
        ctx.flips = flips
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_x: Tensor):
        from core_flows.ops import triton_wavefront

        x, *weights = ctx.saved_tensors
        # T⁻ᵀ per group: the TL solve of the channel-transposed kernel, seen through the opposite
        # corner with the group's channels reversed (see transposed_solve for one group).
        grad_y = triton_wavefront.quad_solve(
            grad_x.contiguous(),
            [w.flip(-2, -1).transpose(0, 1) for w in weights],
            [(not fh, not fw) for fh, fw in ctx.flips],
            reverse_channels=True,
            check=False,  # the forward checked these weights
        ).to(grad_x.dtype)
        grad_ws = []
        sizes = [w.shape[0] for w in weights]
        for w, (fh, fw), xj, gj, need in zip(
            weights, ctx.flips, x.split(sizes, 1), grad_y.split(sizes, 1), ctx.needs_input_grad[2:]
        ):
            if not need:
                grad_ws.append(None)
                continue
            p = w.shape[-1] - 1
            # pad (left, right, top, bottom) on the corner's sides, as causal_conv2d does
            padded = F.pad(xj, (p * (not fw), p * fw, p * (not fh), p * fh))
            grad_ws.append(-torch.nn.grad.conv2d_weight(padded, w.shape, gj))
        return (grad_y if ctx.needs_input_grad[0] else None), None, *grad_ws
