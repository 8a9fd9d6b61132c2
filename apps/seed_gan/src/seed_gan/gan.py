"""A class-conditional GAN for small seed images: a generator with class-conditional batch norm, a
projection discriminator with spectral norm, the hinge loss, and an EMA copy of the generator.

References: Miyato and Koyama, "cGANs with Projection Discriminator", arXiv:1802.05637; Miyato et
al., "Spectral Normalization for GANs", arXiv:1802.05957; Brock et al., "Large Scale GAN Training
for High Fidelity Natural Image Synthesis" (BigGAN; conditional batch norm, EMA), arXiv:1809.11096.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm
from torch.optim.swa_utils import AveragedModel

from app_toolkit.checkpoint import PretrainedMixin, register_to_config
from app_toolkit.files import atomic_write
from app_toolkit.training import check_finite_loss, checkpoint_on_interrupt
from seed_gan.diffaugment import diff_augment, parse_policy

__all__ = [
    "ConditionalBatchNorm2d",
    "Discriminator",
    "Generator",
    "discriminator_hinge_loss",
    "ema_of",
    "generate",
    "generator_hinge_loss",
    "load_generator",
    "train_gan",
]


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose scale and shift are looked up per class."""

    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.gamma = nn.Embedding(num_classes, channels)
        self.beta = nn.Embedding(num_classes, channels)
        nn.init.ones_(self.gamma.weight)
        nn.init.zeros_(self.beta.weight)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.gamma(y)[:, :, None, None] * self.bn(x) + self.beta(y)[:, :, None, None]


class _GenBlock(nn.Module):
    """Residual up-sampling block: CBN → ReLU → ×2 → conv → CBN → ReLU → conv, plus a 1×1 skip."""

    def __init__(self, cin: int, cout: int, num_classes: int):
        super().__init__()
        self.bn1 = ConditionalBatchNorm2d(cin, num_classes)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn2 = ConditionalBatchNorm2d(cout, num_classes)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = F.interpolate(F.relu(self.bn1(x, y)), scale_factor=2)
        h = self.conv2(F.relu(self.bn2(self.conv1(h), y)))
        return h + self.skip(F.interpolate(x, scale_factor=2))


