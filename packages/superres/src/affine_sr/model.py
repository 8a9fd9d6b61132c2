"""Affine-StableSR: a latent diffusion prior over the coupling autoencoder's latent, steered by the
low-resolution image through a time-aware encoder and SFT layers, with a fidelity knob.

Sampling: the LR image is upscaled bicubically and encoded; its latent conditions every denoising
step (SFT on the outputs of the prior's down-block ResNets), the denoised latent is decoded with
``fidelity ×`` the upscaled LR image's detail channels: 1 keeps the input's structure, 0 leaves
every detail to the prior (the role StableSR's controllable feature wrapping plays).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from affine_sr.autoencoder import CouplingAutoencoder
from affine_sr.conditioning import SFT, TimeAwareEncoder

__all__ = ["AffineSR"]


class AffineSR(nn.Module):
    """``autoencoder`` (:class:`CouplingAutoencoder`), ``unet`` (a diffusers ``UNet2DModel``, or a
    ``UNet2DConditionModel`` such as Stable Diffusion's, then with ``prompt_embeds``), ``encoder``
    (:class:`TimeAwareEncoder` with one feature map per UNet down block) and a diffusers
    ``scheduler``. SFT layers are attached to the ResNets of the UNet's down blocks."""

    def __init__(
        self,
        autoencoder: CouplingAutoencoder,
        unet: nn.Module,
        encoder: TimeAwareEncoder,
        scheduler,
        prompt_embeds: Tensor | None = None,
    ):
        super().__init__()
        if len(encoder.channels) != len(unet.down_blocks):
            raise ValueError(
                f"the encoder gives {len(encoder.channels)} feature maps, the UNet has "
                f"{len(unet.down_blocks)} down blocks"
            )
        self.autoencoder, self.unet, self.encoder, self.scheduler = (
            autoencoder,
            unet,
            encoder,
            scheduler,
        )
        self.register_buffer("prompt_embeds", prompt_embeds, persistent=False)
        self.sfts = nn.ModuleList()
        self._cond: list[Tensor] | None = None
        for level, block in enumerate(unet.down_blocks):
            for resnet in block.resnets:
                sft = SFT(resnet.out_channels, encoder.channels[level])
                self.sfts.append(sft)
                resnet.register_forward_hook(self._hook(sft, level))

    def _hook(self, sft: SFT, level: int):
        def modulate(module, inputs, output):
            return output if self._cond is None else sft(output, self._cond[level])

        return modulate

    def _denoise(self, z: Tensor, t: Tensor, lr_latent: Tensor) -> Tensor:
        self._cond = self.encoder(lr_latent, t)
        try:
            kwargs = {}
            if self.prompt_embeds is not None:
                kwargs["encoder_hidden_states"] = self.prompt_embeds.expand(len(z), -1, -1)
            return self.unet(z, t, **kwargs).sample
        finally:
            self._cond = None

    def training_loss(self, hr: Tensor, lr: Tensor, scale: int) -> Tensor:
        """Stage 2: noise-prediction loss on the HR latent given the LR image (both in [-1, 1])."""
        with torch.no_grad():
            target, _ = self.autoencoder.encode(hr)
            lr_latent, _ = self.autoencoder.encode(_upscale(lr, scale))
        noise = torch.randn_like(target)
        steps = self.scheduler.config.num_train_timesteps
        t = torch.randint(0, steps, (len(hr),), device=hr.device)
        noisy = self.scheduler.add_noise(target, noise, t)
        return F.mse_loss(self._denoise(noisy, t, lr_latent), noise)

    @torch.no_grad()
    def upscale(
        self,
        lr: Tensor,
        scale: int = 4,
        steps: int = 50,
        fidelity: float = 0.5,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``lr [B, 3, h, w]`` in [-1, 1] → ``[B, 3, h·scale, w·scale]``; ``h·scale`` and
        ``w·scale`` must be multiples of the autoencoder's factor (8 by default)."""
        if not 0 <= fidelity <= 1:
            raise ValueError(f"fidelity must be in [0, 1], got {fidelity}")
        up = _upscale(lr, scale)
        lr_latent, lr_detail = self.autoencoder.encode(up)
        self.scheduler.set_timesteps(steps, device=lr.device)
        z = torch.randn(lr_latent.shape, generator=generator, device=lr.device, dtype=lr.dtype)
        z = z * self.scheduler.init_noise_sigma
        for t in self.scheduler.timesteps:
            tt = t.expand(len(z)).to(lr.device)
            eps = self._denoise(self.scheduler.scale_model_input(z, t), tt, lr_latent)
            z = self.scheduler.step(eps, t, z).prev_sample
        return self.autoencoder.decode(z, fidelity * lr_detail).clamp(-1, 1)

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """``autoencoder/``, ``encoder/`` (config.json + safetensors), ``unet/`` and
        ``scheduler/`` (diffusers folders), ``sft.safetensors`` and ``config.json``."""
        from safetensors.torch import save_file

        from core_flows.utils import atomic_write

        directory = Path(directory)
        self.autoencoder.save_pretrained(directory / "autoencoder")
        self.encoder.save_pretrained(directory / "encoder")
        self.unet.save_pretrained(directory / "unet")
        self.scheduler.save_pretrained(directory / "scheduler")
        state = {k: v.detach().contiguous().cpu() for k, v in self.sfts.state_dict().items()}
        if self.prompt_embeds is not None:
            state["prompt_embeds"] = self.prompt_embeds.detach().contiguous().cpu()
        atomic_write(directory / "sft.safetensors", lambda p: save_file(state, p))
        config = {
            "unet_class": type(self.unet).__name__,
            "scheduler_class": type(self.scheduler).__name__,
        }
        atomic_write(directory / "config.json", lambda p: Path(p).write_text(json.dumps(config)))
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, device: str = "cpu") -> AffineSR:
        """Load a folder written by :meth:`save_pretrained`; nothing is downloaded."""
        import diffusers
        from safetensors.torch import load_file

        directory = Path(directory)
        if not (directory / "config.json").is_file():
            raise ValueError(f"{directory}: not an affine-sr model folder (no config.json)")
        config = json.loads((directory / "config.json").read_text())
        unet_class = getattr(diffusers, config["unet_class"], None)
        scheduler_class = getattr(diffusers, config["scheduler_class"], None)
        if unet_class is None or scheduler_class is None:
            raise ValueError(f"{directory}: unknown UNet or scheduler class in config.json")
        state = load_file(directory / "sft.safetensors")
        prompt_embeds = state.pop("prompt_embeds", None)
        model = cls(
            CouplingAutoencoder.from_pretrained(directory / "autoencoder"),
            unet_class.from_pretrained(directory / "unet"),
            TimeAwareEncoder.from_pretrained(directory / "encoder"),
            scheduler_class.from_pretrained(directory / "scheduler"),
            prompt_embeds,
        )
        model.sfts.load_state_dict(state)
        return model.to(device).eval()


def _upscale(lr: Tensor, scale: int) -> Tensor:
    return F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)
