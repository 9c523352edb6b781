#!/usr/bin/env python3
"""PyTorch peer of vitrine's training step, for comparing throughput with the Rust (burn) model.

What it measures
----------------
Training throughput of the SAME network as ``src/ml/model.rs`` (and the optimiser of
``src/ml/training.rs``), on synthetic data: every iteration is one forward pass, the loss,
one backward pass and one SGD step, over a batch of ``--batch`` products with
``--images-per-product`` images each. It reports training images per second
(images = products x images-per-product) and seconds per iteration, averaged over
``--iters`` timed iterations after ``--warmup`` untimed ones. Data loading is not measured:
the random images and labels are made once, on the device, before timing.

The network (mirrors src/ml/model.rs)
-------------------------------------
* images ``[P*K, 3, S, S]`` float32, random normal; labels random ints per task.
* backbone ``small``: 4 x [Conv2d 3x3 s1 p1 (no bias) -> BatchNorm2d -> ReLU -> MaxPool2d(2, 2)],
  channels 3->16->32->64->128, then AdaptiveAvgPool2d(1) -> 128 features.
* backbone ``zfnet`` (ZFNet with batch norm instead of LRN), Conv (no bias) -> BN -> ReLU -> pool:
  3->96 k7 s2 p1, maxpool k3 s2 p1; 96->256 k5 s2 p0, maxpool k3 s2 p1; 256->384 k3 s1 p1;
  384->384 k3 s1 p1; 384->256 k3 s1 p1, maxpool k3 s2 p0; AdaptiveAvgPool2d(6) -> 9216 features
  (at 224 px: 110 -> 55 -> 26 -> 13 -> 13 -> 13 -> 6, as in ZFNet).
* pre-pooling dense: Linear(features -> 512 small / 4096 zfnet) -> ReLU -> Dropout(0.5).
* element-wise max over each product's K images: ``[P*K, W] -> [P, K, W] -> max over K``.
* post-pooling: Linear(W -> 1024) -> ReLU -> Dropout(0.5) -> Linear(1024 -> 1024) -> ReLU
  (the representation), then Dropout(0.5).
* five heads Linear(1024 -> C) with C = 5, 46, 7, 45, 143 (gender, colour, type, category,
  subcategory, as in the Myntra catalogue).
* loss: mean over the five tasks of the cross-entropy (each a mean over the products).
* optimiser: SGD(lr=0.01, momentum=0.9, dampening=0, weight_decay=5e-4); ``model.train()``.

How to run
----------
    python3 benches/torch_peer.py --backbone small --image-size 64 --batch 32 \\
        --images-per-product 1 --iters 20 --warmup 3 --device cpu --threads 2 --json
    python3 benches/torch_peer.py --backbone zfnet --image-size 224 --batch 8 \\
        --images-per-product 1 --iters 5 --warmup 1 --device cuda

On CUDA the clock is read only after ``torch.cuda.synchronize()``. ``--threads`` sets
``torch.set_num_threads`` (intra-op CPU threads; 0 keeps PyTorch's default). Needs only
PyTorch; no internet, no data set.
"""

import argparse
import json
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

#: Classes per head: gender, colour, type, category, subcategory.
HEAD_CLASSES = [5, 46, 7, 45, 143]
REPRESENTATION = 1024
DROPOUT = 0.5


def conv_block(cin, cout, kernel, stride, padding, pool):
    """Conv (no bias) -> BatchNorm -> ReLU -> optional max-pool, as ConvBlock in model.rs."""
    layers = [
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=False),
    ]
    if pool is not None:
        layers.append(pool)
    return layers


def backbone(name):
    """Returns (cnn, feature count, pre-pooling width)."""
    if name == "small":
        layers = []
        channels = 3
        for width in (16, 32, 64, 128):
            layers += conv_block(channels, width, 3, 1, 1, nn.MaxPool2d(2, stride=2))
            channels = width
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(1)]
        return nn.Sequential(*layers), channels, 512
    if name == "zfnet":
        def pool():
            return nn.MaxPool2d(3, stride=2, padding=1)

        layers = []
        layers += conv_block(3, 96, 7, 2, 1, pool())
        layers += conv_block(96, 256, 5, 2, 0, pool())
        layers += conv_block(256, 384, 3, 1, 1, None)
        layers += conv_block(384, 384, 3, 1, 1, None)
        layers += conv_block(384, 256, 3, 1, 1, nn.MaxPool2d(3, stride=2, padding=0))
        layers += [nn.AdaptiveAvgPool2d(6), nn.Flatten(1)]
        return nn.Sequential(*layers), 256 * 36, 4096
    raise ValueError(f"unknown backbone {name!r}")


