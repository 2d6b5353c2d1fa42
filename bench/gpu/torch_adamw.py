"""PyTorch's side of the GPU benchmark (bench/gpu/README.md): the same
CAGE-AdamW step as bench/gpu/gen_step.py in PyTorch on the GPU:
torch.optim.AdamW(fused=True) on one parameter and on 64, then the CAGE
correction in eager ops (4-bit absmax quantization per group of 128,
w -= lr * lambda * (w - Q(w))). Prints one JSON object per line, times in
seconds (medians of --repeat synchronized calls).

    python3 torch_adamw.py [--log2n=A:B] [--repeat=R]
"""
import json
import statistics
import sys
import time

import torch


def correction(params, lr, lam):
    for w in params:
        groups = w.view(-1, 128)
        scale = groups.abs().amax(dim=1, keepdim=True) / 7
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        q = torch.clamp(torch.round(groups / scale), -8, 7) * scale
        groups.sub_(lr * lam * (groups - q))


def measure(n, parts, repeat):
    device = torch.device("cuda")
    size = n // parts
    params = [torch.full((size,), 0.0117, device=device) for _ in range(parts)]
    for p in params:
        p.grad = torch.full((size,), 0.0029, device=device)
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.95), eps=1e-8,
                            weight_decay=0.1, fused=True)
    times = []
    for r in range(repeat + 3):
        torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.no_grad():
            opt.step()
            correction(params, 1e-3, 0.5)
        torch.cuda.synchronize()
        if r >= 3:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    lo, hi, repeat = 24, 28, 20
    for arg in sys.argv[1:]:
        if arg.startswith("--log2n="):
            lo, hi = (int(x) for x in arg[8:].split(":"))
        elif arg.startswith("--repeat="):
            repeat = int(arg[9:])
        else:
            sys.exit("usage: torch_adamw.py [--log2n=A:B] [--repeat=R]")
    if not torch.cuda.is_available():
        sys.exit("torch_adamw.py: PyTorch has no CUDA device here")
    print(json.dumps({"torch": torch.__version__,
                      "device": torch.cuda.get_device_name(0)}))
    for log2n in range(lo, hi + 1):
        n = 1 << log2n
        one, parts = measure(n, 1, repeat), measure(n, 64, repeat)
        print(json.dumps({"log2n": log2n, "torch_one_s": one,
                          "torch_64_s": parts}))
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
