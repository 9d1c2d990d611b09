"""The decoded dataset as the trainer, export and studio see it."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gan_core.data.cache import domain_rows
from gan_core.data.errors import EmptyDatasetError
from gan_core.data.report import InspectionReport

DOMAINLESS = ("images", "digits")  # sources without monet/photo domains


@dataclass
class ImageSet:
    images: torch.Tensor      # uint8 [N, C, H, W]
    names: list[str]          # relative names, e.g. "monet_jpg/000c1e3bff.jpg"
    domains: list[str]        # per image: monet | photo | images | digits
    report: InspectionReport
    source: str               # the path given

    def __len__(self) -> int:
        return len(self.images)

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    @property
    def domain_names(self) -> list[str]:
        return sorted(set(self.domains))

    def select(self, domain: str) -> "ImageSet":
        """The images of one domain. "all", and any domain asked of a source without domains (a
        plain folder, MNIST), return the whole set."""
        present = self.domain_names
        if domain == "all" or (domain not in present and set(present) <= set(DOMAINLESS)):
            return self
        indices, rows = domain_rows(self.domains, domain)
        if not indices:
            raise EmptyDatasetError(f"no {domain!r} images in {self.source}: it holds {', '.join(present)}")
        return ImageSet(self.images[rows], [self.names[i] for i in indices], [domain] * len(indices), self.report,
                        self.source)
