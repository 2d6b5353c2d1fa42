"""Training a cage.nn model from Python: compile_training and Trainer.

    from cage import nn
    import cage
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    trainer = cage.compile_training(model, nn.CrossEntropyLoss(), (32, 64), quant=4)
    trainer.fit(x_train, nn.one_hot(y_train, 10), epochs=10, lr=3e-3)
    accuracy = (trainer.predict(x_test).argmax(1) == y_test).mean()

The model's forward pass and loss become one MLIR function (cage.nn), whose
training step cage-autodiff makes (docs/Training.md); the step is compiled
once, in its in-place form: every call updates the model's parameter arrays
and the optimizer state where they are, with no copies. docs/Python.md
describes the API.
"""

import numpy as np

from . import nn
from ._compile import compile as _compile
from .nn.quantizer import as_quantizer

__all__ = ["Trainer", "compile_training"]


def _linear_layers(model):
    return [m for _, m in model.named_modules() if isinstance(m, nn.Linear)]


def _apply_quant(model, quant):
    """Gives the Linear layers of `model` without quantizers `quant` on their
    weights and inputs (W{b}A{b} for quant=b)."""
    q = as_quantizer(quant)
    for layer in _linear_layers(model):
        if layer.weight_quantizer is None:
            layer.weight_quantizer = layer.weight.quantizer = q
        if layer.input_quantizer is None:
            layer.input_quantizer = q


def _state_count(optimizer):
    """The optimizer's state tensors per parameter (AdamW: m, v; SGD: b)."""
    return 2 if isinstance(optimizer, nn.AdamW) else 1


