"""Invertible k×k convolutions: CInC, FInC, the FInC unit and their Inverse-Flow counterparts.

References:
    Nagar, Dufraisse & Varma, "CInC Flow: Characterizable Invertible 3×3 Convolution",
    TPM workshop at UAI 2021, arXiv:2107.01358.
    Kallappa, Nagar & Varma, "FInC Flow: Fast and Invertible k×k Convolutions for Normalizing
    Flows", VISAPP 2023, arXiv:2301.09266.
    Nagar & Varma, "Parallel Backpropagation for Inverse of a Convolution with Application to
    Normalizing Flows" (Inverse-Flow), AISTATS 2025, arXiv:2410.14634
    (the FInC layer used in the sampling direction).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from app_toolkit.checkpoint import register_to_config
from core_flows.functional import (
    ORDERS,
    causal_conv2d,
    causal_conv2d_inverse,
    causal_conv2d_inverse_matrix,
    corner_index,
    inverse_backends,
    quad_causal_conv2d_inverse,
)
from core_flows.layers.base import FlowLayer

__all__ = [
    "DENSE_INVERSE_MAX",
    "CInCConv2d",
    "FInCConv2d",
    "FInCUnit",
    "InverseConv2d",
    "InverseFlowUnit",
]


# Largest C·H·W (per convolution) whose inverse is kept as a dense matrix for solves without
# gradient on the CPU: 1024² float32 values are 4 MiB per convolution.
DENSE_INVERSE_MAX = 1024


# batch × height × width up to which a quadrant unit convolves with one fused kernel
FUSED_MAX_PIXELS = 4096


class _WeightCache:
    """Tensors derived from a layer's weights for one image size (dense inverses ``M⁻¹ᵀ`` of its
    convolutions, or their fused kernel), kept until a parameter changes (its version counter or
    storage) so that repeated calls with the same weights, e.g. sampling batch after batch from a
    trained flow, skip rebuilding them."""

    def __init__(self):
        self._key = None
        self._matrices: Tensor | None = None

    @staticmethod
    def applies(backend: str, x: Tensor, sizes: list[int]) -> bool:
        """Whether ``auto`` solves ``x`` through cached dense inverses: CPU, no gradient wanted, and
        every convolution of at most :data:`DENSE_INVERSE_MAX` values per image."""
        return (
            backend == "auto"
            and x.device.type == "cpu"
            and not torch.is_grad_enabled()
            and max(sizes) * x.shape[2] * x.shape[3] <= DENSE_INVERSE_MAX
        )

    def matrices(self, layer: nn.Module, x: Tensor, build) -> Tensor:
        """``[G, n, n]`` transposed inverses (one per convolution, equal sizes) from ``build()``."""
        params = tuple((p.data_ptr(), p._version) for p in layer.parameters())
        key = (x.shape[2], x.shape[3], x.dtype, x.device, params)
        if key != self._key:
            self._matrices = None  # free the old ones before building
            self._matrices = build()
            self._key = key
        return self._matrices


def _dense_solve(y: Tensor, inverse_t: Tensor) -> Tensor:
    """``x`` from ``y [B, G·c, H, W]`` with ``G`` groups of ``c`` channels, each group solved by its
    transposed inverse ``inverse_t[g]`` ``[c·H·W, c·H·W]``."""
    b, _, h, w = y.shape
    g = inverse_t.shape[0]
    x = torch.bmm(y.reshape(b, g, -1).transpose(0, 1), inverse_t)
    return x.transpose(0, 1).reshape(b, -1, h, w)


class _CausalConv(FlowLayer):
    """Parameters of one causal k×k convolution with a lower-triangular corner tap.

    The corner tap is built as ``tril(free, -1) + diag(d)`` with ``d = exp(log_diag)`` (learnable,
    never zero) or ``d = 1`` (volume preserving), so every weight the optimiser reaches is invertible.
    """

    @register_to_config
    def __init__(
        self,
        channels: int,
        kernel_size: int = 3,
        order: str = "TL",
        unit_diagonal: bool = False,
        backend: str = "auto",
    ):
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        if kernel_size < 1:
            raise ValueError(f"kernel_size must be >= 1, got {kernel_size}")
        if backend not in inverse_backends():
            raise ValueError(f"backend must be one of {inverse_backends()}, got {backend!r}")
        ci, cj = corner_index(order, kernel_size)
        self.order, self.backend = order, backend
        # Small off-corner taps keep the inverse (a recursive filter) well inside its stable range.
        std = 0.1 / math.sqrt(channels * kernel_size**2)
        self.weight = nn.Parameter(torch.randn(channels, channels, kernel_size, kernel_size) * std)
        self.log_diag = None if unit_diagonal else nn.Parameter(torch.zeros(channels))
        onehot = torch.zeros(1, 1, kernel_size, kernel_size)
        onehot[..., ci, cj] = 1.0
        self.register_buffer("_corner", onehot, persistent=False)
        self._ci, self._cj = ci, cj
        self._inverse_cache = _WeightCache()

    def kernel(self) -> Tensor:
        """The effective weight ``[C, C, k, k]`` with its structured corner tap."""
        free = self.weight[:, :, self._ci, self._cj]
        diag = torch.ones_like(free[0]) if self.log_diag is None else self.log_diag.exp()
        corner = torch.tril(free, -1) + torch.diag(diag)
        return self.weight * (1 - self._corner) + corner[:, :, None, None] * self._corner

    def _logdet(self, x: Tensor) -> Tensor:
        """``log|det|`` of the convolution on ``x``'s size, per sample ``[B]``."""
        if self.log_diag is None:
            return x.new_zeros(x.shape[0])
        return (self.log_diag.sum() * (x.shape[2] * x.shape[3])).expand(x.shape[0])

    def _conv(self, x: Tensor) -> Tensor:
        return causal_conv2d(x, self.kernel().to(x.dtype), self.order)

    def _solve(self, y: Tensor) -> Tensor:
        if _WeightCache.applies(self.backend, y, [y.shape[1]]):
            h, w = y.shape[2:]
            mats = self._inverse_cache.matrices(
                self,
                y,
                lambda: (
                    causal_conv2d_inverse_matrix(self.kernel(), h, w, self.order)
                    .to(y.dtype)
                    .T[None]
                    .contiguous()
                ),
            )
            return _dense_solve(y, mats)
        return causal_conv2d_inverse(y, self.kernel().to(y.dtype), self.order, self.backend)

    def extra_repr(self) -> str:
        c, _, k, _ = self.weight.shape
        return f"{c}, kernel_size={k}, order={self.order!r}, unit_diagonal={self.log_diag is None}"


