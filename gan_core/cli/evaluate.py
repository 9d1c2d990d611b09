"""`python -m gan_core evaluate --images PATH [--reference PATH] [--max-images N] [--json]`."""
from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="score generated images: FID, KID, MiFID, memorisation")
    p.add_argument("--images", required=True, help="folder or zip of generated images")
    p.add_argument("--reference", default=None, help="folder or zip of reference images "
                                                     "(default: $GAN_STUDIO_DATA/monet_jpg)")
    p.add_argument("--max-images", type=int, default=None,
                   help="score a random subset of N images: a quick estimate, not the full score")
    p.add_argument("--weights", default=None, help="Inception weights in torch-fidelity's layout")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--inception-score", action="store_true",
                   help="also the Inception Score (needs torch-fidelity's own weights, with the classifier)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.set_defaults(func=run)


def run(args) -> int:
    from gan_core.cli.common import cli_job
    from gan_core.metrics import evaluate

    with cli_job("features") as (callbacks, control):
        result = evaluate(args.images, args.reference, max_images=args.max_images, callbacks=callbacks,
                          control=control, device=args.device, weights=args.weights,
                          inception_score=args.inception_score)
    if args.json:
        print(json.dumps(result))
        return 0
    scope = f"estimate on {result['n_generated']} images" if result["estimate"] else f"{result['n_generated']} images"
    print(f"fid                    {result['fid']:.4f}  ({scope})")
    print(f"kid_mean               {result['kid_mean']:.6f}")
    print(f"kid_std                {result['kid_std']:.6f}")
    print(f"mifid                  {result['mifid']:.4f}")
    print(f"memorisation distance  {result['memorisation_distance']:.4f}")
    if "inception_score_mean" in result:
        print(f"inception score        {result['inception_score_mean']:.4f} ± {result['inception_score_std']:.4f}")
    print(f"reference              {result['reference']} ({result['n_reference']} images)")
    print(f"feature extractor      {result['feature_extractor']}")
    for what, skipped in result["skipped"].items():
        if skipped:
            first = skipped[0]
            print(f"skipped                {len(skipped)} unreadable {what} file(s), left out of the score; "
                  f"first: {first['name']}: {first['reason']}")
    for pair in result["memorisation"][:3]:
        print(f"closest pair           {pair['generated']} ~ {pair['reference']} ({pair['distance']:.4f})")
    return 0
