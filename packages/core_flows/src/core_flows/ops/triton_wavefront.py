"""Triton kernels for the exact inverse of causal convolutions (GPU; CPU through ``TRITON_INTERPRET=1``).

Two schedules:

* :func:`quad_solve` — the fast one. One launch solves up to four channel groups (the quadrants of a
  FInC unit, each with its own corner) for the whole batch: one persistent program per (image,
  group) walks the ``H + W - 1`` anti-diagonals, with every pixel of a diagonal and every channel of
  the group in parallel (the corner tap's inverse is folded into the kernel) and a block barrier
  between diagonals. No host synchronisation, no launch per step.
* :func:`published_solve` — the schedule of the published FInC kernel, kept as a baseline: one launch
  per (anti-diagonal, channel), channels solved one after another through the lower-triangular corner
  tap, and a device synchronisation after every launch.

Layout of the three layers (kernels, host launchers, autograd in :mod:`core_flows.ops.causal_inverse`
and :mod:`core_flows.functional`). Nothing here is compiled at import: Triton JIT-compiles on first
call.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import torch
import triton
import triton.language as tl
from torch import Tensor

from core_flows.errors import NotInvertibleError
from core_flows.ops.causal_inverse import corner_inverse

__all__ = ["published_solve", "quad_solve"]


@triton.jit
def _quad_wavefront_kernel(
    y_ptr,
    x_ptr,
    kt_ptr,
    li_ptr,
    cstart_ptr,
    flips_ptr,
    C,
    H,
    W,
    G,
    CM: tl.constexpr,
    K: tl.constexpr,
    REV_C: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_C: tl.constexpr,
):
    # One program solves group g of image b. Coordinates (h, w, channel) are canonical: the group's
    # convolution is TL there; flips and channel reversal map them to memory.
    pid = tl.program_id(0)
    b = pid // G
    g = pid % G
    c0 = tl.load(cstart_ptr + g)
    cg = tl.load(cstart_ptr + g + 1) - c0
    flip_h = tl.load(flips_ptr + 2 * g)
    flip_w = tl.load(flips_ptr + 2 * g + 1)
    hw = H * W
    img = b.to(tl.int64) * C * hw
    offs_o = tl.arange(0, BLOCK_C)
    mask_o = offs_o < cg
    if REV_C:
        out_c = c0 + cg - 1 - offs_o
    else:
        out_c = c0 + offs_o
    p = tl.arange(0, BLOCK_P)
    for d in range(0, H + W - 1):
        h = tl.maximum(d - W + 1, 0) + p
        w = d - h
        valid = h <= tl.minimum(d, H - 1)
        hm = tl.where(flip_h != 0, H - 1 - h, h)
        wm = tl.where(flip_w != 0, W - 1 - w, w)
        acc = tl.zeros((BLOCK_P, BLOCK_C), dtype=tl.float32)
        for i in range(0, cg):
            if REV_C:
                ci = c0 + cg - 1 - i
            else:
                ci = c0 + i
            plane = img + ci * hw
            yv = tl.load(y_ptr + plane + hm * W + wm, mask=valid, other=0.0)
            li = tl.load(li_ptr + (g * CM + offs_o) * CM + i, mask=mask_o, other=0.0)
            acc += yv[:, None] * li[None, :]
            for a in tl.static_range(K):
                for bb in tl.static_range(K):
                    if a + bb > 0:  # the current pixel's own tap is folded into L⁻¹ above
                        hh = h - a
                        ww = w - bb
                        m = valid & (hh >= 0) & (ww >= 0)
                        hhm = tl.where(flip_h != 0, H - 1 - hh, hh)
                        wwm = tl.where(flip_w != 0, W - 1 - ww, ww)
                        xv = tl.load(x_ptr + plane + hhm * W + wwm, mask=m, other=0.0)
                        tap = (K - 1 - a) * K + (K - 1 - bb)
                        kt = tl.load(
                            kt_ptr + ((g * CM + offs_o) * CM + i) * K * K + tap,
                            mask=mask_o,
                            other=0.0,
                        )
                        acc -= xv[:, None] * kt[None, :]
        ptrs = x_ptr + img + out_c[None, :] * hw + (hm * W + wm)[:, None]
        tl.store(ptrs, acc, mask=valid[:, None] & mask_o[None, :])
        # the next diagonal reads what other threads of this program just wrote
        tl.debug_barrier()


@lru_cache(maxsize=64)
def _group_meta(sizes: tuple[int, ...], flips: tuple, device: str) -> tuple[Tensor, Tensor]:
    """First channel of each group and its flips, on ``device``, made once per layout."""
    starts = [0]
    for n in sizes:
        starts.append(starts[-1] + n)
    cstart = torch.tensor(starts, dtype=torch.int32, device=device)
    flip_t = torch.tensor([[int(fh), int(fw)] for fh, fw in flips], dtype=torch.int32, device=device)
    return cstart, flip_t


def _canonical(weight: Tensor, flip_h: bool, flip_w: bool) -> Tensor:
    dims = [d for d, f in ((-2, flip_h), (-1, flip_w)) if f]
    return weight.flip(dims) if dims else weight


def quad_solve(
    y: Tensor,
    weights: Sequence[Tensor],
    flips: Sequence[tuple[bool, bool]],
    reverse_channels: bool = False,
    out: Tensor | None = None,
    check: bool = True,
) -> Tensor:
    """Solve every channel group of ``y`` ``[B, C, H, W]`` in one launch.

    Group ``j`` holds ``weights[j].shape[0]`` consecutive channels; its convolution is the TL causal
    convolution with ``weights[j]`` seen through the image flips ``flips[j] = (flip_h, flip_w)``
    (``(False, False)`` TL, ``(False, True)`` TR, ``(True, False)`` BL, ``(True, True)`` BR), i.e.
    ``weights[j]`` is given in the memory orientation of that corner. With ``reverse_channels`` the
    group's channel order is reversed as well (used by the transposed solve). The result is float32
    unless ``out`` is given; ``out`` (float32, same shape) lets tests pre-fill it with NaN.
    ``check=False`` skips the invertibility check (and its one host synchronisation) where the
    caller knows the weights are invertible (the backward of a checked forward).
    """
    if y.ndim != 4:
        raise ValueError(f"y must have shape [B, C, H, W], got {list(y.shape)}")
    if not 1 <= len(weights) == len(flips):
        raise ValueError("give one (flip_h, flip_w) per weight")
    b, c, h, w = y.shape
    sizes = [int(wt.shape[0]) for wt in weights]
    if sum(sizes) != c:
        raise ValueError(f"group sizes {sizes} do not add up to the {c} channels of y")
    k = int(weights[0].shape[-1])
    if any(wt.shape[-1] != k for wt in weights):
        raise ValueError("all groups must have the same kernel size")
    cm = max(sizes)
    device = y.device
    # All groups at once, padded to cm channels (identity on the padding): one batched inverse,
    # one product, and at most one host synchronisation for the invertibility check.
    canon = torch.zeros(len(weights), cm, cm, k, k, dtype=torch.float64, device=device)
    eye = torch.eye(cm, dtype=torch.float64, device=device)
    canon[:, :, :, k - 1, k - 1] = eye
    for j, (wt, (fh, fw)) in enumerate(zip(weights, flips)):
        g = _canonical(wt.detach().to(torch.float64), fh, fw)
        n = sizes[j]
        canon[j, :n, :n] = g.flip(0, 1) if reverse_channels else g
    corners = canon[:, :, :, k - 1, k - 1]
    li, info = torch.linalg.inv_ex(corners)
    if check and bool(((info != 0) | ~torch.isfinite(li).flatten(1).all(1)).any()):
        for j in range(len(weights)):
            corner_inverse(canon[j, : sizes[j], : sizes[j]])  # names the channels at fault
        raise NotInvertibleError("the convolution is not invertible: singular corner tap")
    kt = torch.einsum("goc,gcikl->goikl", li, canon)
    cstart, flip_t = _group_meta(tuple(sizes), tuple(map(tuple, flips)), str(device))
    x = out if out is not None else torch.empty(b, c, h, w, dtype=torch.float32, device=device)
    _quad_wavefront_kernel[(b * len(weights),)](
        y.detach().to(torch.float32).contiguous(),
        x,
        kt.to(torch.float32).contiguous(),
        li.to(torch.float32).contiguous(),
        cstart,
        flip_t,
        c,
        h,
        w,
        len(weights),
        CM=cm,
        K=k,
        REV_C=reverse_channels,
        BLOCK_P=triton.next_power_of_2(min(h, w)),
        BLOCK_C=max(triton.next_power_of_2(cm), 2),
    )
    return x


@triton.jit
def _diagonal_channel_kernel(
    y_ptr,
    x_ptr,
    k_ptr,
    C,
    H,
    W,
    d,
    c,
    K: tl.constexpr,
    BLOCK_P: tl.constexpr,
):
    # x[b, c, pixels of diagonal d] for one image b, given every earlier diagonal and channels < c.
    b = tl.program_id(0)
    hw = H * W
    img = b.to(tl.int64) * C * hw
    p = tl.arange(0, BLOCK_P)
    h = tl.maximum(d - W + 1, 0) + p
    w = d - h
    valid = h <= tl.minimum(d, H - 1)
    acc = tl.load(y_ptr + img + c * hw + h * W + w, mask=valid, other=0.0)
    for i in range(0, C):
        for a in tl.static_range(K):
            for bb in tl.static_range(K):
                hh = h - a
                ww = w - bb
                m = valid & (hh >= 0) & (ww >= 0)
                if a + bb == 0:
                    m = m & (i < c)  # the corner tap: only channels already solved
                xv = tl.load(x_ptr + img + i * hw + hh * W + ww, mask=m, other=0.0)
                kv = tl.load(k_ptr + (c * C + i) * K * K + (K - 1 - a) * K + (K - 1 - bb))
                acc -= kv * xv
    diag = tl.load(k_ptr + (c * C + c) * K * K + K * K - 1)
    tl.store(x_ptr + img + c * hw + h * W + w, acc / diag, mask=valid)


def published_solve(y: Tensor, weight: Tensor) -> Tensor:
    """TL solve on the published FInC schedule: ``(H + W - 1)·C`` launches, synchronised after each.

    Needs a lower-triangular corner tap (the FInC/CInC parametrisation). A baseline for timing.
    """
    b, c, h, w = y.shape
    k = weight.shape[-1]
    corner = weight[:, :, -1, -1]
    if not torch.equal(corner, torch.tril(corner)):
        raise ValueError("the published schedule needs a lower-triangular corner tap")
    corner_inverse(weight)  # same error as the other solvers for a zero diagonal
    yf = y.detach().to(torch.float32).contiguous()
    kf = weight.detach().to(torch.float32).contiguous()
    x = torch.zeros_like(yf)
    block = triton.next_power_of_2(min(h, w))
    for d in range(h + w - 1):
        for ch in range(c):
            _diagonal_channel_kernel[(b,)](yf, x, kf, c, h, w, d, ch, K=k, BLOCK_P=block)
            if x.is_cuda:
                torch.cuda.synchronize(x.device)
    return x.to(y.dtype)
