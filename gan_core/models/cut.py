"""CUT and FastCUT (Park et al. 2020): one-sided photo -> Monet translation with PatchNCE, following
the reference implementation (taesungp/contrastive-unpaired-translation). One model; FastCUT is
CUT with other defaults (gan_core.config.MODEL_DEFAULTS): lambda_nce 10, no identity term,
flip-equivariance.

With x a photo, y a Monet painting, G: x -> y, a 70x70 PatchGAN D and LSGAN:
    loss_D       = 1/2 (D(y) - 1)^2 + 1/2 D(G(x))^2
    loss_G_GAN   = lambda_gan * (D(G(x)) - 1)^2
    loss_NCE     = lambda_nce * mean over layers of PatchNCE(features of G(x), features of x)
    loss_NCE_Y   = the same for G(y) against y (identity, when nce_idt)
    loss_G       = loss_G_GAN + loss_NCE, or loss_G_GAN + (loss_NCE + loss_NCE_Y) / 2 with nce_idt
Features are G's own encoder activations (nce_layers), projected by one MLP head per layer (F).
One optimizer step = a D step, then a G and F step on the same translations (the reference's
order), each summed over `accumulation_steps` micro-batches. With flip_equivariance, half the
steps translate mirrored inputs and compare the output's features mirrored back.
"""
from __future__ import annotations

import torch

from gan_core.diffaugment import diff_augment
from gan_core.ema import EMA
from gan_core.losses import d_loss, g_loss
from gan_core.models.base import to_model_range
from gan_core.models.translation import TranslationModel, build_generator
from gan_core.networks.init import dcgan_init
from gan_core.networks.patchgan import PatchGANDiscriminator
from gan_core.patchnce import PatchSampler, patch_nce_loss


def nce_layer_ids(cfg, G) -> list[int]:
    if cfg.nce_layers == "auto":
        return G.default_nce_layers()
    layers = sorted({int(p) for p in cfg.nce_layers.split(",")})
    if layers[-1] >= G.encoder_depth():
        raise ValueError(f"nce_layers={cfg.nce_layers!r}: this {cfg.generator} generator's encoder has layers "
                         f"0 to {G.encoder_depth() - 1}; use auto or smaller indices")
    return layers


