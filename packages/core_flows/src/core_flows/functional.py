"""Stateless functions on tensors: causal k×k convolutions, their exact inverses and log-determinants.

Notation: PyTorch cross-correlation, ``weight`` of shape ``[C, C, k, k]``, images ``[B, C, H, W]``.
A causal convolution pads ``k - 1`` rows and columns on one side only, so each output pixel depends
on the input pixel at the same place and on pixels before it in the order's raster direction. The
``order`` names the corner the receptive field points to: ``"TL"`` (top-left, pads top and left),
``"TR"``, ``"BL"``, ``"BR"``. The weight tap that multiplies the current pixel is the *corner tap*
``weight[:, :, ci, cj]`` with ``(ci, cj) = corner_index(order, k)``; the convolution is invertible
if and only if that ``C × C`` matrix is, and ``log|det| = H·W·log|det(corner tap)|``.

References:
    Nagar, Dufraisse & Varma, "CInC Flow: Characterizable Invertible 3×3 Convolution",
    TPM workshop at UAI 2021, arXiv:2107.01358.
    Kallappa, Nagar & Varma, "FInC Flow: Fast and Invertible k×k Convolutions for Normalizing
    Flows", VISAPP 2023, arXiv:2301.09266.
    Nagar & Varma, "Parallel Backpropagation for Inverse of a Convolution with Application to
    Normalizing Flows" (Inverse-Flow), AISTATS 2025, arXiv:2410.14634.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from core_flows.ops import causal_inverse

__all__ = [
    "ORDERS",
    "inverse_backends",
    "corner_index",
    "corner_tap",
    "causal_conv2d",
    "causal_conv2d_inverse",
    "causal_conv2d_inverse_matrix",
    "causal_conv2d_logdet",
    "causal_conv2d_matrix",
    "quad_causal_conv2d_inverse",
    "raster_mask",
    "masked_conv2d",
    "masked_conv2d_inverse",
]

ORDERS = ("TL", "TR", "BL", "BR")

# Padding (left, right, top, bottom) in units of k - 1, and the image dims to flip so that an order
# becomes TL: the solvers only know TL and every other corner is TL seen in a mirror.
_PAD = {"TL": (1, 0, 1, 0), "TR": (0, 1, 1, 0), "BL": (1, 0, 0, 1), "BR": (0, 1, 0, 1)}
_FLIP = {"TL": (), "TR": (-1,), "BL": (-2,), "BR": (-2, -1)}


def inverse_backends() -> tuple[str, ...]:
    """Names accepted by :func:`causal_conv2d_inverse`'s ``backend`` argument."""
    return ("auto", *causal_inverse.SOLVERS)


def _check_order(order: str) -> None:
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")


def _check_weight(weight: Tensor, x: Tensor | None = None, name: str = "x") -> None:
    if weight.ndim != 4 or weight.shape[0] != weight.shape[1] or weight.shape[2] != weight.shape[3]:
        raise ValueError(f"weight must have shape [C, C, k, k], got {list(weight.shape)}")
    if x is not None:
        if x.ndim != 4:
            raise ValueError(f"{name} must have shape [B, C, H, W], got {list(x.shape)}")
        if x.shape[1] != weight.shape[0]:
            raise ValueError(
                f"{name} has {x.shape[1]} channels but weight has {weight.shape[0]} channels"
            )


def corner_index(order: str, kernel_size: int) -> tuple[int, int]:
    """Position ``(row, col)`` in the kernel of the tap that multiplies the current pixel."""
    _check_order(order)
    last = kernel_size - 1
    return (last if order[0] == "T" else 0, last if order[1] == "L" else 0)


def corner_tap(weight: Tensor, order: str = "TL") -> Tensor:
    """The ``[C, C]`` corner tap of ``weight`` (``[C, C, k, k]``) for ``order``."""
    _check_weight(weight)
    i, j = corner_index(order, weight.shape[-1])
    return weight[:, :, i, j]