class Generator(PretrainedMixin, nn.Module):
    """``(z [B, z_dim], y [B]) -> images [B, 3, size, size]`` in [-1, 1]; ``size`` is 4·2^n.
    ``classes`` names the class indices (saved with the weights by ``save_pretrained``)."""

    @register_to_config
    def __init__(
        self,
        num_classes: int,
        size: int = 64,
        z_dim: int = 128,
        width: int = 32,
        classes: list[str] | None = None,
    ):
        super().__init__()
        blocks = (size // 4).bit_length() - 1
        if size < 8 or 4 * 2**blocks != size:
            raise ValueError(f"size must be 4·2^n and at least 8, got {size}")
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        if classes is not None and len(classes) != num_classes:
            raise ValueError(f"{len(classes)} class names for {num_classes} classes")
        self.num_classes, self.z_dim, self.size = num_classes, z_dim, size
        self.classes = list(classes) if classes else [f"class_{i}" for i in range(num_classes)]
        chans = [width * 2 ** max(0, blocks - i) for i in range(blocks + 1)]
        self.linear = nn.Linear(z_dim, chans[0] * 16)
        self.blocks = nn.ModuleList(
            _GenBlock(chans[i], chans[i + 1], num_classes) for i in range(blocks)
        )
        self.out = nn.Sequential(
            nn.BatchNorm2d(chans[-1]), nn.ReLU(), nn.Conv2d(chans[-1], 3, 3, padding=1)
        )

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        h = self.linear(z).view(len(z), -1, 4, 4)
        for block in self.blocks:
            h = block(h, y)
        return torch.tanh(self.out(h))

    def sample(self, y: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Images of classes ``y [B]`` from standard normal noise."""
        z = torch.randn(len(y), self.z_dim, generator=generator, device=y.device)
        return self(z, y)


class _DiscBlock(nn.Module):
    def __init__(self, cin: int, cout: int, down: bool = True, first: bool = False):
        super().__init__()
        self.conv1 = spectral_norm(nn.Conv2d(cin, cout, 3, padding=1))
        self.conv2 = spectral_norm(nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = spectral_norm(nn.Conv2d(cin, cout, 1))
        self.down, self.first = down, first

    def forward(self, x: Tensor) -> Tensor:
        h = x if self.first else F.relu(x)
        h = self.conv2(F.relu(self.conv1(h)))
        s = self.skip(x)
        if self.down:
            h, s = F.avg_pool2d(h, 2), F.avg_pool2d(s, 2)
        return h + s


class Discriminator(nn.Module):
    """Projection discriminator: ``(images, y) -> logits [B]`` = ψ(φ(x)) + ⟨embed(y), φ(x)⟩."""

    def __init__(self, num_classes: int, size: int = 64, width: int = 32):
        super().__init__()
        blocks = (size // 4).bit_length() - 1
        chans = [width * 2 ** min(i, 3) for i in range(blocks + 1)]
        layers = [_DiscBlock(3, chans[0], first=True)]
        layers += [_DiscBlock(chans[i], chans[i + 1]) for i in range(blocks - 1)]
        layers += [_DiscBlock(chans[blocks - 1], chans[blocks], down=False)]
        self.blocks = nn.Sequential(*layers)
        self.linear = spectral_norm(nn.Linear(chans[blocks], 1))
        self.embed = spectral_norm(nn.Embedding(num_classes, chans[blocks]))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = F.relu(self.blocks(x)).sum(dim=(2, 3))
        return self.linear(h).squeeze(1) + (self.embed(y) * h).sum(1)


def discriminator_hinge_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def generator_hinge_loss(fake_logits: Tensor) -> Tensor:
    return -fake_logits.mean()


def ema_of(generator: Generator, decay: float = 0.999) -> AveragedModel:
    """An exponential moving average of the generator's weights (and batch-norm buffers), the
    copy used for sampling; update it with ``ema.update_parameters(generator)`` after each step.
    The decay warms up as min(decay, (1 + n) / (10 + n)) after n updates, so a short run's average
    is not dominated by the random initial weights."""

    def average(averaged: Tensor, current: Tensor, n: Tensor | int) -> Tensor:
        d = min(decay, (1 + int(n)) / (10 + int(n)))
        return d * averaged + (1 - d) * current

    return AveragedModel(generator, avg_fn=average, use_buffers=True)


GENERATOR_DIR = "generator"  # the EMA generator, save_pretrained format
STATE_FILE = "gan_state.pt"  # both networks, optimisers and the step, to resume


def train_gan(
    dataset: torch.utils.data.Dataset,
    num_classes: int,
    *,
    size: int = 64,
    width: int = 32,
    steps: int = 2000,
    batch_size: int = 64,
    lr_g: float = 2e-4,
    lr_d: float = 2e-4,
    ema_decay: float = 0.999,
    seed: int = 0,
    device: str = "cpu",
    classes: list[str] | None = None,
    out_dir: str | os.PathLike | None = None,
    checkpoint_every: int = 500,
    resume: bool = False,
    progress: bool = True,
    augment: str = "",
) -> tuple[Generator, list[dict]]:
    """Train the conditional GAN on ``(image [-1, 1], class)`` pairs with the hinge loss and Adam
    (β = (0, 0.9), one discriminator step per generator step) under ``accelerate``; returns the EMA
    generator (on the CPU, in eval mode) and the losses every 50 steps. Classes are sampled
    uniformly for the fakes, so rare classes get as many generated examples as common ones.

    With ``out_dir``, a checkpoint is written every ``checkpoint_every`` steps and at the end
    (``generator/`` and ``gan_state.pt``); ``resume=True`` continues from it. ``augment``: the
    differentiable augmentations the discriminator sees every image through
    (:mod:`seed_gan.diffaugment`, e.g. ``"translation,cutout"``), for few training images."""
    from accelerate import Accelerator
    from tqdm.auto import tqdm

    if steps < 1 or batch_size < 2:
        raise ValueError(f"steps must be >= 1 and batch size >= 2, got {steps} and {batch_size}")
    if resume and out_dir is None:
        raise ValueError("resume needs the output folder of the run to continue")
    policy = parse_policy(augment)
    torch.manual_seed(seed)
    accelerator = Accelerator(cpu=device == "cpu")
    gen = Generator(num_classes, size, width=width, classes=classes)
    disc = Discriminator(num_classes, size, width)
    ema = ema_of(gen, ema_decay)
    opt_g = torch.optim.Adam(gen.parameters(), lr_g, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), lr_d, betas=(0.0, 0.9))
    history, step = [], 0
    if resume:
        state = _load_state(Path(out_dir), gen.config)
        for module, key in ((gen, "generator"), (disc, "discriminator"), (ema, "ema")):
            module.load_state_dict(state[key])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        step, history = int(state["step"]), json.loads(state["history"])
        torch.set_rng_state(state["rng"])
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=len(dataset) >= batch_size,
        generator=torch.Generator().manual_seed(seed + step),
    )
    gen, disc, opt_g, opt_d, loader = accelerator.prepare(gen, disc, opt_g, opt_d, loader)
    ema.to(accelerator.device)

    def checkpoint() -> None:
        if out_dir is None or not accelerator.is_main_process:
            return
        ema.module.save_pretrained(Path(out_dir) / GENERATOR_DIR)
        state = {
            "generator": accelerator.unwrap_model(gen).state_dict(),
            "discriminator": accelerator.unwrap_model(disc).state_dict(),
            "ema": ema.state_dict(),
            "opt_g": opt_g.state_dict(),
            "opt_d": opt_d.state_dict(),
            "step": step,
            "history": json.dumps(history),
            "config": json.dumps(ema.module.config),
            "rng": torch.get_rng_state(),
        }
        atomic_write(Path(out_dir) / STATE_FILE, lambda p: torch.save(state, p))

    bar = tqdm(
        total=steps,
        initial=step,
        desc="GAN",
        unit="step",
        disable=not (progress and accelerator.is_main_process),
    )
    with checkpoint_on_interrupt(checkpoint, "GAN"):
        while step < steps:
            for real, y in loader:
                fake_y = torch.randint(0, num_classes, (len(y),), device=y.device)
                fake = accelerator.unwrap_model(gen).sample(fake_y)
                d_loss = discriminator_hinge_loss(
                    disc(diff_augment(real, policy), y),
                    disc(diff_augment(fake.detach(), policy), fake_y),
                )
                check_finite_loss(d_loss, step + 1, "GAN discriminator")
                opt_d.zero_grad()
                accelerator.backward(d_loss)
                opt_d.step()
                g_loss = generator_hinge_loss(disc(diff_augment(fake, policy), fake_y))
                check_finite_loss(g_loss, step + 1, "GAN generator")
                opt_g.zero_grad()
                accelerator.backward(g_loss)
                opt_g.step()
                ema.update_parameters(accelerator.unwrap_model(gen))
                step += 1
                bar.update()
                if step % 50 == 0 or step == steps:
                    history.append({"step": step, "d_loss": d_loss.item(), "g_loss": g_loss.item()})
                if step % checkpoint_every == 0 or step == steps:
                    checkpoint()
                if step == steps:
                    break
    bar.close()
    return ema.module.cpu().eval(), history


def _load_state(out_dir: Path, config: dict) -> dict:
    path = out_dir / STATE_FILE
    if not path.is_file():
        raise ValueError(f"cannot resume: {path} not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # any unreadable state file means the same to the user
        raise ValueError(f"cannot resume: {path} is corrupt ({err})") from None
    saved = json.loads(state["config"])
    if saved != config:
        raise ValueError(
            f"cannot resume: {out_dir} was trained with another generator ({saved} vs {config})"
        )
    return state


def load_generator(path: str | os.PathLike, device: str = "cpu") -> Generator:
    """The generator of a ``gan train`` output folder (or its ``generator/`` folder), eval mode;
    ``default``: the shipped generator trained on synthetic kernels."""
    from seed_gan.classifier import shipped_model

    path = shipped_model("gan") if str(path) == "default" else Path(path)
    if (path / GENERATOR_DIR).is_dir():
        path = path / GENERATOR_DIR
    if not (path / "config.json").is_file():
        raise ValueError(f"{path}: not a generator folder (no config.json); run `gan train` first")
    return Generator.from_pretrained(path, device=device).eval()


@torch.no_grad()
def generate(
    generator: Generator, counts: dict[int, int], seed: int = 0, batch_size: int = 256
) -> tuple[Tensor, Tensor]:
    """``counts[class] `` images of each class: ``(images [N, 3, s, s] in [-1, 1], labels [N])``."""
    labels = torch.cat(
        [torch.full((n,), c, dtype=torch.long) for c, n in counts.items() if n > 0]
        or [torch.zeros(0, dtype=torch.long)]
    )
    rng = torch.Generator().manual_seed(seed)
    device = next(generator.parameters()).device
    chunks = [
        generator(
            torch.randn(len(y), generator.z_dim, generator=rng).to(device), y.to(device)
        ).cpu()
        for y in labels.split(batch_size)
    ]
    images = torch.cat(chunks) if chunks else torch.zeros(0, 3, generator.size, generator.size)
    return images, labels
