"""The decoded dataset as the trainer, export and studio see it."""
from __future__ import annotations

from dataclasses import dataclass

import torch

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
        indices = [i for i, d in enumerate(self.domains) if d == domain]
        if not indices:
            raise EmptyDatasetError(f"no {domain!r} images in {self.source}: it holds {', '.join(present)}")
        first, last = indices[0], indices[-1]
        # Domains are stored contiguously, so this is normally a view, not a copy.
        images = (self.images[first:last + 1] if last - first + 1 == len(indices)
                  else self.images[torch.tensor(indices)])
        return ImageSet(images, [self.names[i] for i in indices], [domain] * len(indices), self.report,
                        self.source)
