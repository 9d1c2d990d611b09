"""CycleGAN (Zhu et al. 2017): unpaired photo <-> Monet translation with two generators and two
PatchGAN discriminators, following the authors' reference implementation.

With x a photo, y a Monet painting, G_monet: x -> y, G_photo: y -> x, and LSGAN throughout:
    loss_G_adv_monet  = (D_monet(G_monet(x)) - 1)^2
    loss_G_adv_photo  = (D_photo(G_photo(y)) - 1)^2
    loss_cycle_photo  = lambda_cycle    * |G_photo(G_monet(x)) - x|_1
    loss_cycle_monet  = lambda_cycle    * |G_monet(G_photo(y)) - y|_1
    loss_idt_monet    = lambda_identity * |G_monet(y) - y|_1
    loss_idt_photo    = lambda_identity * |G_photo(x) - x|_1
    loss_G            = the sum of the six
    loss_D_monet      = 1/2 (D_monet(y) - 1)^2 + 1/2 D_monet(pool_monet(G_monet(x)))^2
    loss_D_photo      = 1/2 (D_photo(x) - 1)^2 + 1/2 D_photo(pool_photo(G_photo(y)))^2
    loss_D            = (loss_D_monet + loss_D_photo) / 2, for run tables
Squares and norms are means over pixels (and patches). One optimizer step = a G step (both
generators, D frozen), then a D step (both discriminators) on fakes drawn through the history
pools, each summed over `accumulation_steps` micro-batches. Data, schedule and inference are
shared with CUT (gan_core.models.translation).
"""
from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from gan_core.diffaugment import diff_augment
from gan_core.ema import EMA
from gan_core.image_pool import ImagePool
from gan_core.losses import d_loss, g_loss
from gan_core.models.base import to_model_range
from gan_core.models.translation import TranslationModel, build_generator
from gan_core.networks.init import dcgan_init
from gan_core.networks.patchgan import PatchGANDiscriminator


class CycleGAN(TranslationModel):
    loss_names = ("loss_G", "loss_G_adv_monet", "loss_G_adv_photo", "loss_cycle_photo", "loss_cycle_monet",
                  "loss_idt_monet", "loss_idt_photo", "loss_D_monet", "loss_D_photo", "loss_D")
    translator_name = "G_monet"

    def __init__(self, cfg, channels, device):
        super().__init__(cfg, channels, device)
        self.G_monet = build_generator(cfg, channels)
        self.G_photo = build_generator(cfg, channels)
        self.D_monet = PatchGANDiscriminator(channels, cfg.ndf, cfg.d_layers, cfg.d_norm)
        self.D_photo = PatchGANDiscriminator(channels, cfg.ndf, cfg.d_layers, cfg.d_norm)
        self.nets = {"G_monet": self.G_monet, "G_photo": self.G_photo,
                     "D_monet": self.D_monet, "D_photo": self.D_photo}
        for net in self.nets.values():
            dcgan_init(net)
            net.to(device)
        self.optimizers = {
            "G": self.adam(itertools.chain(self.G_monet.parameters(), self.G_photo.parameters()), cfg.lr_g),
            "D": self.adam(itertools.chain(self.D_monet.parameters(), self.D_photo.parameters()), cfg.lr_d),
        }
        self.ema = EMA(self.G_monet, cfg.ema_decay) if cfg.ema else None
        self.pools = {"monet": ImagePool(cfg.pool_size), "photo": ImagePool(cfg.pool_size)}

    # --- training -----------------------------------------------------------------------------
    def _augment(self, x):
        return diff_augment(x, self.cfg.diffaugment_policy) if self.cfg.diffaugment else x

    def _generator_losses(self, photo, monet):
        cfg = self.cfg
        fake_monet, fake_photo = self.G_monet(photo), self.G_photo(monet)
        # losses.g_loss is 1/2 (D - 1)^2; the reference's MSE has no 1/2, and lambda_cycle = 10 is
        # tuned against that weight.
        terms = {
            "loss_G_adv_monet": 2 * g_loss(self.D_monet(self._augment(fake_monet)), "lsgan"),
            "loss_G_adv_photo": 2 * g_loss(self.D_photo(self._augment(fake_photo)), "lsgan"),
            "loss_cycle_photo": cfg.lambda_cycle * F.l1_loss(self.G_photo(fake_monet).float(), photo),
            "loss_cycle_monet": cfg.lambda_cycle * F.l1_loss(self.G_monet(fake_photo).float(), monet),
        }
        if cfg.lambda_identity > 0:
            terms["loss_idt_monet"] = cfg.lambda_identity * F.l1_loss(self.G_monet(monet).float(), monet)
            terms["loss_idt_photo"] = cfg.lambda_identity * F.l1_loss(self.G_photo(photo).float(), photo)
        else:  # two generator passes saved
            terms["loss_idt_monet"] = terms["loss_idt_photo"] = torch.zeros((), device=self.device)
        return terms, fake_monet.detach(), fake_photo.detach()

    def _discriminator_loss(self, D, real, fake):
        return d_loss(D(self._augment(real)), D(self._augment(fake)), "lsgan")

    def train_step(self, micro_batches):
        k = len(micro_batches)
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        sums = {name: 0.0 for name in self.loss_names}

        # D's weights get no gradient in the G step: skipping them saves a third of D's backward.
        self.D_monet.requires_grad_(False)
        self.D_photo.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        fakes = []
        for photo, monet in micro_batches:
            with self.autocast():
                terms, fake_monet, fake_photo = self._generator_losses(photo, monet)
            total = sum(terms.values())
            (total / k).backward()
            fakes.append((fake_monet, fake_photo))
            sums["loss_G"] += total.detach() / k
            for name, value in terms.items():
                sums[name] += value.detach() / k
        opt_g.step()
        self.D_monet.requires_grad_(True)
        self.D_photo.requires_grad_(True)

        opt_d.zero_grad(set_to_none=True)
        for (photo, monet), (fake_monet, fake_photo) in zip(micro_batches, fakes):
            with self.autocast():
                loss_monet = self._discriminator_loss(self.D_monet, monet, self.pools["monet"].query(fake_monet))
                loss_photo = self._discriminator_loss(self.D_photo, photo, self.pools["photo"].query(fake_photo))
            ((loss_monet + loss_photo) / k).backward()
            sums["loss_D_monet"] += loss_monet.detach() / k
            sums["loss_D_photo"] += loss_photo.detach() / k
        opt_d.step()
        sums["loss_D"] = (sums["loss_D_monet"] + sums["loss_D_photo"]) / 2
        if self.ema:
            self.ema.update(self.G_monet)
        return sums

    # --- inference ----------------------------------------------------------------------------
    def cycle(self, photos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Photos in [-1, 1] -> (their Monet translations, the photos reconstructed from those)."""
        monet = self.translate(photos)
        return monet, self._run(self.G_photo, monet)

    @torch.no_grad()
    def sample_grid(self):
        photos = to_model_range(self.sheet_photos, self.device)
        monet, reconstructed = self.cycle(photos)
        return torch.stack([photos, monet, reconstructed], dim=1).flatten(0, 1).cpu()

    # --- checkpoint state ---------------------------------------------------------------------
    def extra_state(self) -> dict:
        return {**super().extra_state(), "pools": {k: p.state_dict() for k, p in self.pools.items()}}

    def load_extra_state(self, state: dict) -> None:
        for k, pool in self.pools.items():
            pool.load_state_dict(state["pools"][k], self.device)
