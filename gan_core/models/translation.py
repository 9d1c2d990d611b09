"""What the photo -> Monet models (CycleGAN, CUT, FastCUT) share: the unaligned data, the
generator choice, inference and the sample sheet.

An epoch is `epoch_size` (photo, painting) pairs (default: the 300 paintings). Each domain is
drawn in shuffled passes, so with --epoch-size 7038 every photo is seen once an epoch while the
paintings repeat; pairs are unaligned. Each image is jittered (resize by `jitter`, random crop of
`crop_size`, else of the image size) and mirrored (`flip`) on the batch.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gan_core.models.base import GANModel, eval_mode, random_flip, seeded_generator, to_model_range
from gan_core.networks.resnet_generator import ResnetGenerator
from gan_core.networks.unet_generator import UnetGenerator

# Photos in the sample sheet; each makes one row of the sheet.
SHEET_PHOTOS = 4


def build_generator(cfg, channels: int):
    if cfg.generator == "unet":
        return UnetGenerator(channels, cfg.ngf, cfg.train_size, cfg.upsample, cfg.unet_depth, cfg.unet_padding)
    return ResnetGenerator(channels, cfg.ngf, cfg.n_blocks, cfg.upsample)


def jitter(x: torch.Tensor, ratio: float, gen: torch.Generator, crop: int = 0) -> torch.Tensor:
    """Upscale the batch to round(side * ratio), crop a random crop x crop window (default: the
    side) per image."""
    n, _, side, _ = x.shape
    crop = crop or side
    load = round(side * ratio)
    if load <= crop:
        return x
    if load > side:
        x = F.interpolate(x, size=(load, load), mode="bicubic", align_corners=False).clamp_(-1, 1)
    tops, lefts = torch.randint(0, load - crop + 1, (2, n), generator=gen).tolist()
    return torch.stack([x[i, :, t:t + crop, l:l + crop] for i, (t, l) in enumerate(zip(tops, lefts))])


def shuffled_passes(n: int, needed: int, gen: torch.Generator) -> torch.Tensor:
    """`needed` indices: concatenated random permutations of range(n)."""
    passes = -(-needed // n)
    return torch.cat([torch.randperm(n, generator=gen) for _ in range(passes)])[:needed]


class TranslationModel(GANModel):
    #: the generator that makes paintings from photos, and its net name
    translator_name = "G"

    @property
    def ema_net(self) -> str:
        return self.translator_name

    def __init__(self, cfg, channels, device):
        super().__init__(cfg, channels, device)
        self.sheet_photos: torch.Tensor | None = None

    # --- data ---------------------------------------------------------------------------------
    def attach_data(self, images) -> None:
        cfg = self.cfg
        if not {"monet", "photo"} <= set(images.domains):
            raise ValueError(f"{cfg.model} needs Monet paintings and photos, but {images.source} holds "
                             f"{', '.join(sorted(set(images.domains)))}: point --data at the competition "
                             f"folder or zip (monet_jpg/ and photo_jpg/)")
        self.monet, self.photo = images.select("monet").images, images.select("photo").images
        epoch_size = cfg.epoch_size or len(self.monet)
        if epoch_size < cfg.batch_size * cfg.accumulation_steps:
            raise ValueError(f"an epoch of {epoch_size} pairs is smaller than one optimizer step "
                             f"(batch_size x accumulation_steps): lower --batch-size or raise --epoch-size")
        self.plan(self.shard_size(epoch_size) // cfg.batch_size)
        pick = torch.randperm(len(self.photo), generator=seeded_generator(cfg.seed, 13))[:SHEET_PHOTOS]
        self.sheet_photos = self.photo[pick.sort().values].to(self.device)
        self._order_epoch = None

    def _orders(self, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The epoch's (photo, Monet) indices for this process."""
        if self._order_epoch != epoch:
            needed = self.steps_per_epoch * self.cfg.accumulation_steps * self.cfg.batch_size * self.world_size
            self._photo_order = self.shard(shuffled_passes(len(self.photo), needed,
                                                           seeded_generator(self.cfg.seed, 4, epoch)))
            self._monet_order = self.shard(shuffled_passes(len(self.monet), needed,
                                                           seeded_generator(self.cfg.seed, 2, epoch)))
            self._order_epoch = epoch
        return self._photo_order, self._monet_order

    def micro_batch(self, epoch, index):
        """(photos, Monet paintings), unaligned, each jittered and flipped on the batch."""
        b = self.cfg.batch_size
        gen = seeded_generator(self.cfg.seed, 3, epoch, index, self.rank)
        photo_order, monet_order = self._orders(epoch)
        window = slice(index * b, (index + 1) * b)
        return tuple(self._augment_input(to_model_range(images[order[window]], self.device), gen)
                     for images, order in ((self.photo, photo_order), (self.monet, monet_order)))

    def _augment_input(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        x = jitter(x, self.cfg.jitter, gen, self.cfg.crop_size)
        return random_flip(x, gen) if self.cfg.flip else x

    # --- inference ----------------------------------------------------------------------------
    @torch.no_grad()
    def _run(self, G, x: torch.Tensor) -> torch.Tensor:
        """Inference in the caller's precision: export and translate choose bf16 or fp32 themselves
        (the run's own --bf16 was a training setting)."""
        with eval_mode(G):
            return G(x.to(self.device)).float()

    def translator(self):
        return self.ema.model if self.ema else self.nets[self.translator_name]

    def translate(self, photos: torch.Tensor) -> torch.Tensor:
        """Photos in [-1, 1] -> Monet-style images in [-1, 1] (the EMA generator when kept). Any
        size the generator takes: a multiple of its `size_multiple`."""
        return self._run(self.translator(), photos)

    # --- checkpoint state ---------------------------------------------------------------------
    def extra_state(self) -> dict:
        return {"sheet_photos": self.sheet_photos.cpu()}

    def load_state_dict(self, state: dict, inference_only: bool = False) -> None:
        super().load_state_dict(state, inference_only)
        # The sheet's photos travel with the weights, so a loaded run draws its sheet without the data.
        self.sheet_photos = state["extra"]["sheet_photos"].to(self.device)
