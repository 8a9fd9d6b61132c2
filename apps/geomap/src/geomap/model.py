"""Band scaling, the reducers (the scaled bands themselves, PCA, autoencoder, stacked autoencoder)
and k-means, as one model that is fitted on a pixel sample, applied to any number of pixels,
saved and loaded; k is chosen by :mod:`geomap.kselect` unless given.

References: Hajaj et al., "Stacked autoencoder and k-means for unsupervised geological mapping with
multispectral imagery", Advances in Space Research 74(10), 2024.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file, save_file
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA
from torch import nn

from geomap.kselect import (
    MIN_CHECK_PIXELS,
    MIN_EDGE,
    MIN_INTERIOR,
    SHADING_COS,
    choose_k,
    edge_contrast,
    interior_shares,
    segment_means,
)
from geomap.options import (
    DEFAULT_K_METHOD,
    DEFAULT_REDUCER,
    DEFAULT_TRANSFORM,
    K_CHECKS,
    K_METHODS,
    K_ON,
    REDUCERS,
    TRANSFORMS,
)

__all__ = [
    "DEFAULT_REDUCER",
    "DEFAULT_TRANSFORM",
    "REDUCERS",
    "TRANSFORMS",
    "Autoencoder",
    "GeoMapModel",
    "StackedAutoencoder",
]

log = logging.getLogger(__name__)

DESHADE = 0.3  # share of the band mean kept by the "deshaded" transform (geomap.options)
LOG_FLOOR = 1e-3  # of each band's 99th percentile: zero and negative values (nodata-like) clip here
MODEL_FILE, CONFIG_FILE = "model.safetensors", "config.json"


def log_floor(pixels: np.ndarray) -> np.ndarray:
    """Per band, the value below which ``pixels [N, bands]`` are raised before the log."""
    top = np.abs(np.percentile(pixels, 99, axis=0)).astype(np.float32)
    return LOG_FLOOR * np.where(top > 0, top, 1.0).astype(np.float32)


class Autoencoder(nn.Module):
    """Dense autoencoder ``n → hidden → code → hidden → n`` with SELU activations and a sigmoid
    output (inputs are scaled to [0, 1]); the paper's first stage is 6 → 4 → 2 → 4 → 6."""

    def __init__(self, inputs: int, hidden: int, code: int = 2):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(inputs, hidden), nn.SELU(), nn.Linear(hidden, code), nn.SELU()
        )
        self.decoder = nn.Sequential(
            nn.Linear(code, hidden), nn.SELU(), nn.Linear(hidden, inputs), nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [N, n]`` → (reconstruction ``[N, n]``, code ``[N, code]``)."""
        code = self.encoder(x)
        return self.decoder(code), code


class StackedAutoencoder(nn.Module):
    """Two autoencoders: the first on the band vector (n → 4 → 2 → 4 → n), the second on the
    first one's reconstruction concatenated with the input (2n → 5 → 2 → 5 → 2n). The second code is
    the feature."""

    def __init__(self, inputs: int):
        super().__init__()
        self.first = Autoencoder(inputs, 4)
        self.second = Autoencoder(2 * inputs, 5)

    def second_input(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.first(x)[0], x], dim=1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.second.encoder(self.second_input(x))


def _train(
    model: nn.Module,
    data: torch.Tensor,
    epochs: int,
    l1: float,
    lr: float,
    seed: int,
    device: str,
    desc: str,
    progress: bool = True,
) -> tuple[nn.Module, list[float]]:
    """Fit an autoencoder to reproduce ``data [N, n]``: MSE plus an L1 penalty on the code, Adam,
    mini-batches; under ``accelerate`` (data-parallel when started with ``accelerate launch``).
    Returns the model on the CPU and the loss per epoch."""
    from accelerate import Accelerator
    from tqdm.auto import tqdm

    if device.startswith("cuda:"):
        torch.cuda.set_device(torch.device(device))  # accelerate uses the current CUDA device
    accelerator = Accelerator(cpu=device == "cpu")
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(data),
        batch_size=1024,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    losses = []
    bar = tqdm(
        range(epochs),
        desc=desc,
        unit="epoch",
        disable=not (progress and accelerator.is_main_process),
    )
    for _ in bar:
        total = 0.0
        for (batch,) in loader:
            recon, code = model(batch)
            loss = nn.functional.mse_loss(recon, batch) + l1 * code.abs().mean()
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(data))
    return accelerator.unwrap_model(model).cpu().eval(), losses


class GeoMapModel:
    """Log (or linear) reflectance, per-band scaling to [0, 1] (1st–99th percentile), a reducer,
    and k-means on its features.

    ``fit(pixels [N, bands])`` then ``predict(pixels) -> labels [N]`` in 1..k. The constructor's
    arguments are the config; ``save_pretrained`` / ``from_pretrained`` write and read
    ``config.json`` + ``model.safetensors``.
    """

    def __init__(
        self,
        bands: int,
        reducer: str = DEFAULT_REDUCER,
        k: int | None = None,
        k_max: int = 20,
        epochs: int = 30,
        l1: float = 1e-4,
        lr: float = 3e-2,
        seed: int = 0,
        device: str = "cpu",
        k_method: str = DEFAULT_K_METHOD,
        transform: str = DEFAULT_TRANSFORM,
        k_check: str = "spatial",
    ):
        if transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}, got {transform!r}")
        if k_method not in K_METHODS:
            raise ValueError(f"k method must be one of {', '.join(K_METHODS)}, got {k_method!r}")
        if k_check not in K_CHECKS:
            raise ValueError(f"k check must be one of {', '.join(K_CHECKS)}, got {k_check!r}")
        if reducer not in REDUCERS:
            raise ValueError(f"reducer must be one of {REDUCERS}, got {reducer!r}")
        if bands < 2:
            raise ValueError(f"need at least 2 bands, got {bands}")
        if k is not None and not 2 <= k <= 255:
            raise ValueError(f"k must be in 2..255, got {k}")
        if not 3 <= k_max <= 255:
            raise ValueError(f"k_max must be in 3..255, got {k_max}")
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        self.config = {
            "bands": bands,
            "reducer": reducer,
            "transform": transform,
            "k": k,
            "k_max": k_max,
            "k_method": k_method,
            "k_check": k_check,
            "epochs": epochs,
            "l1": l1,
            "lr": lr,
            "seed": seed,
        }
        self.device = device
        self.low = self.high = self.floor = None
        self.pca: dict[str, np.ndarray] | None = None
        self.net: nn.Module | None = None
        self.centers: np.ndarray | None = None
        self.k_choice: dict | None = None  # how k was chosen (kselect.choose_k), if it was
        self.losses: list[float] = []

    # -- scaling and features ----------------------------------------------------------------

    def transformed(self, pixels: np.ndarray) -> np.ndarray:
        """Band values as the model sees them before scaling: log reflectance or as given."""
        pixels = pixels.astype(np.float32)
        if self.config["transform"] == "linear":
            return pixels
        logs = np.log(np.maximum(pixels, self.floor))
        if self.config["transform"] == "deshaded":
            logs -= (1 - DESHADE) * logs.mean(axis=1, keepdims=True)
        return logs

    def scale(self, pixels: np.ndarray) -> np.ndarray:
        scaled = (self.transformed(pixels) - self.low) / (self.high - self.low)
        return np.clip(scaled, 0.0, 1.0)

    @torch.inference_mode()
    def features(self, pixels: np.ndarray, batch: int = 1 << 16) -> np.ndarray:
        """Reduced features ``[N, d]`` of raw band vectors ``[N, bands]``."""
        x = self.scale(pixels)
        if self.config["reducer"] == "raw":
            return x
        if self.config["reducer"] == "pca":
            return (x - self.pca["mean"]) @ self.pca["components"].T
        out = []
        for start in range(0, len(x), batch):
            t = torch.from_numpy(x[start : start + batch])
            if self.config["reducer"] == "sae":
                out.append(self.net.encode(t).numpy())
            else:
                out.append(self.net.encoder(t).numpy())
        return np.concatenate(out) if out else np.zeros((0, 2), np.float32)

    # -- fitting --------------------------------------------------------------------------------

    def fit(
        self,
        pixels: np.ndarray,
        progress: bool = True,
        window: tuple | None = None,
        k_on: str = "pixels",
    ) -> GeoMapModel:
        """Fit scaling, reducer and k-means on a sample of valid pixels ``[N, bands]``. When k is
        to be chosen, ``window = (pixels [h*w, bands], valid [h, w])``, a contiguous part of the
        raster, gives spatial evidence: with ``k_on="segments"`` the criterion judges the mean
        features of its superpixels (:func:`geomap.kselect.segment_means`) instead of single
        pixels, and with the config's ``k_check="spatial"`` k is checked against its cleaned map
        (:meth:`check_k`)."""
        if k_on not in K_ON:
            raise ValueError(f"k must be judged on one of {', '.join(K_ON)}, got {k_on!r}")
        if k_on == "segments" and window is None:
            raise ValueError("judging k on segments needs a window of the raster")
        if pixels.ndim != 2 or pixels.shape[1] != self.config["bands"]:
            raise ValueError(f"pixels must be [N, {self.config['bands']}], got {pixels.shape}")
        if len(pixels) < 100:
            raise ValueError(f"need at least 100 valid pixels to fit, got {len(pixels)}")
        seed = self.config["seed"]
        self.floor = log_floor(pixels)
        values = self.transformed(pixels)
        self.low = np.percentile(values, 1, axis=0).astype(np.float32)
        self.high = np.percentile(values, 99, axis=0).astype(np.float32)
        flat = self.high - self.low <= 1e-12
        if flat.all():
            raise ValueError("every band is constant over the valid pixels: nothing to map")
        self.high[flat] = self.low[flat] + 1.0
        x = self.scale(pixels)
        if self.config["reducer"] == "raw":
            pass
        elif self.config["reducer"] == "pca":
            pca = PCA(n_components=0.9, random_state=seed).fit(x)
            self.pca = {
                "mean": pca.mean_.astype(np.float32),
                "components": pca.components_.astype(np.float32),
            }
        else:
            torch.manual_seed(seed)  # the networks' initial weights
            data = torch.from_numpy(x)
            options = {k: self.config[k] for k in ("epochs", "l1", "lr", "seed")}
            options.update(device=self.device, progress=progress)
            if self.config["reducer"] == "ae":
                self.net, self.losses = _train(
                    Autoencoder(x.shape[1], 4), data, desc="autoencoder", **options
                )
            else:
                sae = StackedAutoencoder(x.shape[1])
                sae.first, first_losses = _train(sae.first, data, desc="SAE stage 1", **options)
                with torch.no_grad():  # the second stage learns from the first one's output
                    stacked = sae.second_input(data)
                sae.second, second_losses = _train(
                    sae.second, stacked, desc="SAE stage 2", **options
                )
                self.net, self.losses = sae.eval(), first_losses + second_losses
            self.net.eval()
        features = self.features(pixels)
        k = self.config["k"]
        if k is not None and k > len(pixels):
            raise ValueError(f"k = {k} is more than the {len(pixels)} valid pixels sampled")
        centers = None
        if k is None:
            judged = features
            if k_on == "segments":
                judged = segment_means(self.features(window[0]), window[1])
            self.k_choice = choose_k(judged, self.config["k_max"], seed, self.config["k_method"])
            self.k_choice["judged"] = k_on
            k = self.k_choice["k"]
            if window is not None and self.config.get("k_check", "spatial") == "spatial":
                if window[1].sum() >= MIN_CHECK_PIXELS:
                    k, centers, rounds = self.check_k(features, window, k)
                    self.k_choice.update(k_criterion=self.k_choice["k"], k=k, checks=rounds)
                else:
                    log.warning(
                        "the central window has %d valid pixels (fewer than %d): k is not "
                        "checked against the map", int(window[1].sum()), MIN_CHECK_PIXELS,
                    )  # fmt: skip
        if centers is None:
            centers = _kmeans(features, k, seed).cluster_centers_
        self.centers = centers.astype(np.float32)
        return self

    def check_k(
        self, features: np.ndarray, window: tuple, k: int, rounds: int = 12
    ) -> tuple[int, np.ndarray, list[dict]]:
        """Check ``k`` against the window's map as ``geomap run`` cleans it by default (the Markov
        random field, then the 7×7 majority filter, whatever ``--cleaning`` and ``--filter-size``
        say), and cluster again with a lower k (at least 2) until it passes:

        - units without an interior (:func:`geomap.kselect.interior_shares` below
          :data:`geomap.kselect.MIN_INTERIOR`) are the mixed pixels along contacts, which a
          criterion on single pixels may count as units: k is lowered by their number;
        - two units whose mean features differ only along the direction in which shading moves
          a pixel's features (:data:`geomap.kselect.SHADING_COS`) and that meet without an edge
          (:func:`geomap.kselect.edge_contrast` below :data:`geomap.kselect.MIN_EDGE`) are one
          unit under uneven light: k is lowered by one.

        Returns (k, centres, each round's k, interior shares and shaded pairs)."""
        from geomap.metrics import majority_filter, spatial_kmeans

        pixels, valid = window
        grid = self.features(pixels).reshape(*valid.shape, -1)
        history = []
        for round_ in range(rounds):
            centers = _kmeans(features, k, self.config["seed"]).cluster_centers_
            raw = np.where(valid, spatial_kmeans(grid, centers, valid)[0] + 1, 0).astype(np.uint8)
            cleaned = majority_filter(raw, 7, k)
            shares = interior_shares(cleaned, raw, k)
            thin = int((shares < MIN_INTERIOR).sum())  # NaN (not judged) is never below
            shaded = [] if thin else self._shaded_pairs(cleaned, grid, pixels, k)
            history.append(
                {
                    "k": k,
                    "interior_shares": [None if v != v else round(float(v), 3) for v in shares],
                    "shaded_pairs": shaded,
                }
            )  # None: the unit is (nearly) absent from the window, not judged
            lower = thin or (1 if shaded else 0)
            if not lower or k == 2 or round_ == rounds - 1:
                break
            log.debug("k = %d: %d thin units, shaded pairs %s", k, thin, shaded)
            k = max(2, k - lower)
        return k, centers, history

    def _shaded_pairs(self, cleaned, grid, pixels, k) -> list[list]:
        """Adjacent units ``[i, j, edge, cos]`` that differ only as shading moves a pixel and
        meet without an edge (see :meth:`check_k`)."""
        flat = cleaned.ravel()
        out = []
        for (i, j), edge in edge_contrast(cleaned, grid, k).items():
            if edge >= MIN_EDGE:
                continue
            difference = grid[cleaned == j].mean(0) - grid[cleaned == i].mean(0)
            # how the features of the two units' pixels move when their light changes by ±5%
            sample = pixels[(flat == i) | (flat == j)][::50][:400]
            shading = (self.features(sample * 1.05) - self.features(sample / 1.05)).mean(0)
            norm = np.linalg.norm(difference) * np.linalg.norm(shading)
            cos = abs(float(difference @ shading)) / float(norm) if norm > 0 else 0.0
            if cos >= SHADING_COS:
                out.append([int(i), int(j), round(float(edge), 2), round(float(cos), 3)])
        return out

    def predict(self, pixels: np.ndarray) -> np.ndarray:
        """Unit labels ``uint8 [N]`` in 1..k (0 is left for nodata)."""
        if self.centers is None:
            raise ValueError(
                "the model is not fitted: call fit() or load one with from_pretrained()"
            )
        return self.assign(self.features(pixels))

    def assign(self, features: np.ndarray) -> np.ndarray:
        """Unit labels ``uint8 [N]`` of reduced ``features`` (the nearest k-means centre)."""
        # ||f - c||² without the [N, k, d] difference array
        d = (self.centers**2).sum(1)[None] - 2 * features @ self.centers.T
        return (np.argmin(d, axis=1) + 1).astype(np.uint8)

    @property
    def k(self) -> int:
        return len(self.centers)

    # -- checkpoints ------------------------------------------------------------------------------

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        from app_toolkit.files import atomic_write, write_json

        directory = Path(directory)
        tensors = {"low": self.low, "high": self.high, "floor": self.floor, "centers": self.centers}
        if self.pca is not None:
            tensors.update({f"pca.{k}": v for k, v in self.pca.items()})
        if self.net is not None:
            tensors.update({f"net.{k}": v.numpy() for k, v in self.net.state_dict().items()})
        write_json(
            directory / CONFIG_FILE,
            {
                "class": type(self).__name__,
                **self.config,
                "fitted_k": self.k,
                "k_choice": self.k_choice,
            },
        )
        # safetensors writes an array's memory as it lies: a Fortran-ordered one (scikit-learn's
        # PCA components can be) would load transposed
        tensors = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
        atomic_write(directory / MODEL_FILE, lambda tmp: save_file(tensors, tmp))
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, device: str = "cpu") -> GeoMapModel:
        directory = Path(directory)
        try:
            config = json.loads((directory / CONFIG_FILE).read_text())
            tensors = load_file(directory / MODEL_FILE)
        except FileNotFoundError as err:
            raise ValueError(
                f"{directory}: not a saved geomap model ({err.filename} missing)"
            ) from None
        except Exception as err:  # JSON, I/O and safetensors' own error types
            raise ValueError(f"{directory}: corrupt geomap model ({err})") from None
        if not isinstance(config, dict) or config.get("class") != cls.__name__:
            raise ValueError(f"{directory}: not a geomap model config")
        bad = [k for k, v in tensors.items() if v.dtype.kind == "f" and not np.isfinite(v).all()]
        if bad:
            raise ValueError(f"{directory}: NaN or infinite values in {', '.join(bad[:3])}")
        k_choice = config.pop("k_choice", None)
        config.setdefault("transform", "linear")  # models saved before the log transform
        for key in ("class", "fitted_k", "elbow"):  # "elbow": models saved before k_choice
            config.pop(key, None)
        try:
            model = cls(**config, device=device)
            model.k_choice = k_choice
            model.low, model.high = tensors["low"], tensors["high"]
            model.floor = tensors.get("floor", np.zeros_like(model.low))
            model.centers = tensors["centers"]
            if config["reducer"] == "pca":
                model.pca = {"mean": tensors["pca.mean"], "components": tensors["pca.components"]}
            elif config["reducer"] in ("ae", "sae"):  # "raw" has no network
                bands = config["bands"]
                sae = config["reducer"] == "sae"
                net = StackedAutoencoder(bands) if sae else Autoencoder(bands, 4)
                state = {
                    k[4:]: torch.from_numpy(v) for k, v in tensors.items() if k.startswith("net.")
                }
                net.load_state_dict(state)
                model.net = net.eval()
        except (TypeError, KeyError, RuntimeError) as err:
            raise ValueError(
                f"{directory}: config and weights do not fit ({err})".splitlines()[0]
            ) from None
        return model


def _kmeans(features: np.ndarray, k: int, seed: int):
    """k-means; mini-batch k-means for large samples (same objective, bounded time)."""
    if len(features) > 200_000:
        return MiniBatchKMeans(k, random_state=seed, n_init=3, batch_size=8192).fit(features)
    return KMeans(k, random_state=seed, n_init=10).fit(features)
