"""What a dataset scan found: usable images per domain, and every file skipped or converted."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class InspectionReport:
    source: str                 # the path given
    kind: str                   # competition | zip | tfrec | folder | mnist
    image_size: int             # square resolution the images were decoded to
    channels: int
    counts: dict[str, int] = field(default_factory=dict)               # usable images per domain
    skipped: list[tuple[str, str]] = field(default_factory=list)       # (name, reason)
    converted: list[tuple[str, str]] = field(default_factory=list)     # (name, what was converted)
    resized: int = 0            # images whose size was not image_size x image_size
    original_sizes: dict[str, int] = field(default_factory=dict)       # "WxH" of the files -> images

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict:
        return {**asdict(self), "total": self.total}

    @classmethod
    def from_dict(cls, values: dict) -> "InspectionReport":
        values = {k: v for k, v in values.items() if k != "total"}
        return cls(**{**values, "skipped": [tuple(s) for s in values["skipped"]],
                      "converted": [tuple(c) for c in values["converted"]]})

    def to_text(self, limit: int = 20) -> str:
        lines = [f"{self.source} ({self.kind}), decoded at {self.image_size}x{self.image_size}, "
                 f"{self.channels} channel{'s' if self.channels > 1 else ''}",
                 f"usable images: {self.total}"]
        lines += [f"  {domain}: {count}" for domain, count in sorted(self.counts.items())]
        sizes = sorted(self.original_sizes.items(), key=lambda kv: -kv[1])
        lines.append(f"resized: {self.resized}" + (f" (original sizes: {', '.join(f'{k} x{v}' for k, v in sizes[:5])}"
                                                   f"{', ...' if len(sizes) > 5 else ''})" if sizes else ""))
        for title, entries in (("converted", self.converted), ("skipped", self.skipped)):
            lines.append(f"{title}: {len(entries)}")
            lines += [f"  {name}: {what}" for name, what in entries[:limit]]
            if len(entries) > limit:
                lines.append(f"  ... and {len(entries) - limit} more (--json lists all)")
        return "\n".join(lines)