class CInCConv2d(_CausalConv):
    """CInC convolution: causal k×k conv with a learnable non-zero diagonal in the corner tap.

    ``forward`` convolves (``[B, C, H, W]`` → same), ``inverse`` solves exactly.
    """

    @register_to_config
    def __init__(
        self, channels: int, kernel_size: int = 3, order: str = "TL", backend: str = "auto"
    ):
        super().__init__(channels, kernel_size, order, unit_diagonal=False, backend=backend)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self._conv(x), self._logdet(x)

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        return self._solve(z), -self._logdet(z)


class FInCConv2d(CInCConv2d):
    """FInC convolution: causal k×k conv whose corner tap is unit lower-triangular (logdet 0)."""

    @register_to_config
    def __init__(
        self, channels: int, kernel_size: int = 3, order: str = "TL", backend: str = "auto"
    ):
        _CausalConv.__init__(
            self, channels, kernel_size, order, unit_diagonal=True, backend=backend
        )


class InverseConv2d(_CausalConv):
    """Inverse-Flow convolution: ``forward`` (density) solves, ``inverse`` (sampling) convolves.

    Sampling costs one plain convolution; training pays for the solve and its transposed backward.
    """

    @register_to_config
    def __init__(
        self,
        channels: int,
        kernel_size: int = 3,
        order: str = "TL",
        unit_diagonal: bool = True,
        backend: str = "auto",
    ):
        super().__init__(channels, kernel_size, order, unit_diagonal=unit_diagonal, backend=backend)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self._solve(x), -self._logdet(x)

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        return self._conv(z), self._logdet(z)


