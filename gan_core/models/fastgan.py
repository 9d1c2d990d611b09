"""FastGAN on the one trainer: a noise model like DCGAN (same data, step, sampling, EMA, export and
latent explorer), with gan_core.networks.fastgan's networks and D's self-supervised loss.

D's objective adds lambda_rec x the MSE of its three reconstructions of the augmented real image
(whole, a random quarter, half size) from its own 8x8 and 16x16 features. The reference uses LPIPS
for these; no perceptual weights can be had offline here, so it is plain MSE (as in
lucidrains/lightweight-gan's auxiliary reconstruction). Reported besides DCGAN's: loss_rec.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gan_core.losses import d_loss
from gan_core.models.noise_gan import NoiseGAN
from gan_core.networks.fastgan import FastGANDiscriminator, FastGANGenerator


class FastGAN(NoiseGAN):
    loss_names = ("loss_d", "loss_g", "loss_rec")

    @staticmethod
    def preferred_memory_format(cfg) -> torch.memory_format:
        """Contiguous: channels-last BatchNorm in bf16 takes a slow CPU path (its forward and backward
        4.8x the contiguous one at 8x64x64x64): the preview's bf16 step ran 1.36x faster contiguous and
        with fused Adam, and faster contiguous in fp32 too (bench/RESULTS.md)."""
        return torch.contiguous_format

    @staticmethod
    def build_networks(cfg, channels):
        return (FastGANGenerator(cfg.latent_dim, channels, cfg.image_size, cfg.ngf),
                FastGANDiscriminator(channels, cfg.image_size, cfg.ndf, cfg.rec_width))

    def d_objective(self, real, fake):
        part = int(torch.randint(4, ()))  # the quarter decoded this step (global RNG: resumes exactly)
        real_logits, recs, targets = self.D(self._augment(real), reconstruct=True, part=part)
        fake_logits = self.D(self._augment(fake))
        adversarial = d_loss(real_logits, fake_logits, self.cfg.loss, self.cfg.label_smoothing)
        rec = sum(F.mse_loss(r.float(), t.float()) for r, t in zip(recs, targets))
        return adversarial + self.cfg.lambda_rec * rec, real_logits, fake_logits, {"loss_d": adversarial,
                                                                                   "loss_rec": rec}
