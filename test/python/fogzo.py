# RUN: %python %s | FileCheck %s
# REQUIRES: numpy
# UNSUPPORTED: sanitizers
"""FOGZO from Python: nn.Fogzo, ParamConfig(fogzo=...) and
compile_training(fogzo=...) (docs/Python.md, docs/Semantics.md §1.6).

- Fogzo prints as #cage.fogzo<...> with the defaults omitted and checks its
  ranges; a parameter's #cage.param carries it, with or without the CAGE
  correction.
- compile_training(fogzo=...) puts it on the quantized parameters only (a
  parameter without a grid keeps its exact gradient).
- Before FOGZO starts (r = t/T <= start) a FOGZO trainer takes exactly the
  straight-through trainer's steps, bit for bit; once it is active, its
  steps differ from them but still train (the loss falls).
"""

import numpy as np

import cage
from cage import nn

print(nn.Fogzo().mlir())
print(nn.Fogzo(beta_min=0.5, start=0.25, seed=-3, epsilon=1e-3).mlir())
# CHECK: #cage.fogzo<>
# CHECK-NEXT: #cage.fogzo<beta_min = 0.5, start = 0.25, seed = -3, epsilon = 0.001>
for bad in ({"beta_min": 1.5}, {"start": 1.0}, {"epsilon": -1.0}, {"seed": 2**63}):
    try:
        nn.Fogzo(**bad)
    except ValueError as e:
        print("ValueError:", e)
# CHECK-NEXT: ValueError: Fogzo: beta_min must be in [0, 1]
# CHECK-NEXT: ValueError: Fogzo: start must be in [0, 1)
# CHECK-NEXT: ValueError: Fogzo: epsilon must be non-negative and finite (0: from the grid)
# CHECK-NEXT: ValueError: Fogzo: seed must be a 64-bit integer

q4 = nn.Quantizer(bits=4)
print(nn.ParamConfig(fogzo=nn.Fogzo(seed=7)).mlir(q4))
print(nn.ParamConfig(cage=False, fogzo=nn.Fogzo(seed=7)).mlir(q4))
print(nn.ParamConfig(fogzo=nn.Fogzo(seed=7)).mlir(None))
# CHECK-NEXT: #cage.param<fogzo = #cage.fogzo<seed = 7>>
# CHECK-NEXT: #cage.param<cage = false, fogzo = #cage.fogzo<seed = 7>>
# CHECK-NEXT: #cage.param<cage = false>


def model():
    nn.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 7), nn.ReLU(), nn.Linear(7, 3))


rng = np.random.default_rng(1)
x = rng.standard_normal((64, 6)).astype(np.float32)
labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
y = nn.one_hot(labels, 3)
batch = (8, 6)
loss = nn.CrossEntropyLoss()

ste = cage.compile_training(model(), loss, batch, quant=4)
fz = cage.compile_training(model(), loss, batch, quant=4, fogzo=nn.Fogzo(start=0.5, seed=3))
text = fz.train_function.text
print("FOGZO on weights:", text.count("fogzo = #cage.fogzo<start = 0.5, seed = 3>"),
      "of", text.count("{cage.param"), "parameters")
# CHECK-NEXT: FOGZO on weights: 2 of 4 parameters

T = 16
for trainer in (ste, fz):
    trainer.total_steps = T
for t in range(1, T + 1):
    b = slice(8 * ((t - 1) % 8), 8 * ((t - 1) % 8) + 8)
    ls = ste.step(x[b], y[b], lr=0.01)
    lf = fz.step(x[b], y[b], lr=0.01)
    same = all(np.array_equal(p.data, q.data) for (_, p), (_, q)
               in zip(ste.model.named_parameters(), fz.model.named_parameters()))
    if t in (T // 2, T // 2 + 1):
        print(f"t = {t}: r = {t / T}, losses equal {ls == lf}, parameters equal {same}")
# CHECK-NEXT: t = 8: r = 0.5, losses equal True, parameters equal True
# CHECK-NEXT: t = 9: r = 0.5625, losses equal True, parameters equal False

# FOGZO alone from the start trains.
fz = cage.compile_training(model(), loss, batch, quant=4, cage=False, fogzo=nn.Fogzo(seed=11))
losses = fz.fit(x, y, epochs=20, lr=0.02, progress=False)
print("FOGZO fit falls:", losses[-1] < 0.8 * losses[0])
# CHECK-NEXT: FOGZO fit falls: True