def causal_conv2d(x: Tensor, weight: Tensor, order: str = "TL") -> Tensor:
    """Causal convolution ``y = conv2d(pad_order(x), weight)``.

    Args:
        x: input ``[B, C, H, W]``.
        weight: kernel ``[C, C, k, k]``.
        order: corner the receptive field points to, one of ``TL``, ``TR``, ``BL``, ``BR``.

    Returns:
        ``[B, C, H, W]``, same size as ``x``.
    """
    _check_order(order)
    _check_weight(weight, x)
    p = weight.shape[-1] - 1
    return F.conv2d(F.pad(x, tuple(p * s for s in _PAD[order])), weight)


def causal_conv2d_inverse(
    y: Tensor, weight: Tensor, order: str = "TL", backend: str = "auto"
) -> Tensor:
    """Exact inverse of :func:`causal_conv2d`: the ``x`` with ``causal_conv2d(x, weight, order) == y``.

    Differentiable in ``y`` and ``weight`` through its own backward (one transposed solve and one
    convolution weight-gradient), never through the solver's loop.

    Args:
        y: output of the convolution ``[B, C, H, W]``.
        weight: kernel ``[C, C, k, k]``; its corner tap must be non-singular.
        order: ``TL``, ``TR``, ``BL`` or ``BR``.
        backend: ``"wavefront"`` (anti-diagonals in parallel, ``H + W - 1`` steps),
            ``"sequential"`` (pixel by pixel in raster order, the CInC schedule, ``H·W`` steps),
            ``"dense"`` (solves the full ``CHW × CHW`` system; small sizes only), or ``"auto"``
            (the fastest available for the tensor's device).

    Returns:
        ``x`` of shape ``[B, C, H, W]``.

    Raises:
        ValueError: on bad shapes, an unknown order or backend, or a singular corner tap.
    """
    _check_order(order)
    _check_weight(weight, y, name="y")
    if weight.dtype != y.dtype:
        raise ValueError(f"weight dtype {weight.dtype} differs from y dtype {y.dtype}")
    backend = causal_inverse.resolve_backend(backend, y)
    dims = _FLIP[order]
    if dims:
        y, weight = y.flip(dims), weight.flip(dims)
    x = causal_inverse.CausalConvInverse.apply(y, weight, backend)
    return x.flip(dims) if dims else x


def quad_causal_conv2d_inverse(
    y: Tensor, weights: list[Tensor], orders: list[str], backend: str = "auto"
) -> Tensor:
    """Inverse of a channel-grouped causal convolution (the FInC unit): group ``j`` holds
    ``weights[j].shape[0]`` consecutive channels of ``y`` and is inverted with ``orders[j]``.

    The ``triton`` backend solves every group in a single launch (and its backward in one more);
    other backends invert the groups one after another.
    """
    if len(weights) != len(orders) or not weights:
        raise ValueError("give one order per weight")
    for order in orders:
        _check_order(order)
    sizes = [w.shape[0] for w in weights]
    if y.ndim != 4 or y.shape[1] != sum(sizes):
        raise ValueError(f"y must have shape [B, {sum(sizes)}, H, W], got {list(y.shape)}")
    backend = causal_inverse.resolve_backend(backend, y)
    if backend == "triton":
        causal_inverse.check_triton(y, backend)
        flips = [(o[0] == "B", o[1] == "R") for o in orders]
        return causal_inverse.QuadConvInverse.apply(y, flips, *weights)
    parts = y.split(sizes, dim=1)
    if backend in ("wavefront", "sequential") and len(set(sizes)) == 1:
        # equal groups: seen in their TL orientation, all are solved together, one product a step
        dims = [_FLIP[o] for o in orders]
        ys = torch.stack([p.flip(d) if d else p for p, d in zip(parts, dims)])
        ws = torch.stack([w.flip(d) if d else w for w, d in zip(weights, dims)])
        xs = causal_inverse.CausalConvInverse.apply(ys, ws, backend)
        return torch.cat([x.flip(d) if d else x for x, d in zip(xs, dims)], dim=1)
    return torch.cat(
        [causal_conv2d_inverse(p, w, o, backend) for p, w, o in zip(parts, weights, orders)], dim=1
    )


