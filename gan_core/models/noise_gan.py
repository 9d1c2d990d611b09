"""GANs from noise: the MLP GAN and DCGAN share one formulation, differing only in networks.

One optimizer step = a D step on real and generated images, then a G step that reuses the same
generated images (as the PyTorch DCGAN tutorial does), each summed over `accumulation_steps`
micro-batches. Reported: loss_d, loss_g, d_x = mean sigmoid(D(x)), d_g_z1 = mean sigmoid(D(G(z)))
before D's update, d_g_z2 = the same after D's update (what G is trained against).
"""
from __future__ import annotations

import torch

from gan_core.diffaugment import diff_augment
from gan_core.ema import EMA, standing_statistics
from gan_core.losses import d_loss, g_loss
from gan_core.models.base import GANModel, eval_mode, random_flip, seeded_generator, to_model_range
from gan_core.networks.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_core.networks.init import dcgan_init
from gan_core.networks.mlp import MLPDiscriminator, MLPGenerator


STANDING_BATCHES, STANDING_BATCH = 4, 64


class NoiseGAN(GANModel):
    loss_names = ("loss_d", "loss_g")
    #: recompute the EMA generator's BatchNorm statistics before it is used (False: live G's, copied)
    standing_statistics = True

    def __init__(self, cfg, channels, device):
        super().__init__(cfg, channels, device)
        G, D = self.build_networks(cfg, channels)
        self.memory_format = self.preferred_memory_format(cfg)
        self.G = G.to(device, memory_format=self.memory_format)
        self.D = D.to(device, memory_format=self.memory_format)
        self.nets = {"G": self.G, "D": self.D}
        self.optimizers = {"G": self.adam(G.parameters(), cfg.lr_g), "D": self.adam(D.parameters(), cfg.lr_d)}
        self.ema = EMA(self.G, cfg.ema_decay) if cfg.ema else None
        self.fixed_z = torch.randn(cfg.num_samples, cfg.latent_dim,
                                   generator=seeded_generator(cfg.seed, 7)).to(device)
        self.images = None
        self._statistics_at = None

    @staticmethod
    def preferred_memory_format(cfg) -> torch.memory_format:
        """DCGAN's convolutions run faster channels-last on CPUs (oneDNN) and GPU tensor cores: its
        step measured 1.10x faster in fp32 and 1.22x in bf16 on 2 CPU cores here. Models with
        another preference (FastGAN) override this."""
        return torch.channels_last if cfg.model != "mlp" else torch.contiguous_format

    @staticmethod
    def build_networks(cfg, channels):
        if cfg.model == "mlp":
            return (MLPGenerator(cfg.latent_dim, channels, cfg.image_size, cfg.mlp_hidden),
                    MLPDiscriminator(channels, cfg.image_size, cfg.mlp_hidden))
        G = DCGANGenerator(cfg.latent_dim, channels, cfg.image_size, cfg.ngf, cfg.upsample)
        D = DCGANDiscriminator(channels, cfg.image_size, cfg.ndf, cfg.d_head)
        dcgan_init(G)
        dcgan_init(D)
        return G, D

    def distribute(self, rank, world_size):
        if world_size > 1 and self.cfg.accumulation_steps > 1:
            raise ValueError("--accumulation-steps above 1 is not supported with several processes for MLP/DCGAN: "
                             "G's forward passes happen in the D step and its backward passes in the G step, so "
                             "DistributedDataParallel would average only the first micro-batch's gradients. Raise "
                             "--batch-size (per process) or the number of processes instead")
        super().distribute(rank, world_size)

    def attach_data(self, images) -> None:
        self.images = images.images
        n = self.shard_size(len(images))
        if n < self.cfg.batch_size:
            raise ValueError(f"batch_size={self.cfg.batch_size} is larger than the {n} training images "
                             f"in {images.source}{' per process' if self.world_size > 1 else ''}: "
                             f"lower --batch-size")
        self.plan(n // self.cfg.batch_size)
        self._order_epoch = None

    def micro_batch(self, epoch, index):
        if self._order_epoch != epoch:
            self._order = self.shard(torch.randperm(len(self.images),
                                                    generator=seeded_generator(self.cfg.seed, epoch)))
            self._order_epoch = epoch
        b = self.cfg.batch_size
        idx = self._order[index * b:(index + 1) * b].sort().values
        real = to_model_range(self.images[idx], self.device).contiguous(memory_format=self.memory_format)
        return random_flip(real, seeded_generator(self.cfg.seed, epoch, index, 1))

    def _augment(self, x):
        return diff_augment(x, self.cfg.diffaugment_policy) if self.cfg.diffaugment else x

    def generator(self):
        """The generator samples, probes and exports use: the EMA one (with BatchNorm statistics
        measured for its own weights, recomputed whenever the average moved), else G."""
        if not self.ema:
            return self.nets["G"]
        if self.standing_statistics and self._statistics_at != self.ema.updates:
            gen = seeded_generator(self.cfg.seed, 11)  # fixed noise: no draw from the training RNG
            batches = (torch.randn(STANDING_BATCH, self.cfg.latent_dim, generator=gen).to(self.device)
                       for _ in range(STANDING_BATCHES))
            with self.autocast():
                standing_statistics(self.ema.model, batches)
            self._statistics_at = self.ema.updates
        return self.ema.model

    def d_objective(self, real, fake):
        """D's loss on a micro-batch, its logits on real and fake, and the terms to report."""
        real_logits = self.D(self._augment(real))
        fake_logits = self.D(self._augment(fake))
        loss = d_loss(real_logits, fake_logits, self.cfg.loss, self.cfg.label_smoothing)
        return loss, real_logits, fake_logits, {"loss_d": loss}

    def train_step(self, micro_batches):
        cfg, k = self.cfg, len(micro_batches)
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        sums = dict(loss_d=0.0, loss_g=0.0, d_x=0.0, d_g_z1=0.0, d_g_z2=0.0)

        opt_d.zero_grad(set_to_none=True)
        fakes = []
        for real in micro_batches:
            z = torch.randn(real.size(0), cfg.latent_dim, device=self.device)
            with self.autocast():
                fake = self.G(z)
                loss, real_logits, fake_logits, terms = self.d_objective(real, fake.detach())
            (loss / k).backward()
            fakes.append(fake)
            for name, value in terms.items():
                sums[name] = sums.get(name, 0.0) + value.detach() / k
            sums["d_x"] += torch.sigmoid(real_logits.detach().float()).mean() / k
            sums["d_g_z1"] += torch.sigmoid(fake_logits.detach().float()).mean() / k
        opt_d.step()

        # D's weights get no gradient in the G step: skipping them saves a third of D's backward.
        self.D.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        for fake in fakes:
            with self.autocast():
                # The bare D (not its DDP wrapper): a wrapped forward would arm DDP for D
                # gradients that this backward never produces.
                logits = self.nets["D"](self._augment(fake))
                loss = g_loss(logits, cfg.loss)
            (loss / k).backward()
            sums["loss_g"] += loss.detach() / k
            sums["d_g_z2"] += torch.sigmoid(logits.detach().float()).mean() / k
        opt_g.step()
        self.D.requires_grad_(True)
        if self.ema:
            self.ema.update(self.nets["G"])
        return sums

    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] from the EMA generator (or G), in eval mode."""
        with eval_mode(self.generator()) as G:
            return G(z.to(self.device)).float()

    @torch.no_grad()
    def sample_grid(self):
        return self.generate(self.fixed_z).cpu()
