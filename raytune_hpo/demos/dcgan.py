"""DCGAN trainable: adversarial steps and the inception score, in the shared epoch loop.

An "epoch" is one pass over the training images, or ``steps_per_report`` steps when that option
is set; either way one report, so schedulers count time in reports. The inception score is
taken on a fixed batch of noise, under the classifier of
:mod:`raytune_hpo.demos.inception_score`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from raytune_hpo.demos import inception_score, torch_common
from raytune_hpo.demos.datasets import DatasetArrays
from raytune_hpo.demos.dcgan_model import Discriminator, Generator
from raytune_hpo.demos.epoch_loop import EpochReport, train_epochs
from raytune_hpo.demos.options import DCGANOptions
from raytune_hpo.demos.trial_settings import TrialSettings

DEFAULTS: dict[str, Any] = {"lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "batch_size": 64}
"""Hyperparameters a config may leave out of its search space."""
BETA2 = 0.999
DIVERGED_SCORE = 0.0
"""Reported as the inception score of a diverged trial: below any real score (at least 1)."""


@dataclass(frozen=True)
class Gan:
    """Both networks and their optimizers."""

    generator: Generator
    discriminator: Discriminator
    optimizer_g: torch.optim.Optimizer
    optimizer_d: torch.optim.Optimizer


def build_gan(options: DCGANOptions, hp: dict[str, Any], device: torch.device) -> Gan:
    """Fresh networks (initialised from torch's global RNG) and Adam optimizers."""
    generator = Generator(options.latent_size, options.generator_features).to(device)
    discriminator = Discriminator(options.discriminator_features).to(device)
    betas = (hp["beta1"], BETA2)
    return Gan(
        generator,
        discriminator,
        torch.optim.Adam(generator.parameters(), lr=hp["lr_g"], betas=betas),
        torch.optim.Adam(discriminator.parameters(), lr=hp["lr_d"], betas=betas),
    )


def apply_config(gan: Gan, hp: dict[str, Any]) -> None:
    """Give both optimizers the trial's current learning rates and betas (after a restore too)."""
    betas = (hp["beta1"], BETA2)
    torch_common.apply_hyperparameters(gan.optimizer_g, {"lr": hp["lr_g"], "betas": betas})
    torch_common.apply_hyperparameters(gan.optimizer_d, {"lr": hp["lr_d"], "betas": betas})


def report_batches(
    size: int, batch_size: int, steps: int | None, generator: torch.Generator, device: torch.device
) -> Iterator[torch.Tensor]:
    """Index batches of one report: a shuffled pass, or exactly ``steps`` batches over passes."""
    done = 0
    while True:
        for index in torch_common.batch_indices(size, batch_size, generator, device):
            yield index
            done += 1
            if steps is not None and done == steps:
                return
        if steps is None:
            return


def train_steps(
    gan: Gan,
    images: torch.Tensor,
    batches: Iterator[torch.Tensor],
    noise: torch.Generator,
) -> tuple[float, float]:
    """Alternate discriminator and generator steps (non-saturating loss) over ``batches``.

    Args:
        gan: Networks and optimizers, trained in place.
        images: Training images in ``[0, 1]``.
        batches: Index tensors into ``images``.
        noise: CPU generator of the latent noise.

    Returns:
        Mean discriminator and generator losses (not finite when training diverged).
    """
    g, d = gan.generator, gan.discriminator
    g.train()
    d.train()
    device = images.device
    sums = torch.zeros(2, device=device)
    count = 0
    for index in batches:
        real = images[index] * 2 - 1
        z = torch.randn(len(index), g.latent_size, generator=noise).to(device)
        fake = g(z)
        ones = torch.ones(len(index), device=device)
        zeros = torch.zeros(len(index), device=device)
        loss_d = F.binary_cross_entropy_with_logits(d(real), ones)
        loss_d = loss_d + F.binary_cross_entropy_with_logits(d(fake.detach()), zeros)
        gan.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        gan.optimizer_d.step()
        loss_g = F.binary_cross_entropy_with_logits(d(fake), ones)
        gan.optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        gan.optimizer_g.step()
        sums += torch.stack([loss_d.detach(), loss_g.detach()])
        count += 1
    loss_d_mean, loss_g_mean = (sums / max(count, 1)).tolist()
    return loss_d_mean, loss_g_mean


def generate(generator: Generator, noise: torch.Tensor) -> torch.Tensor:
    """Images in ``[0, 1]`` from fixed noise, with batch norm in inference mode."""
    generator.eval()
    with torch.inference_mode():
        images = (generator(noise.to(next(generator.parameters()).device)) + 1) / 2
    generator.train()
    return images


def fixed_noise(options: DCGANOptions, seed: int) -> torch.Tensor:
    """The noise the inception score is taken on: the same for every report and trial."""
    return torch.randn(
        options.inception_samples,
        options.latent_size,
        generator=torch.Generator().manual_seed(seed),
    )


def _actual(gan: Gan) -> dict[str, float]:
    """The learning rates and beta1 the optimizers really use, reported for checking."""
    group_g, group_d = gan.optimizer_g.param_groups[0], gan.optimizer_d.param_groups[0]
    return {
        "lr_g_actual": float(group_g["lr"]),
        "lr_d_actual": float(group_d["lr"]),
        "beta1_actual": float(group_g["betas"][0]),
    }


class DCGANEpochs:
    """DCGAN's part of the epoch loop: adversarial steps, then the inception score.

    Args:
        config: The trial's hyperparameters (``lr_g``, ``lr_d``, ``beta1``, ``batch_size``);
            missing ones take ``DEFAULTS``.
        data: Arrays shared through Ray's object store (labels are not used).
        settings: Experiment-level settings (seed, data set, options).
        device: Where the networks and the images live.
    """

    def __init__(
        self,
        config: dict[str, Any],
        data: DatasetArrays,
        settings: TrialSettings,
        device: torch.device,
    ) -> None:
        self.hp = {**DEFAULTS, **config}
        self.options = DCGANOptions.model_validate(dict(settings.options))
        self.device = device
        with torch.random.fork_rng(devices=[]):  # the networks below draw from the seeded RNG
            self.classifier = inception_score.load_classifier(
                settings.dataset, settings.data_dir, download=settings.download, device=device
            ).model
        self.gan = build_gan(self.options, self.hp, device)
        self.images = torch_common.to_device(data.x_train, device)
        self.batch_rng = torch.Generator().manual_seed(settings.seed)
        self.noise_rng = torch.Generator().manual_seed(settings.seed + 1)
        self.eval_noise = fixed_noise(self.options, settings.seed)
        self.batch_size = int(round(self.hp["batch_size"]))

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Take both networks, their optimizers and the batch and noise generators."""
        self.gan.generator.load_state_dict(state["generator"])
        self.gan.discriminator.load_state_dict(state["discriminator"])
        self.gan.optimizer_g.load_state_dict(state["optimizer_g"])
        self.gan.optimizer_d.load_state_dict(state["optimizer_d"])
        self.batch_rng.set_state(state["batch_rng"])
        self.noise_rng.set_state(state["noise_rng"])

    def apply_config(self) -> None:
        """Give both optimizers the trial's learning rates and beta1."""
        apply_config(self.gan, self.hp)

    def train_epoch(self) -> dict[str, float]:
        """The adversarial steps of one report: mean ``loss_d`` and ``loss_g``."""
        batches = report_batches(
            len(self.images),
            self.batch_size,
            self.options.steps_per_report,
            self.batch_rng,
            self.device,
        )
        loss_d, loss_g = train_steps(self.gan, self.images, batches, self.noise_rng)
        return {"loss_d": loss_d, "loss_g": loss_g}

    def evaluate_epoch(self, epoch: int, trained: dict[str, float]) -> EpochReport:
        """The inception score on the fixed noise; ``DIVERGED_SCORE`` when it is not finite."""
        score = math.nan
        if all(math.isfinite(loss) for loss in trained.values()):
            score = inception_score.score_images(
                self.classifier,
                generate(self.gan.generator, self.eval_noise),
                self.options.eval_batch_size,
            )
        row = {**trained, "epoch": epoch, **_actual(self.gan)}
        if not math.isfinite(score):
            return EpochReport({**row, "inception_score": DIVERGED_SCORE}, diverged=True)
        return EpochReport({**row, "inception_score": score})

    def state(self) -> dict[str, Any]:
        """Both networks, their optimizers and the batch and noise generators."""
        return {
            "generator": self.gan.generator.state_dict(),
            "discriminator": self.gan.discriminator.state_dict(),
            "optimizer_g": self.gan.optimizer_g.state_dict(),
            "optimizer_d": self.gan.optimizer_d.state_dict(),
            "batch_rng": self.batch_rng.get_state(),
            "noise_rng": self.noise_rng.get_state(),
        }


def train_dcgan(config: dict[str, Any], *, data: DatasetArrays, settings: TrialSettings) -> None:
    """Train a DCGAN for ``settings.max_epochs`` reports (:class:`DCGANEpochs`)."""
    train_epochs(DCGANEpochs, config, data, settings)


def evaluate_dcgan_checkpoint(
    directory: Path, config: dict[str, Any], data: DatasetArrays, settings: TrialSettings
) -> dict[str, float]:
    """Inception score of a checkpoint's generator, beside real images' scores as the ceiling.

    Returns:
        ``inception_score`` of ``inception_samples`` generated images, and
        ``real_val_inception_score`` / ``real_test_inception_score`` of the validation and test
        images under the same classifier.
    """
    options = DCGANOptions.model_validate(dict(settings.options))
    device = torch.device("cpu")
    classifier: nn.Module = inception_score.load_classifier(
        settings.dataset, settings.data_dir, download=settings.download, device=device
    ).model
    generator = Generator(options.latent_size, options.generator_features)
    generator.load_state_dict(torch_common.load_state(directory, device)["generator"])
    images = generate(generator, fixed_noise(options, settings.seed))

    def score(x: torch.Tensor) -> float:
        return inception_score.score_images(classifier, x, options.eval_batch_size)

    return {
        "inception_score": score(images),
        "real_val_inception_score": score(torch_common.to_device(data.x_val, device)),
        "real_test_inception_score": score(torch_common.to_device(data.x_test, device)),
    }
