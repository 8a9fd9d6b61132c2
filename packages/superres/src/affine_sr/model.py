"""Affine-StableSR: a latent diffusion prior over the coupling autoencoder's latent, steered by the
low-resolution image through a time-aware encoder and SFT layers, with a fidelity knob.

Sampling (:func:`affine_sr.pipeline.denoise`, what :meth:`AffineSR.upscale` runs): the LR image
is upscaled bicubically and encoded; its latent conditions every denoising step (SFT on the
outputs of the prior's down-block ResNets), the denoised latent is decoded with ``fidelity ×``
the upscaled LR image's detail channels: 1 keeps the input's structure, 0 leaves every detail to
the prior (the role StableSR's controllable feature wrapping plays). The model folder's format is
in :mod:`affine_sr.checkpoint`.

A *full-code* prior generates the detail channels too (the whole invertible code), so it can
change fine structure, not only what the latent holds: restoration needs that (noise, scratches
and cracks live in the detail). Its fidelity blends the input's detail with the generated one.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from affine_sr.autoencoder import CouplingAutoencoder
from affine_sr.conditioning import SFT, TimeAwareEncoder, group_count
from affine_sr.refiner import Refiner

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
        latent_scale: float = 1.0,
        prior: str | None = None,
        residual: bool = False,
        residual_scale: float = 1.0,
        full_code: bool = False,
    ):
        super().__init__()
        if len(encoder.channels) != len(unet.down_blocks):
            raise ValueError(
                f"the encoder gives {len(encoder.channels)} feature maps, the UNet has "
                f"{len(unet.down_blocks)} down blocks"
            )
        # a residual prior also sees the whole encoded LR image (latent and detail) beside its input
        generated = autoencoder.channels if full_code else autoencoder.latent_channels
        inputs = generated + (autoencoder.channels if residual else 0)
        for name, channels, expected in (
            ("UNet", unet.config.in_channels, inputs),
            ("UNet output", unet.config.out_channels, generated),
            ("encoder", encoder.in_channels, autoencoder.latent_channels),
        ):
            if channels != expected:
                raise ValueError(
                    f"the {name} takes {channels} channels, the autoencoder's latent has "
                    f"{autoencoder.latent_channels} ({expected} expected)"
                )
        self.autoencoder, self.unet, self.encoder, self.scheduler = (
            autoencoder,
            unet,
            encoder,
            scheduler,
        )
        # latents are multiplied by latent_scale (unit variance, as SD's 0.18215) before the
        # prior; a residual prior generates (HR latent - LR latent) · residual_scale instead
        self.latent_scale, self.residual_scale = float(latent_scale), float(residual_scale)
        self.residual, self.full_code = bool(residual), bool(full_code)
        # a frozen prior loaded from a local diffusers folder is referred to, not copied
        self.prior = None if prior is None else str(prior)
        if self.prior is not None:
            self.unet.requires_grad_(False)
        self.register_buffer("prompt_embeds", prompt_embeds, persistent=False)
        # the pixel-space refinement after the decoder (stage 3; None: the decoded estimate)
        self.refiner: Refiner | None = None
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

    def _denoise(self, z: Tensor, t: Tensor, lr_code: tuple[Tensor, Tensor]) -> Tensor:
        lr_latent, lr_detail = lr_code
        self._cond = self.encoder(lr_latent, t)
        try:
            kwargs = {}
            if self.prompt_embeds is not None:
                kwargs["encoder_hidden_states"] = self.prompt_embeds.expand(len(z), -1, -1)
            if self.residual:
                z = torch.cat([z, lr_latent, lr_detail * self.latent_scale], 1)
            return self.unet(z, t, **kwargs).sample
        finally:
            self._cond = None

    @property
    def size_multiple(self) -> int:
        """Output sides must be multiples of this: the autoencoder's factor times the UNet's
        downsampling."""
        return self.autoencoder.factor * 2 ** (len(self.unet.down_blocks) - 1)

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Stage 2 trains the encoder, the SFT layers and the UNet unless it is a frozen prior."""
        frozen = [self.autoencoder] + ([self.refiner] if self.refiner is not None else [])
        return [
            p for p in self.parameters() if p.requires_grad and not any(_in(p, m) for m in frozen)
        ]

    def _encode(self, image: Tensor) -> tuple[Tensor, Tensor]:
        """(scaled latent, detail)."""
        latent, detail = self.autoencoder.encode(image)
        return latent * self.latent_scale, detail

    def _generated(self, code: tuple[Tensor, Tensor]) -> Tensor:
        """The part of an encoded image (scaled latent, detail) the prior generates."""
        latent, detail = code
        return torch.cat([latent, detail * self.latent_scale], 1) if self.full_code else latent

    def _decode(self, x0: Tensor, lr_code: tuple[Tensor, Tensor], fidelity: float) -> Tensor:
        """The image from what the prior generated: the latent, with ``fidelity ×`` the LR
        image's detail plus ``(1 - fidelity) ×`` the generated detail (none unless full-code)."""
        if self.residual:
            x0 = self._generated(lr_code) + x0 / self.residual_scale
        latent, detail = x0[:, : self.autoencoder.latent_channels], fidelity * lr_code[1]
        if self.full_code:
            detail = detail + (1 - fidelity) * x0[:, latent.shape[1] :] / self.latent_scale
        return self.autoencoder.decode(latent / self.latent_scale, detail)

    @torch.no_grad()
    def diffusion_pair(
        self, hr: Tensor, lr: Tensor, scale: int
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """``(x0, condition)``: what the prior generates for ``hr``, and the encoded upscaled LR
        image (scaled latent, detail) it is conditioned on."""
        x0 = self._generated(self._encode(hr))
        lr_code = self._encode(_upscale(lr, scale))
        if self.residual:
            x0 = (x0 - self._generated(lr_code)) * self.residual_scale
        return x0, lr_code

    def training_loss(
        self,
        hr: Tensor,
        lr: Tensor,
        scale: int,
        pixel_weight: float = 0.0,
        last_step_share: float = 0.0,
    ) -> Tensor:
        """Stage 2: the scheduler's prediction target (noise, velocity or sample) for the HR latent
        given the LR image (both in [-1, 1]); the autoencoder stays fixed. ``pixel_weight`` adds
        the pixel MSE of the decoded clean estimate, which is what PSNR measures (the code's MSE
        weighs channels as the flow does, not as the image does); it decodes the prior's own
        output: the whole code if full-code, else the latent with the LR image's detail.
        ``last_step_share`` of the draws take the last timestep, the only one one-step sampling
        uses (from pure noise the prior must ignore its noisy input)."""
        latent, lr_code = self.diffusion_pair(hr, lr, scale)
        noise = torch.randn_like(latent)
        steps = self.scheduler.config.num_train_timesteps
        t = torch.randint(0, steps, (len(hr),), device=hr.device)
        if last_step_share:
            last = torch.rand(len(hr), device=hr.device) < last_step_share
            t = torch.where(last, torch.full_like(t, steps - 1), t)
        noisy = self.scheduler.add_noise(latent, noise, t)
        kind = self.scheduler.config.prediction_type
        if kind == "epsilon":
            target = noise
        elif kind == "v_prediction":
            target = self.scheduler.get_velocity(latent, noise, t)
        else:
            target = latent
        out = self._denoise(noisy, t, lr_code)
        loss = F.mse_loss(out, target)
        if pixel_weight:
            fidelity = 0.0 if self.full_code else 1.0
            estimate = self._decode(
                _clean_estimate(self.scheduler, noisy, out, t), lr_code, fidelity
            )
            loss = loss + pixel_weight * F.mse_loss(estimate, hr)
        return loss

    def upscale(
        self,
        lr: Tensor,
        scale: int = 4,
        steps: int = 50,
        fidelity: float = 0.5,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``lr [B, 3, h, w]`` in [-1, 1] → ``[B, 3, h·scale, w·scale]`` by
        :func:`affine_sr.pipeline.denoise` (the denoising loop)."""
        from affine_sr.pipeline import denoise

        return denoise(self, lr, scale, steps, fidelity, generator)

    @classmethod
    def build(
        cls,
        autoencoder: CouplingAutoencoder,
        widths: tuple[int, ...] = (64, 128, 256),
        layers: int = 1,
        prior: str | os.PathLike | None = None,
        prompt_embeds: Tensor | None = None,
    ) -> AffineSR:
        """A new model around a (trained) autoencoder: our own ``UNet2DModel`` prior with
        ``widths`` channels per level, trained from scratch with v-prediction on a zero-terminal-
        SNR DDIM schedule (so one step gives the regression estimate and more steps add detail),
        residual: it generates the difference between the HR and the LR latents and sees the
        whole encoded LR image (latent and detail channels) beside its input, so an untrained
        prior starts at bicubic quality, not below it (as ResShift and SR3 condition); or, with ``prior``, a diffusers UNet folder (Stable
        Diffusion's ``unet/``) kept frozen, with its own scheduler if the folder has one beside
        it, generating HR latents steered through the SFT layers alone (as StableSR)."""
        import diffusers

        if prior is not None:
            from affine_sr.checkpoint import load_unet

            unet = load_unet(Path(prior))
            scheduler_dir = Path(prior).parent / "scheduler"
            if (scheduler_dir / "scheduler_config.json").is_file():
                scheduler = diffusers.DDIMScheduler.from_pretrained(scheduler_dir)
            else:
                scheduler = diffusers.DDIMScheduler(beta_schedule="scaled_linear")
            widths = tuple(unet.config.block_out_channels)
            if unet.config.get("cross_attention_dim") and prompt_embeds is None:
                raise ValueError(
                    f"{prior}: this UNet needs prompt embeddings (--prompt-embeds FILE)"
                )
        else:
            unet = diffusers.UNet2DModel(
                in_channels=autoencoder.latent_channels + autoencoder.channels,
                out_channels=autoencoder.latent_channels,
                block_out_channels=tuple(widths),
                down_block_types=("DownBlock2D",) * len(widths),
                up_block_types=("UpBlock2D",) * len(widths),
                layers_per_block=layers,
                norm_num_groups=group_count(*widths),
            )
            scheduler = diffusers.DDIMScheduler(
                beta_schedule="scaled_linear",
                prediction_type="v_prediction",
                rescale_betas_zero_snr=True,
                timestep_spacing="trailing",
                clip_sample=False,
            )
        encoder = TimeAwareEncoder(autoencoder.latent_channels, tuple(widths))
        return cls(
            autoencoder, unet, encoder, scheduler, prompt_embeds, prior=prior, residual=not prior
        )

    def with_full_code(self) -> AffineSR:
        """A full-code copy of this residual model (our own prior): the UNet takes and gives the
        detail channels too. Its weights are copied, the new inputs start at zero and so does the
        whole output layer: until trained, the copy generates a zero residual and returns its
        input (a restorer starts from "leave the image alone", not from another task's guess)."""
        import copy

        if not self.residual or self.full_code or self.prior is not None:
            raise ValueError("only a residual latent prior of our own can be made full-code")
        latent, channels = self.autoencoder.latent_channels, self.autoencoder.channels
        config = {**self.unet.config, "in_channels": 2 * channels, "out_channels": channels}
        unet = type(self.unet).from_config(config)
        state = dict(self.unet.state_dict())
        w_in = state.pop("conv_in.weight")
        for key in ("conv_out.weight", "conv_out.bias"):
            del state[key]
        unet.load_state_dict(state, strict=False)
        with torch.no_grad():
            # old inputs: [z latent, LR latent, LR detail]; new: [z latent, z detail, LR code]
            for weight in (unet.conv_in.weight, unet.conv_out.weight, unet.conv_out.bias):
                weight.zero_()
            unet.conv_in.weight[:, :latent] = w_in[:, :latent]
            unet.conv_in.weight[:, channels:] = w_in[:, latent:]
        model = AffineSR(
            copy.deepcopy(self.autoencoder),
            unet,
            copy.deepcopy(self.encoder),
            type(self.scheduler).from_config(self.scheduler.config),
            latent_scale=self.latent_scale,
            residual=True,
            residual_scale=self.residual_scale,
            full_code=True,
        )
        model.sfts.load_state_dict(self.sfts.state_dict())
        return model.to(next(self.parameters()).device)

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write the model folder (:func:`affine_sr.checkpoint.save_model`)."""
        from affine_sr.checkpoint import save_model

        return save_model(self, directory)

    @classmethod
    def from_pretrained(
        cls, directory: str | os.PathLike, device: str = "cpu", prior: str | None = None
    ) -> AffineSR:
        """Load a model folder (:func:`affine_sr.checkpoint.load_folder`); nothing is
        downloaded. ``prior`` overrides the path of an external frozen UNet recorded in it."""
        from affine_sr.checkpoint import load_folder

        return load_folder(directory, device, prior)


_MOVED = ("load_model", "shipped_model")  # to affine_sr.checkpoint; still importable from here


def __getattr__(name: str):
    if name in _MOVED:
        from affine_sr import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_MOVED])


def _in(parameter: nn.Parameter, module: nn.Module) -> bool:
    return any(parameter is p for p in module.parameters())


def _clean_estimate(scheduler, noisy: Tensor, out: Tensor, t: Tensor) -> Tensor:
    """The clean sample a prediction implies at timesteps ``t`` (DDPM algebra)."""
    alpha = scheduler.alphas_cumprod.to(noisy.device)[t].view(-1, 1, 1, 1)
    kind = scheduler.config.prediction_type
    if kind == "v_prediction":
        return alpha.sqrt() * noisy - (1 - alpha).sqrt() * out
    if kind == "epsilon":
        return (noisy - (1 - alpha).sqrt() * out) / alpha.sqrt().clamp_min(1e-4)
    return out


def _upscale(lr: Tensor, scale: int) -> Tensor:
    return F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)
