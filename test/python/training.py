# RUN: %python %s | FileCheck %s
# REQUIRES: numpy
# UNSUPPORTED: sanitizers
"""cage.compile_training and its Trainer (python/cage/training.py).

- Trainer.step runs the in-place training step: the model's parameter
  arrays and the optimizer state are updated where they are (same buffers),
  bit for bit as the value form <name>_train_step computes from copies of the
  same arrays (both come from one cage-autodiff run; only the calling
  convention differs), with t counting the steps.
- SGD with momentum keeps one state array per parameter, AdamW two.
- save and load round-trip parameters, state and t: a second model, loaded,
  has the same loss and takes the same next step, bit for bit.
- predict pads the last batch and returns one row per input row.
- fit returns one mean loss per epoch, and the loss falls on a separable
  problem.
"""

import os
import tempfile

import numpy as np

import cage
from cage import nn


def model(seed):
    nn.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 7), nn.ReLU(), nn.Linear(7, 3))


def problem(n):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    return x, nn.one_hot(labels, 3)


x, y = problem(40)
batch = (8, 6)

# In place, against the value form on copies.
m = model(0)
trainer = cage.compile_training(m, nn.CrossEntropyLoss(), batch, quant=4)
trainer.total_steps = 10
module = cage.compile(trainer.train_function.text)
value_step = module[trainer.train_function.name + "_train_step"]
params = [p for _, p in m.named_parameters()]
buffers = [p.data.ctypes.data for p in params]
copies = []
for _, p in m.named_parameters():
    copies += [p.data.copy()] + [s.copy() for s in trainer.state[_]]
for t in range(1, 4):
    expected = value_step(x[:8], y[:8], *copies, t, 10, 0.01)
    loss = trainer.step(x[:8], y[:8], lr=0.01)
    flat = []
    for name, p in m.named_parameters():
        flat += [p.data] + trainer.state[name]
    same = all(np.array_equal(a, b) for a, b in zip(flat, expected[1:]))
    print(f"step {t}: loss equal {loss == float(expected[0])}, updates equal {same}")
    copies = [np.array(e) for e in expected[1:]]
print("in place:", [p.data.ctypes.data for p in params] == buffers, "t =", trainer.t)
# CHECK: step 1: loss equal True, updates equal True
# CHECK: step 2: loss equal True, updates equal True
# CHECK: step 3: loss equal True, updates equal True
# CHECK: in place: True t = 3

sgd = cage.compile_training(model(0), nn.CrossEntropyLoss(), batch,
                            optimizer=nn.SGD(momentum=0.9), cage=False)
print("state arrays:", sorted({len(s) for s in sgd.state.values()}),
      sorted({len(s) for s in trainer.state.values()}))
# CHECK: state arrays: [1] [2]

# save / load
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "ckpt.npz")
    trainer.save(path)
    other = cage.compile_training(model(5), nn.CrossEntropyLoss(), batch, quant=4)
    other.load(path)
    print("loaded: t =", other.t, "loss equal",
          other.loss(x[8:16], y[8:16]) == trainer.loss(x[8:16], y[8:16]))
    a = trainer.step(x[8:16], y[8:16], lr=0.01)
    b = other.step(x[8:16], y[8:16], lr=0.01)
    same = all(np.array_equal(p.data, q.data) for (_, p), (_, q) in
               zip(trainer.model.named_parameters(), other.model.named_parameters()))
    print("next step equal:", a == b and same)
    try:
        cage.compile_training(nn.Sequential(nn.Linear(6, 3)), nn.CrossEntropyLoss(),
                              batch).load(path)
    except ValueError as e:
        print("ValueError:", str(e).split(": ", 1)[1])
# CHECK: loaded: t = 3 loss equal True
# CHECK: next step equal: True
# CHECK: ValueError: param/0.weight has shape (7, 6), the model's (3, 6)

out = trainer.predict(x[:13])
print("predict:", out.shape, out.dtype)
# CHECK: predict: (13, 3) float32

fresh = cage.compile_training(model(2), nn.CrossEntropyLoss(), batch, quant=4)
history = fresh.fit(x, y, epochs=12, lr=0.02, progress=False)
print("epochs:", len(history), "steps:", fresh.t, "T:", fresh.total_steps,
      "falls:", history[-1] < 0.5 * history[0])
# CHECK: epochs: 12 steps: 60 T: 60 falls: True