def causal_conv2d_logdet(weight: Tensor, height: int, width: int, order: str = "TL") -> Tensor:
    """``log|det|`` of the causal convolution on an ``height × width`` image (a scalar tensor)."""
    return torch.linalg.slogdet(corner_tap(weight, order))[1] * (height * width)


def causal_conv2d_matrix(weight: Tensor, height: int, width: int, order: str = "TL") -> Tensor:
    """The dense ``[CHW, CHW]`` matrix ``M`` with ``causal_conv2d(x).flatten() == M @ x.flatten()``.

    Meant for tests and small references: memory grows as ``(C·H·W)²``.
    """
    _check_weight(weight)
    c = weight.shape[0]
    n = c * height * width
    basis = torch.eye(n, dtype=weight.dtype, device=weight.device).view(n, c, height, width)
    return causal_conv2d(basis, weight, order).reshape(n, n).T


def causal_conv2d_inverse_matrix(
    weight: Tensor, height: int, width: int, order: str = "TL"
) -> Tensor:
    """The dense ``[CHW, CHW]`` inverse ``M⁻¹`` of :func:`causal_conv2d` on ``height × width``
    images: ``causal_conv2d_inverse(y).flatten(1) == y.flatten(1) @ M⁻¹.T``.

    Solved in float64 with the wavefront schedule on the ``CHW`` unit images and returned in
    ``weight``'s dtype, detached. Memory grows as ``(C·H·W)²``; it pays off when one weight inverts
    many batches (sampling from a trained flow: one matrix product per call instead of
    ``H + W − 1`` dependent steps).
    """
    _check_order(order)
    _check_weight(weight)
    c = weight.shape[0]
    n = c * height * width
    basis = torch.eye(n, dtype=torch.float64, device=weight.device).view(n, c, height, width)
    with torch.no_grad():
        columns = causal_conv2d_inverse(basis, weight.detach().double(), order, "wavefront")
    return columns.reshape(n, n).T.to(weight.dtype)


def raster_mask(channels: int, kernel_size: int) -> Tensor:
    """Mask ``[C, C, k, k]`` of an autoregressive ("same"-padded) conv in raster order: rows above
    the centre, the centre row left of it, and a lower-triangular centre tap (Emerging, PixelCNN)."""
    if kernel_size % 2 == 0:
        raise ValueError(f"a raster-masked convolution needs an odd kernel_size, got {kernel_size}")
    c = kernel_size // 2
    mask = torch.zeros(channels, channels, kernel_size, kernel_size)
    mask[:, :, :c, :] = 1
    mask[:, :, c, :c] = 1
    mask[:, :, c, c] = torch.tril(torch.ones(channels, channels))
    return mask


def masked_conv2d(x: Tensor, weight: Tensor) -> Tensor:
    """ "Same"-padded convolution with a raster-masked ``weight`` (see :func:`raster_mask`)."""
    _check_weight(weight, x)
    return F.conv2d(x, weight, padding=weight.shape[-1] // 2)


def masked_conv2d_inverse(y: Tensor, weight: Tensor) -> Tensor:
    """Exact inverse of :func:`masked_conv2d`, pixel by pixel in raster order (``H·W`` steps), as
    the Emerging-convolutions paper solves it. Not differentiable (a sampling-time operation)."""
    _check_weight(weight, y, name="y")
    c = weight.shape[-1] // 2
    with torch.no_grad():
        return causal_inverse.schedule_solve(y, weight, "sequential", tap=(c, c))