def _quadrant_sizes(channels: int) -> list[int]:
    if channels < 4:
        raise ValueError(f"a four-quadrant unit needs channels >= 4, got {channels}")
    return [channels // 4 + (1 if i < channels % 4 else 0) for i in range(4)]


class _QuadrantUnit(FlowLayer):
    """Channels split in four groups, group j through its own conv with corner ``ORDERS[j]``.

    The direction that solves (``_solve_direction``) inverts all four groups in one call, a single
    kernel launch with the ``triton`` backend.
    """

    _solve_direction = "inverse"

    def _build(self, channels: int, backend: str, make) -> None:
        self.sizes = _quadrant_sizes(channels)
        self.backend = backend
        self.convs = nn.ModuleList(make(c, order) for c, order in zip(self.sizes, ORDERS))
        self._inverse_cache = _WeightCache()
        self._kernel_cache = _WeightCache()

    def _dense_inverses(self, x: Tensor) -> Tensor:
        h, w = x.shape[2:]
        return torch.stack(
            [
                causal_conv2d_inverse_matrix(conv.kernel(), h, w, order).to(x.dtype).T
                for conv, order in zip(self.convs, ORDERS)
            ]
        )

    def _solve(self, x: Tensor) -> Tensor:
        if len(set(self.sizes)) == 1 and _WeightCache.applies(self.backend, x, self.sizes):
            return _dense_solve(
                x, self._inverse_cache.matrices(self, x, lambda: self._dense_inverses(x))
            )
        kernels = [conv.kernel().to(x.dtype) for conv in self.convs]
        return quad_causal_conv2d_inverse(x, kernels, list(ORDERS), self.backend)

    def _fused_kernel(self, dtype: torch.dtype) -> Tensor:
        """The four causal kernels as one grouped ``[C, C/4, 2k−1, 2k−1]`` kernel of a "same"
        convolution: each corner's ``k × k`` taps in its own corner of the larger window."""
        k = self.convs[0].weight.shape[-1]
        c = self.sizes[0]
        fused = self.convs[0].weight.new_zeros(4 * c, c, 2 * k - 1, 2 * k - 1)
        for j, (conv, order) in enumerate(zip(self.convs, ORDERS)):
            top, left = (0 if order[0] == "T" else k - 1), (0 if order[1] == "L" else k - 1)
            fused[j * c : (j + 1) * c, :, top : top + k, left : left + k] = conv.kernel()
        return fused.to(dtype)[None]

    def _convolve(self, x: Tensor) -> Tensor:
        """The four convolutions. Small calls without gradient (up to ``FUSED_MAX_PIXELS``
        batch × pixels, where per-call overhead dominates) run one grouped convolution with the
        fused kernel (kept until a parameter changes) instead of four kernels, pads and convs; it
        costs ``(2k−1)²/k²`` times the arithmetic, which larger batches would feel."""
        small = x.shape[0] * x.shape[2] * x.shape[3] <= FUSED_MAX_PIXELS
        if small and len(set(self.sizes)) == 1 and not torch.is_grad_enabled():
            fused = self._kernel_cache.matrices(self, x, lambda: self._fused_kernel(x.dtype))[0]
            return F.conv2d(x, fused, padding=fused.shape[-1] // 2, groups=4)
        outs = [
            causal_conv2d(part, conv.kernel().to(x.dtype), order)
            for conv, order, part in zip(self.convs, ORDERS, x.split(self.sizes, dim=1))
        ]
        return torch.cat(outs, dim=1)

    def _run(self, x: Tensor, direction: str) -> tuple[Tensor, Tensor]:
        if direction == self._solve_direction:
            logdet = -sum(conv._logdet(x) for conv in self.convs)
            return self._solve(x), logdet
        return self._convolve(x), sum(conv._logdet(x) for conv in self.convs)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self._run(x, "forward")

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        return self._run(z, "inverse")


class FInCUnit(_QuadrantUnit):
    """FInC unit: four FInC convolutions, one per corner (TL, TR, BL, BR), on quarters of the channels.

    The receptive fields of the four quadrants together cover the whole k×k neighbourhood; a 1×1
    convolution after the unit mixes the groups. Volume preserving.
    """

    @register_to_config
    def __init__(self, channels: int, kernel_size: int = 3, backend: str = "auto"):
        super().__init__()
        self._build(channels, backend, lambda c, order: FInCConv2d(c, kernel_size, order, backend))


class InverseFlowUnit(_QuadrantUnit):
    """Inverse-Flow unit: the FInC unit used the other way (solve for density, conv for sampling)."""

    _solve_direction = "forward"

    @register_to_config
    def __init__(self, channels: int, kernel_size: int = 3, backend: str = "auto"):
        super().__init__()
        self._build(
            channels,
            backend,
            lambda c, order: InverseConv2d(c, kernel_size, order, backend=backend),
        )