class CUT(TranslationModel):
    loss_names = ("loss_G", "loss_G_GAN", "loss_NCE", "loss_NCE_Y", "loss_D", "loss_D_real", "loss_D_fake")

    def __init__(self, cfg, channels, device):
        super().__init__(cfg, channels, device)
        self.G = build_generator(cfg, channels)
        self.D = PatchGANDiscriminator(channels, cfg.ndf, cfg.d_layers, cfg.d_norm)
        self.nce_layers = nce_layer_ids(cfg, self.G)
        self.F = PatchSampler(self._feature_channels(channels), cfg.nce_dim)
        self.nets = {"G": self.G, "D": self.D, "F": self.F}
        for net in self.nets.values():
            dcgan_init(net)
            net.to(device)
        # Under torchrun G and F are always called unwrapped and average their gradients themselves
        # (GANModel.average_gradients): G is forwarded in the D step and PatchNCE calls G's encoder
        # and F several times per backward. D goes through its DDP wrapper, as in NoiseGAN.
        self.optimizers = {
            "G": self.adam(list(self.G.parameters()) + list(self.F.parameters()), cfg.lr_g),
            "D": self.adam(self.D.parameters(), cfg.lr_d),
        }
        self.ema = EMA(self.G, cfg.ema_decay) if cfg.ema else None

    @torch.no_grad()
    def _feature_channels(self, channels: int) -> list[int]:
        size = self.G.size_multiple * max(1, 32 // self.G.size_multiple)
        probe = torch.zeros(1, channels, size, size)
        return [f.size(1) for f in self.G.encode(probe, self.nce_layers)]

    # --- training -----------------------------------------------------------------------------
    def _augment(self, x):
        return diff_augment(x, self.cfg.diffaugment_policy) if self.cfg.diffaugment else x

    def _nce(self, source: torch.Tensor, output: torch.Tensor, flipped: bool) -> torch.Tensor:
        """lambda_nce x PatchNCE between the output's and its source's features, averaged over layers."""
        cfg, G = self.cfg, self.nets["G"]
        feat_q = G.encode(output, self.nce_layers)
        if flipped:
            feat_q = [f.flip(-1) for f in feat_q]
        feat_k = G.encode(source, self.nce_layers)
        keys, ids = self.nets["F"](feat_k, cfg.nce_patches)
        queries, _ = self.nets["F"](feat_q, cfg.nce_patches, ids)
        losses = [patch_nce_loss(q, k, source.size(0), cfg.nce_temperature) for q, k in zip(queries, keys)]
        return cfg.lambda_nce * torch.stack(losses).mean()

    def _translate_for_training(self, photo, monet):
        """G over the photos (and the paintings, for the identity term) in one batch."""
        flipped = self.cfg.flip_equivariance and bool(torch.rand(()) < 0.5)
        real = torch.cat([photo, monet]) if self.cfg.nce_idt else photo
        if flipped:
            real = real.flip(-1)
        fake = self.nets["G"](real)
        return fake[:photo.size(0)], fake[photo.size(0):], flipped

    def train_step(self, micro_batches):
        cfg, k = self.cfg, len(micro_batches)
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        sums = {name: 0.0 for name in self.loss_names}

        opt_d.zero_grad(set_to_none=True)
        translated = []
        for photo, monet in micro_batches:
            with self.autocast():
                fake, idt, flipped = self._translate_for_training(photo, monet)
                real_logits = self.D(self._augment(monet))
                fake_logits = self.D(self._augment(fake.detach()))
                loss = d_loss(real_logits, fake_logits, "lsgan")
            (loss / k).backward()
            translated.append((fake, idt, flipped))
            sums["loss_D"] += loss.detach() / k
            sums["loss_D_real"] += 0.5 * ((real_logits.detach().float() - 1) ** 2).mean() / k
            sums["loss_D_fake"] += 0.5 * (fake_logits.detach().float() ** 2).mean() / k
        opt_d.step()

        # D's weights get no gradient in the G step; the bare D, not a DDP wrapper, as in NoiseGAN.
        self.nets["D"].requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        for (photo, monet), (fake, idt, flipped) in zip(micro_batches, translated):
            with self.autocast():
                # losses.g_loss is 1/2 (D - 1)^2; the reference's MSE has no 1/2.
                adv = cfg.lambda_gan * 2 * g_loss(self.nets["D"](self._augment(fake)), "lsgan")
                nce = self._nce(photo, fake, flipped) if cfg.lambda_nce > 0 else torch.zeros((), device=self.device)
                if cfg.nce_idt and cfg.lambda_nce > 0:
                    nce_y = self._nce(monet, idt, flipped)
                    total = adv + (nce + nce_y) / 2
                else:
                    nce_y = torch.zeros((), device=self.device)
                    total = adv + nce
            (total / k).backward()
            for name, value in (("loss_G", total), ("loss_G_GAN", adv), ("loss_NCE", nce), ("loss_NCE_Y", nce_y)):
                sums[name] += value.detach() / k
        self.average_gradients(self.nets["G"], self.nets["F"])
        opt_g.step()
        self.nets["D"].requires_grad_(True)
        if self.ema:
            self.ema.update(self.nets["G"])
        return sums

    # --- inference ----------------------------------------------------------------------------
    @torch.no_grad()
    def sample_grid(self):
        """Rows of (photo, its Monet translation)."""
        photos = to_model_range(self.sheet_photos, self.device)
        return torch.stack([photos, self.translate(photos)], dim=1).flatten(0, 1).cpu()