class Peer(nn.Module):
    """The multi-image multi-task network of src/ml/model.rs."""

    def __init__(self, name):
        super().__init__()
        self.cnn, features, pre = backbone(name)
        self.pre_pool = nn.Linear(features, pre)
        self.post_pool = nn.ModuleList(
            [nn.Linear(pre, REPRESENTATION), nn.Linear(REPRESENTATION, REPRESENTATION)]
        )
        self.heads = nn.ModuleList([nn.Linear(REPRESENTATION, c) for c in HEAD_CLASSES])
        self.dropout = nn.Dropout(DROPOUT)

    def forward(self, images, products):
        x = self.cnn(images)  # [P*K, features]
        x = self.dropout(F.relu(self.pre_pool(x)))  # [P*K, pre]
        x = x.reshape(products, -1, x.shape[1]).amax(dim=1)  # [P, pre]
        x = self.dropout(F.relu(self.post_pool[0](x)))
        representation = F.relu(self.post_pool[1](x))  # [P, 1024]
        features = self.dropout(representation)
        return representation, [head(features) for head in self.heads]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backbone", choices=["small", "zfnet"], default="small")
    p.add_argument("--image-size", type=int, default=None,
                   help="image side in pixels (default 64 for small, 224 for zfnet)")
    p.add_argument("--batch", type=int, default=32, help="products per batch")
    p.add_argument("--images-per-product", type=int, default=1)
    p.add_argument("--iters", type=int, default=20, help="timed iterations")
    p.add_argument("--warmup", type=int, default=3, help="untimed iterations first")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--threads", type=int, default=0,
                   help="torch.set_num_threads (0: PyTorch's default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one line of JSON")
    args = p.parse_args(argv)
    if args.image_size is None:
        args.image_size = 64 if args.backbone == "small" else 224
    if args.batch < 1 or args.images_per_product < 1 or args.iters < 1 or args.warmup < 0:
        p.error("--batch, --images-per-product and --iters must be >= 1, --warmup >= 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_peer: --device cuda but torch.cuda.is_available() is False")
    device = torch.device(args.device)
    torch.manual_seed(args.seed)

    products, per = args.batch, args.images_per_product
    images_per_iter = products * per
    model = Peer(args.backbone).to(device)
    model.train()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, dampening=0,
                                weight_decay=5e-4)
    images = torch.randn(images_per_iter, 3, args.image_size, args.image_size, device=device)
    labels = [torch.randint(0, c, (products,), device=device) for c in HEAD_CLASSES]

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def step():
        optimiser.zero_grad(set_to_none=True)
        _, logits = model(images, products)
        loss = sum(F.cross_entropy(l, y) for l, y in zip(logits, labels)) / len(logits)
        loss.backward()
        optimiser.step()
        return loss

    for _ in range(args.warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(args.iters):
        loss = step()
    sync()
    elapsed = time.perf_counter() - start
    final_loss = float(loss.detach())  # after the clock: no extra sync inside the timing

    per_iter = elapsed / args.iters
    result = {
        "bench": "torch_peer",
        "backbone": args.backbone,
        "image_size": args.image_size,
        "batch_products": products,
        "images_per_product": per,
        "images_per_iter": images_per_iter,
        "device": args.device,
        "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "warmup": args.warmup,
        "iters": args.iters,
        "images_per_s": images_per_iter / per_iter,
        "s_per_iter": per_iter,
        "final_loss": final_loss,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"torch_peer {result['backbone']} {result['image_size']}px "
            f"batch {products} products x {per} images/product on {result['device_name']} "
            f"(torch {result['torch']}, {result['threads']} threads): "
            f"{result['images_per_s']:.1f} training images/s, "
            f"{result['s_per_iter'] * 1000:.1f} ms/iter over {args.iters} iters "
            f"after {args.warmup} warm-up (loss {final_loss:.3f})"
        )


if __name__ == "__main__":
    main()
