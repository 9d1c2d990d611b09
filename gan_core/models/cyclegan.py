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
pools, each summed over `accumulation_steps` micro-batches.
"""
from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from gan_core.diffaugment import diff_augment
from gan_core.ema import EMA
from gan_core.image_pool import ImagePool
from gan_core.losses import d_loss, g_loss
from gan_core.models.base import GANModel, linear_decay, random_flip, seeded_generator, to_model_range
from gan_core.networks.init import dcgan_init
from gan_core.networks.patchgan import PatchGANDiscriminator
from gan_core.networks.resnet_generator import ResnetGenerator

# The sample sheet: rows of (photo, its Monet translation, the photo reconstructed from that).
# 4 photos make 12 images, which the trainer's grid (sqrt(12) -> 3 per row) lays out as 4 rows.
SHEET_PHOTOS = 4
# Random jitter: resize to 286 and crop 256 in the paper, scaled to the training size.
JITTER_RATIO = 286 / 256


def jitter(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Upscale the batch to round(size * 286/256), crop a random size x size window per image."""
    n, _, size, _ = x.shape
    load = round(size * JITTER_RATIO)
    big = F.interpolate(x, size=(load, load), mode="bicubic", align_corners=False).clamp_(-1, 1)
    tops, lefts = torch.randint(0, load - size + 1, (2, n), generator=gen).tolist()
    return torch.stack([big[i, :, t:t + size, l:l + size] for i, (t, l) in enumerate(zip(tops, lefts))])


class CycleGAN(GANModel):
    loss_names = ("loss_G", "loss_G_adv_monet", "loss_G_adv_photo", "loss_cycle_photo", "loss_cycle_monet",
                  "loss_idt_monet", "loss_idt_photo", "loss_D_monet", "loss_D_photo", "loss_D")

    def __init__(self, cfg, channels, device):
        super().__init__(cfg, channels, device)
        if cfg.scheduler == "plateau":
            raise ValueError("CycleGAN keeps the learning rate constant, then decays it linearly over "
                             "--decay-epochs; --scheduler plateau is not supported")
        self.G_monet = ResnetGenerator(channels, cfg.ngf, cfg.n_blocks)
        self.G_photo = ResnetGenerator(channels, cfg.ngf, cfg.n_blocks)
        self.D_monet = PatchGANDiscriminator(channels, cfg.ndf)
        self.D_photo = PatchGANDiscriminator(channels, cfg.ndf)
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
        self.sheet_photos: torch.Tensor | None = None

    # --- data ---------------------------------------------------------------------------------
    def attach_data(self, images) -> None:
        cfg = self.cfg
        if not {"monet", "photo"} <= set(images.domains):
            raise ValueError(f"CycleGAN needs Monet paintings and photos, but {images.source} holds "
                             f"{', '.join(sorted(set(images.domains)))}: point --data at the competition "
                             f"folder or zip (monet_jpg/ and photo_jpg/)")
        self.monet, self.photo = images.select("monet").images, images.select("photo").images
        epoch_size = cfg.epoch_size or len(self.monet)
        if epoch_size < cfg.batch_size * cfg.accumulation_steps:
            raise ValueError(f"an epoch of {epoch_size} pairs is smaller than one optimizer step "
                             f"(batch_size x accumulation_steps): lower --batch-size or raise --epoch-size")
        self.plan(self.shard_size(epoch_size) // cfg.batch_size)
        if cfg.decay_epochs > 0:
            decay = linear_decay(self.total_steps, cfg.decay_epochs * self.steps_per_epoch)
            self.schedulers = {k: torch.optim.lr_scheduler.LambdaLR(o, decay) for k, o in self.optimizers.items()}
        pick = torch.randperm(len(self.photo), generator=seeded_generator(cfg.seed, 13))[:SHEET_PHOTOS]
        self.sheet_photos = self.photo[pick.sort().values].to(self.device)
        self._monet_perm_epoch = None

    def _monet_order(self, epoch: int) -> torch.Tensor:
        """The epoch's Monet indices: shuffled passes over the paintings, as many as the epoch needs."""
        if self._monet_perm_epoch != epoch:
            needed = self.steps_per_epoch * self.cfg.accumulation_steps * self.cfg.batch_size * self.world_size
            gen = seeded_generator(self.cfg.seed, 2, epoch)
            passes = -(-needed // len(self.monet))
            order = torch.cat([torch.randperm(len(self.monet), generator=gen) for _ in range(passes)])
            self._monet_perm = self.shard(order[:needed])
            self._monet_perm_epoch = epoch
        return self._monet_perm

    def micro_batch(self, epoch, index):
        """(photos, Monet paintings), unaligned: the epoch's next paintings and random photos, each
        jittered and flipped on the batch."""
        b = self.cfg.batch_size
        # Under torchrun each rank draws its own photos; one process keeps the single-process keys.
        rank_keys = (self.rank,) if self.world_size > 1 else ()
        gen = seeded_generator(self.cfg.seed, 3, epoch, index, *rank_keys)
        monet_idx = self._monet_order(epoch)[index * b:(index + 1) * b]
        photo_idx = torch.randint(len(self.photo), (b,), generator=gen)
        return tuple(random_flip(jitter(to_model_range(images[idx], self.device), gen), gen)
                     for images, idx in ((self.photo, photo_idx), (self.monet, monet_idx)))

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
    @torch.no_grad()
    def _run(self, G, x: torch.Tensor) -> torch.Tensor:
        was_training = G.training
        G.eval()
        try:
            with self.autocast():
                return G(x.to(self.device)).float()
        finally:
            G.train(was_training)

    def translate(self, photos: torch.Tensor) -> torch.Tensor:
        """Photos in [-1, 1] -> Monet-style images in [-1, 1] (the EMA generator when kept)."""
        return self._run(self.ema.model if self.ema else self.G_monet, photos)

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
        return {"pools": {k: p.state_dict() for k, p in self.pools.items()},
                "sheet_photos": self.sheet_photos.cpu()}

    def load_extra_state(self, state: dict) -> None:
        for k, pool in self.pools.items():
            pool.load_state_dict(state["pools"][k], self.device)

    def load_state_dict(self, state: dict, inference_only: bool = False) -> None:
        super().load_state_dict(state, inference_only)
        # The sheet's photos travel with the weights, so a loaded run draws its sheet without the data.
        self.sheet_photos = state["extra"]["sheet_photos"].to(self.device)
