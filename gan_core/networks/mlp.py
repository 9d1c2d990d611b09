"""Fully connected GAN, as in a first GAN on MNIST (Goodfellow et al. 2014, modernised with LeakyReLU)."""
import math

from torch import nn


class MLPGenerator(nn.Module):
    def __init__(self, latent_dim: int, channels: int, image_size: int, hidden: int = 256):
        super().__init__()
        self.shape = (channels, image_size, image_size)
        widths = [latent_dim, hidden, hidden * 2, hidden * 4]
        layers = []
        for w_in, w_out in zip(widths, widths[1:]):
            layers += [nn.Linear(w_in, w_out), nn.BatchNorm1d(w_out), nn.LeakyReLU(0.2, inplace=True)]
        layers += [nn.Linear(widths[-1], math.prod(self.shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def first_block(self, z):
        """The first hidden layer's activations (the latent explorer's principal directions read them)."""
        return self.net[:3](z.flatten(1))

    def forward(self, z):
        return self.net(z.flatten(1)).view(-1, *self.shape)


class MLPDiscriminator(nn.Module):
    def __init__(self, channels: int, image_size: int, hidden: int = 256):
        super().__init__()
        widths = [channels * image_size * image_size, hidden * 4, hidden * 2, hidden]
        layers = []
        for w_in, w_out in zip(widths, widths[1:]):
            layers += [nn.Linear(w_in, w_out), nn.LeakyReLU(0.2, inplace=True), nn.Dropout(0.3)]
        layers.append(nn.Linear(widths[-1], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x.flatten(1)).view(-1)
