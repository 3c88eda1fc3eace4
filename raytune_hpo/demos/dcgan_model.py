"""DCGAN generator and discriminator for 1 x 28 x 28 images (transposed convs, batch norm).

Sizes come from arguments: ``latent_size`` is the length of the noise vector, ``features`` the
width of the last generator block (or the first discriminator block); the other block is twice
as wide. Generated images lie in ``[-1, 1]`` (tanh); the discriminator returns one logit per
image.
"""

from __future__ import annotations

import torch
from torch import nn


def _init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights N(0, 0.02), batch-norm scales N(1, 0.02)."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")


class Generator(nn.Module):
    """Noise ``(N, latent_size)`` -> images ``(N, 1, 28, 28)`` in ``[-1, 1]``.

    Args:
        latent_size: Length of the noise vector.
        features: Channels of the 14 x 14 block (the 7 x 7 block has twice as many).
    """

    def __init__(self, latent_size: int = 64, features: int = 32) -> None:
        super().__init__()
        _check_sizes(latent_size=latent_size, features=features)
        self.latent_size = latent_size
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_size, features * 2, 7, 1, 0, bias=False),
            nn.BatchNorm2d(features * 2),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(features * 2, features, 4, 2, 1, bias=False),
            nn.BatchNorm2d(features),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(features, 1, 4, 2, 1, bias=False),
            nn.Tanh(),
        )
        self.apply(_init_weights)

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        """Images generated from a batch of noise vectors."""
        return self.net(noise.view(len(noise), self.latent_size, 1, 1))


class Discriminator(nn.Module):
    """Images ``(N, 1, 28, 28)`` in ``[-1, 1]`` -> one real-vs-fake logit each, shape ``(N,)``.

    Args:
        features: Channels of the 14 x 14 block (the 7 x 7 block has twice as many).
    """

    def __init__(self, features: int = 32) -> None:
        super().__init__()
        _check_sizes(features=features)
        self.net = nn.Sequential(
            nn.Conv2d(1, features, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(features, features * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(features * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(features * 2, 1, 7, 1, 0, bias=False),
        )
        self.apply(_init_weights)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits (positive: real) of a batch of images."""
        return self.net(images).view(-1)