class Trainer:
    """A model's compiled training step (in place) and evaluation function.
    Made by compile_training.

    model: the cage.nn model (its parameter arrays are what the step updates);
    state: {parameter name: [state arrays]} (AdamW: m, v; SGD: b), zeros at
    first; t: the number of steps taken; total_steps: T of the λ schedule
    (set by fit, or by hand before calling step)."""

    def __init__(self, model, loss, batch_shape, config, overrides, compile_options):
        self.model = model
        self.batch_shape = tuple(batch_shape)
        self.train_function = model.forward_mlir(self.batch_shape, loss=loss, mode="train",
                                                 config=config, overrides=overrides)
        self.eval_function = model.forward_mlir(self.batch_shape, mode="eval")
        module = _compile(self.train_function.text, filename="<cage.nn train>",
                          **compile_options)
        self._step = module[self.train_function.name + "_train_step_inplace"]
        self._loss = module[self.train_function.name]
        self._forward = _compile(self.eval_function.text, filename="<cage.nn eval>",
                                 **compile_options)[self.eval_function.name]
        params = dict(model.named_parameters())
        self.state = {}
        for a in self.train_function.args:
            if a.kind == "param":
                c = nn.config_for(a.param_name, params[a.param_name], config, overrides)
                self.state[a.param_name] = [np.zeros_like(params[a.param_name].data)
                                            for _ in range(_state_count(c.optimizer))]
        self.t = 0
        self.total_steps = 1

    def _inputs(self, function, x, target=None, seed=None):
        """The data arguments of `function`: the input, the target, the seed
        (all converted only where their dtype or layout differs)."""
        out = []
        for a in function.args:
            if a.kind == "input":
                out.append(np.ascontiguousarray(x, np.float32))
            elif a.kind == "target":
                out.append(np.ascontiguousarray(target, np.float32))
            elif a.kind == "seed":
                out.append(np.int64(self.t if seed is None else seed))
        return out

    def step(self, x, target, lr, seed=None):
        """One training step on the batch (x, target) at learning rate lr:
        t becomes t + 1, the parameters and the state are updated in place.
        Returns the loss of the parameters before the step. A stochastic
        quantizer's seed is the step count unless given."""
        self.t += 1
        args = self._inputs(self.train_function, x, target, seed)
        params = dict(self.model.named_parameters())
        for a in self.train_function.args:
            if a.kind == "param":
                args.append(params[a.param_name].data)
                args.extend(self.state[a.param_name])
        return float(self._step(*args, self.t, max(self.total_steps, self.t), float(lr)))

    def loss(self, x, target, seed=0):
        """The loss of the batch (x, target) at the current parameters (no
        update)."""
        args = self._inputs(self.train_function, x, target, seed)
        params = dict(self.model.named_parameters())
        args += [params[a.param_name].data for a in self.train_function.args
                 if a.kind == "param"]
        return float(self._loss(*args))

    def predict(self, x):
        """The model's output for every row of x, in batches of the compiled
        batch size (the last one padded with zeros)."""
        n, b = len(x), self.batch_shape[0]
        params = [p for _, p in self.eval_function.params]
        outputs = []
        for start in range(0, n, b):
            chunk = np.zeros(self.batch_shape, np.float32)
            rows = min(b, n - start)
            chunk[:rows] = x[start:start + rows]
            args = self._inputs(self.eval_function, chunk, seed=0)
            outputs.append(np.asarray(self._forward(*args, *params))[:rows])
        return np.concatenate(outputs) if outputs else np.zeros((0,), np.float32)

    def fit(self, x, target, epochs, lr, rng=None, progress=True):
        """Trains for `epochs` passes over (x, target) in shuffled batches of
        the compiled batch size (a remainder smaller than a batch is left out
        of each epoch), with T = the total number of steps; shows a tqdm
        progress bar when `progress` and python3-tqdm is installed. Returns
        the mean loss of each epoch."""
        rng = np.random.default_rng(0) if rng is None else rng
        b = self.batch_shape[0]
        batches = len(x) // b
        if batches == 0:
            raise ValueError(f"fit needs at least one batch of {b} rows, got {len(x)}")
        self.total_steps = self.t + epochs * batches
        bar = None
        if progress:
            try:
                from tqdm import tqdm
                bar = tqdm(total=epochs * batches, unit="step", leave=False)
            except ImportError:
                bar = None
        history = []
        for _ in range(epochs):
            order = rng.permutation(len(x))
            losses = []
            for k in range(batches):
                rows = order[k * b:(k + 1) * b]
                losses.append(self.step(x[rows], target[rows], lr))
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{losses[-1]:.4f}")
            history.append(float(np.mean(losses)))
        if bar is not None:
            bar.close()
        return history

    def save(self, path):
        """Writes the parameters, the optimizer state and t to `path` (.npz)."""
        arrays = {"t": np.int64(self.t), "total_steps": np.int64(self.total_steps)}
        for name, p in self.model.named_parameters():
            arrays["param/" + name] = p.data
            for i, s in enumerate(self.state[name]):
                arrays[f"state/{name}/{i}"] = s
        np.savez(path, **arrays)

    def load(self, path):
        """Reads what save wrote into the existing arrays (their shapes must
        match: the same model)."""
        with np.load(path) as f:
            for name, p in self.model.named_parameters():
                arrays = [p.data] + self.state[name]
                keys = ["param/" + name] + [f"state/{name}/{i}"
                                            for i in range(len(self.state[name]))]
                for array, key in zip(arrays, keys):
                    if key not in f:
                        raise ValueError(f"{path}: no {key}")
                    if f[key].shape != array.shape:
                        raise ValueError(f"{path}: {key} has shape {f[key].shape}, "
                                         f"the model's {array.shape}")
                    np.copyto(array, f[key])
            self.t = int(f["t"])
            self.total_steps = int(f["total_steps"])


def compile_training(model, loss, batch_shape, *, optimizer=None, cage=True, quant=None,
                     fogzo=None, overrides=None, **compile_options):
    """Compiles the training step and the evaluation function of a cage.nn
    `model` with `loss` (nn.CrossEntropyLoss()) for batches of `batch_shape`
    (the model input's shape, batch first).

    optimizer: nn.AdamW(...) or nn.SGD(...) for every parameter (default
        AdamW at the CAGE paper's defaults); cage: the CAGE correction on
        quantized parameters (True) or plain QAT (False); quant: bits (or a
        quantizer spec) for the weights and inputs of every Linear layer
        that has no quantizer (None: the model as built); fogzo:
        nn.Fogzo(...) to train every quantized parameter with FOGZO (with
        the CAGE correction too when cage is True), None for the
        straight-through gradient; overrides: per
        parameter changes, as cage.nn's forward_mlir takes them
        ({"@bias": {"weight_decay": 0.0}}, nn.NO_DECAY_ON_BIASES_AND_NORMS);
        compile_options go to cage.compile (threads=False, remat=True, ...).
    Returns a Trainer."""
    if quant is not None:
        _apply_quant(model, quant)
    config = nn.ParamConfig(optimizer=nn.AdamW() if optimizer is None else optimizer,
                            cage=bool(cage), fogzo=fogzo)
    return Trainer(model, loss, batch_shape, config, overrides, compile_options)
