"""Compiling MLIR: a context with cage's dialects and passes, diagnostics as
exceptions, cage-cpu-pipeline, the JIT, and the AOT object and header.

A Module owns its MLIR context, the module as parsed (the source of the C
header), the module in the LLVM dialect (what the JIT compiled, and what
`export` compiles again for a target), and the execution engine. None of
them changes after `compile` returns: the engine translates the LLVM-dialect
module to LLVM IR of its own, and so does cageCPUEmit.
"""

import ctypes
import os
import tempfile
import warnings

from . import _capi, _cuda
from ._call import Function, Value


class CompileError(Exception):
    """Parsing, verifying, compiling or exporting failed. The message has
    one line per error as the tools print it (`file:line:col: error:
    message`, notes after their error); `errors` lists the errors as
    (location, message) pairs ("<string>:2:10", "use of undeclared SSA
    value name"), with the location "" where there is none."""

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.errors = [("", message)] if errors is None else list(errors)


class CompileWarning(UserWarning):
    """A warning diagnostic of the compiler (e.g. cage-verify's)."""


_KINDS = {_capi.DIAGNOSTIC_ERROR: "error", _capi.DIAGNOSTIC_WARNING: "warning",
          _capi.DIAGNOSTIC_NOTE: "note", _capi.DIAGNOSTIC_REMARK: "remark"}


class _Messages:
    """An MlirStringCallback that collects what it is given."""

    def __init__(self):
        self.chunks = []
        self.callback = _capi.StringCallback(lambda s, _: self.chunks.append(bytes(s)))

    def bytes(self):
        return b"".join(self.chunks)

    def text(self):
        return self.bytes().decode(errors="replace")


class _Diagnostics:
    """The diagnostic handler of a context: records each diagnostic as the
    tools print it. Source text parsed from memory has the buffer name "-";
    its locations show the `filename` given to compile, as the tools show
    "<stdin>"."""

    def __init__(self, lib, filename):
        self._lib = lib
        self._filename = filename
        self.records = []  # (severity, location, message, lines)
        self.handler = _capi.DiagnosticHandler(self._handle)

    def _handle(self, diagnostic, _):
        try:
            self.records.append(self._read(diagnostic))
        except Exception as e:  # an exception must not unwind into MLIR
            self.records.append((_capi.DIAGNOSTIC_ERROR, "", repr(e), [repr(e)]))
        return 1  # handled

    def _location(self, location):
        where = _capi.FileLineCol()
        if not self._lib.cageLocationFindFile(location, ctypes.byref(where)):
            return self._filename
        file = bytes(where.file).decode(errors="replace")
        if file == "-":
            file = self._filename
        return f"{file}:{where.line}:{where.column}" if where.line > 0 else file

    def _read(self, diagnostic):
        lib = self._lib
        severity = lib.mlirDiagnosticGetSeverity(diagnostic)
        location = self._location(lib.mlirDiagnosticGetLocation(diagnostic))
        message = _Messages()
        lib.mlirDiagnosticPrint(diagnostic, message.callback, None)
        lines = [f"{location}: {_KINDS.get(severity, 'remark')}: {message.text()}"]
        for i in range(lib.mlirDiagnosticGetNumNotes(diagnostic)):
            lines += self._read(lib.mlirDiagnosticGetNote(diagnostic, i))[3]
        return severity, location, message.text(), lines

    def error(self, since, fallback):
        """A CompileError of the errors recorded after `since`, or with the
        message `fallback` when there are none; warnings recorded meanwhile
        are issued as CompileWarning."""
        records = self.records[since:]
        self.warn(since)
        errors = [r for r in records if r[0] == _capi.DIAGNOSTIC_ERROR]
        if not errors:
            return CompileError(fallback)
        return CompileError("\n".join(line for r in errors for line in r[3]),
                            [(r[1], r[2]) for r in errors])

    def warn(self, since):
        for severity, _, _, lines in self.records[since:]:
            if severity == _capi.DIAGNOSTIC_WARNING:
                warnings.warn("\n".join(lines), CompileWarning, stacklevel=4)
        del self.records[since:]


def _pipeline_options(lib, vectorize, vector_width, threads, fuse_updates, fuse_elementwise,
                      hoist_allocations):
    options = lib.cageCPUPipelineOptionsGetDefault()
    for field, value in (("vectorize", vectorize), ("vectorWidth", vector_width),
                         ("threads", threads), ("fuseUpdates", fuse_updates),
                         ("fuseElementwise", fuse_elementwise),
                         ("hoistAllocations", hoist_allocations)):
        if value is not None:
            setattr(options, field, value)
    if vector_width is None:
        # The JIT compiles for the host: tiles for its vector registers.
        options.vectorWidth = lib.cageCPUTargetVectorWidth(None)
    # The calls go through the C interface's entry points.
    options.cInterface = True
    return options


def _text(print_function, handle):
    """What an mlir*Print function prints for `handle`."""
    messages = _Messages()
    print_function(handle, messages.callback, None)
    return messages.text()


def _operation_name(lib, op):
    return bytes(lib.mlirIdentifierStr(lib.mlirOperationGetName(op))).decode()


def _public_functions(lib, module):
    """(name, function type) of each public func.func with a body, in order:
    the functions that get a C interface entry point."""
    op = lib.mlirBlockGetFirstOperation(lib.mlirModuleGetBody(module))
    visibility, function_type = b"sym_visibility", b"function_type"
    while op:
        if _operation_name(lib, op) == "func.func" and lib.mlirRegionGetFirstBlock(
                lib.mlirOperationGetRegion(op, 0)):
            vis = lib.mlirOperationGetAttributeByName(op, _capi.string_ref(visibility))
            if not vis or bytes(lib.mlirStringAttrGetValue(vis)) == b"public":
                name = lib.mlirOperationGetAttributeByName(op, _capi.string_ref(b"sym_name"))
                yield (bytes(lib.mlirStringAttrGetValue(name)).decode(errors="replace"),
                       lib.mlirTypeAttrGetValue(lib.mlirOperationGetAttributeByName(
                           op, _capi.string_ref(function_type))))
        op = lib.mlirOperationGetNextInBlock(op)


def _describe(lib, type_, what):
    """(Value, None) for a type the C interface carries, else (None, why)."""
    c_view = _capi.ValueType()
    why = _Messages()
    text = _text(lib.mlirTypePrint, type_)
    if not lib.cageCPUValueTypeGet(type_, ctypes.byref(c_view), why.callback, None):
        return None, f"{what} has type {text}: {why.text()}"
    shape = [None if lib.mlirShapedTypeIsDynamicDim(type_, k)
             else lib.mlirShapedTypeGetDimSize(type_, k)
             for k in range(c_view.rank)] if c_view.shaped else []
    return Value(text, c_view, shape), None


def _write_atomically(path, data):
    """Writes `data` to a temporary file next to `path`, then renames it."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


class _Handles:
    """What a Module owns in the C API: its context (with the diagnostic
    handler), the module as parsed, the lowered module and the execution
    engine. The Module and each of its Functions hold it, so that it is
    destroyed (engine first, context last) when the last of them is gone,
    without a reference cycle."""

    def __init__(self, lib, diagnostics):
        self.lib = lib
        self.diagnostics = diagnostics  # keeps the handler's callback alive
        self.context = self.source = self.lowered = self.engine = None

    def __del__(self):
        lib = self.lib
        if self.engine:
            lib.mlirExecutionEngineDestroy(self.engine)
        for module in (self.lowered, self.source):
            if module:
                lib.mlirModuleDestroy(module)
        if self.context:
            lib.mlirContextDestroy(self.context)


class Module:
    """A compiled MLIR module: its public functions, callable from Python
    (JIT-compiled once, at O3 for the host; with device="cuda" their kernels
    run on the GPU), and `export` for an object file and a C header. Made by
    cage.compile. `device` is "cpu" or "cuda".

    `functions` maps the name of each public function to its Function;
    `module["f"]` and `module.f` are the same; `module(...)` calls the
    entry function (`entry` of compile, or the only public function)."""

    def __init__(self, lib, text, filename, entry, options, autodiff, gpu=None):
        self._lib = lib
        # device="cuda": the CageCUDATarget, and the CUDA runtime.
        self.device = "cuda" if gpu is not None else "cpu"
        self._runtime = _cuda.load() if gpu is not None else None
        self._text = text
        self._filename = filename
        self._release = None
        self.functions = {}
        self._diagnostics = _Diagnostics(lib, filename)
        handles = self._handles = _Handles(lib, self._diagnostics)
        registry = lib.mlirDialectRegistryCreate()
        lib.mlirRegisterAllDialects(registry)
        lib.mlirDialectHandleInsertDialect(lib.mlirGetDialectHandle__cage__(), registry)
        # Single-threaded, as the tools: diagnostics then come from this thread.
        handles.context = lib.mlirContextCreateWithRegistry(registry, False)
        lib.mlirDialectRegistryDestroy(registry)
        lib.mlirRegisterAllLLVMTranslations(handles.context)
        lib.mlirContextAttachDiagnosticHandler(handles.context, self._diagnostics.handler,
                                               None, None)

        # The module as parsed (the parser verifies it): the signatures and
        # argument names of the header come from it.
        handles.source = lib.mlirModuleCreateParse(handles.context, _capi.string_ref(text))
        if not handles.source:
            raise self._diagnostics.error(0, f"cannot parse '{filename}'")
        # The training steps of functions with cage.param arguments first,
        # so that they are among the functions (the pipeline's own run of
        # cage-autodiff then changes nothing).
        self._run(handles.source,
                  lambda pm, error: lib.mlirParsePassPipeline(
                      pm, _capi.string_ref(autodiff), error, None), "cage-autodiff")
        self._describe_functions(entry)

        lowered = lib.mlirOperationClone(lib.mlirModuleGetOperation(handles.source))
        handles.lowered = lib.mlirModuleFromOperation(lowered)
        if gpu is not None:
            target, self._keep_target = gpu
            self._run(handles.lowered,
                      lambda pm, error: lib.cageCUDAPipelineAddPasses(
                          pm, ctypes.byref(target), error, None), "the GPU pipeline")
        else:
            self._run(handles.lowered,
                      lambda pm, error: lib.cageCPUPipelineAddPasses(
                          pm, ctypes.byref(options), error, None), "the CPU pipeline")
        self._create_engine(options.threads and gpu is None)
        self._diagnostics.warn(0)

    def _describe_functions(self, entry):
        lib = self._lib
        for name, type_ in _public_functions(lib, self._handles.source):
            values, unsupported = [[], []], None
            for k, (count, get, what) in enumerate((
                    (lib.mlirFunctionTypeGetNumInputs, lib.mlirFunctionTypeGetInput, "argument"),
                    (lib.mlirFunctionTypeGetNumResults, lib.mlirFunctionTypeGetResult, "result"))):
                for i in range(count(type_)):
                    value, why = _describe(lib, get(type_, i), f"{what} {i}")
                    values[k].append(value)
                    unsupported = unsupported or why
            self.functions[name] = Function(
                self._handles, self._filename, name, _text(lib.mlirTypePrint, type_),
                values[0], values[1], unsupported, self.device)
        if entry is not None and entry not in self.functions:
            raise CompileError(f"no public function '{entry}' in '{self._filename}' "
                               f"(public functions: {', '.join(self.functions) or 'none'})")
        if entry is None and len(self.functions) == 1:
            entry = next(iter(self.functions))
        self.entry = entry

    def _run(self, module, add_passes, what):
        """Runs on `module` the passes that `add_passes(op_pass_manager,
        error_callback)` adds (it returns false when it cannot: `what` is
        then reported as not built)."""
        lib = self._lib
        pm = lib.mlirPassManagerCreateOnOperation(self._handles.context,
                                                  _capi.string_ref(b"builtin.module"))
        try:
            error = _Messages()
            if not add_passes(lib.mlirPassManagerGetAsOpPassManager(pm), error.callback):
                raise CompileError(f"cannot build {what}: {error.text()}")
            if not lib.mlirPassManagerRunOnOp(pm, lib.mlirModuleGetOperation(module)):
                raise self._diagnostics.error(0, f"{what} failed")
        finally:
            lib.mlirPassManagerDestroy(pm)

    def _create_engine(self, threads):
        lib = self._lib
        libs = []
        if threads:
            libomp = _capi.libomp_path()
            if not os.access(libomp, os.R_OK):
                raise _capi.LibraryError(
                    f"cannot load the OpenMP runtime '{libomp}' (set CAGE_LIBOMP, or "
                    "compile with threads=False)")
            libs.append(os.fsencode(os.path.abspath(libomp)))
        if self._runtime is not None:  # what the GPU's host code calls
            libs.append(os.fsencode(os.path.abspath(self._runtime._path)))
        refs = (_capi.StringRef * max(len(libs), 1))(*map(_capi.string_ref, libs))
        error = _Messages()
        engine = self._handles.engine = lib.cageCPUExecutionEngineCreate(
            self._handles.lowered, 3, len(libs), refs, False, False, error.callback, None)
        if not engine:
            raise CompileError("cannot create the execution engine: " + error.text())
        last_error = lib.mlirExecutionEngineLookup(engine, _capi.string_ref(b"cage_last_error"))
        last_error = ctypes.CFUNCTYPE(ctypes.c_char_p)(last_error) if last_error else None
        release = lib.mlirExecutionEngineLookup(engine, _capi.string_ref(b"cage_release_buffers"))
        self._release = ctypes.CFUNCTYPE(None)(release) if release else None
        prefix = "__cage_cuda_" if self._runtime is not None else "_mlir_ciface_"
        for function in self.functions.values():
            if function._unsupported:
                continue
            symbol = f"{prefix}{function.name}".encode()
            address = lib.mlirExecutionEngineLookupPacked(engine, _capi.string_ref(symbol))
            if not address:
                raise CompileError(f"cannot find or link '{symbol.decode()}' in the compiled "
                                   "code (LLVM printed the unresolved symbols)")
            function._bind(address, last_error, self._runtime)
        # Global constructors, once every symbol resolved.
        lib.mlirExecutionEngineInitialize(engine)

    def release_buffers(self):
        """Frees the large buffers that the compiled code keeps between calls
        so that a repeated call reuses them, pages and all (its buffer cache:
        docs/Passes.md, `cage-cpu-cache-buffers`). The next call allocates
        them again. Nothing to do for code that allocates nothing."""
        if self._release is not None:
            self._release()

    def __getitem__(self, name):
        return self.functions[name]

    def __getattr__(self, name):
        functions = self.__dict__.get("functions", {})
        if name in functions:
            return functions[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute or public "
                             f"function '{name}'")

    def __contains__(self, name):
        return name in self.functions

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self.functions))

    def __repr__(self):
        return f"<cage.Module {self._filename}: {', '.join(self.functions)}>"

    def __call__(self, *args):
        """Calls the entry function."""
        if self.entry is None:
            raise TypeError(f"'{self._filename}' has {len(self.functions)} public functions "
                            f"({', '.join(self.functions)}): call one by name, or compile "
                            "with entry=...")
        return self.functions[self.entry](*args)

    def export_ptx(self, path=None, *, chip="sm_80", toolkit=None, fuse_updates=True):
        """The PTX of the module's kernels for an NVIDIA GPU, as
        `cage-compile --target=cuda --emit=ptx` writes it: the source (with
        its training steps) through cage-gpu-pipeline for `chip` (sm_75 ...
        sm_120a), one PTX module. Needs no GPU, only libdevice from the CUDA
        toolkit (`toolkit`, else $CUDA_HOME, else /usr/local/cuda). Returns
        the text, and writes it to `path` when given. Raises CompileError
        (an unknown chip, no libdevice, nothing to run on the GPU)."""
        lib = self._lib
        if not isinstance(chip, str):
            raise TypeError(f"chip must be a str such as 'sm_80', not {type(chip).__name__}")
        target = lib.cageCUDATargetGetDefault()
        keep = [chip.encode(), os.fsencode(toolkit) if toolkit is not None else None]
        target.chip, target.toolkit = keep
        target.fuseUpdates = bool(fuse_updates)
        clone = lib.mlirOperationClone(lib.mlirModuleGetOperation(self._handles.source))
        gpu = lib.mlirModuleFromOperation(clone)
        try:
            self._run(gpu, lambda pm, error: lib.cageCUDAPipelineAddPasses(
                pm, ctypes.byref(target), error, None), "the GPU pipeline")
            since = len(self._diagnostics.records)
            ptx = _Messages()
            if not lib.cageCUDAEmitPTX(gpu, ptx.callback, None):
                raise self._diagnostics.error(since, "no PTX")
            self._diagnostics.warn(since)
        finally:
            lib.mlirModuleDestroy(gpu)
        text = ptx.text()
        if path is not None:
            _write_atomically(path, text.encode())
        return text

    def export(self, object_path, header_path=None, *, target=None, cpu=None, features=None,
               opt_level=3):
        """Compiles the module ahead of time, as cage-compile does: an object
        file at `object_path` (position independent, needing libc, libm and,
        when compiled with threads, libomp) and, with `header_path`, the
        strict C11 header that declares the entry point _mlir_ciface_F of
        each public function F. `target` is an LLVM triple (default: the
        host), `cpu` and `features` name the CPU ("skylake-avx512",
        "native") and its features ("+avx2,-avx512f"). Both files appear
        together, each renamed into place once both were made. Raises
        CompileError; a module compiled for the GPU is exported by
        `cage-compile --target=cuda` (and its kernels by export_ptx)."""
        lib = self._lib
        if self.device != "cpu":
            raise CompileError(
                "export writes CPU objects: this module was compiled with device='cuda'; "
                "cage-compile --target=cuda makes its host object and header, export_ptx "
                "its kernels")
        keep = [s.encode() if s is not None else None for s in (target, cpu, features)]
        machine = lib.cageCPUTargetGetDefault()
        machine.triple, machine.cpu, machine.features = keep
        machine.optLevel = opt_level
        error = _Messages()
        if not lib.cageCPUTargetCheck(ctypes.byref(machine), error.callback, None):
            raise CompileError(error.text())
        since = len(self._diagnostics.records)
        obj = _Messages()
        if not lib.cageCPUEmit(self._handles.lowered, ctypes.byref(machine),
                               _capi.CPU_OUTPUT_OBJECT, obj.callback, None):
            raise self._diagnostics.error(since, "code generation failed")
        outputs = [(object_path, obj.bytes())]
        if header_path is not None:
            header = _Messages()
            options = _capi.HeaderOptions(
                headerName=os.fsencode(header_path),
                generatedBy=f"cage.Module.export from {self._filename}".encode(),
                sourceText=_capi.string_ref(self._text), sourceFile=b"-")
            if not lib.cageCPUWriteHeader(self._handles.source, ctypes.byref(options),
                                          header.callback, None):
                raise self._diagnostics.error(since, "cannot write the header")
            outputs.append((header_path, header.bytes()))
        self._diagnostics.warn(since)
        for path, data in outputs:
            _write_atomically(path, data)


def compile(source, *, entry=None, filename="<string>", vectorize=None, vector_width=None,
            threads=None, fuse_updates=None, fuse_elementwise=None, hoist_allocations=None,
            gradients=False,
            remat=False, estimator="clipped", device="cpu", chip="sm_80", toolkit=None):
    """Compiles MLIR `source` (text, or bytecode as bytes) for the host CPU:
    parses and verifies it, runs cage-cpu-pipeline and JIT-compiles the
    result once, at O3. Returns a Module whose public functions are called
    with numpy arrays and Python numbers.

    filename: the name of the source in diagnostics ("<string>").
    entry: the public function that calling the Module calls (default: the
        only one, if there is exactly one).
    vectorize, vector_width, threads, fuse_updates, fuse_elementwise,
    hoist_allocations: the
        options of cage-cpu-pipeline (docs/Passes.md); None keeps its
        default (cageCPUPipelineOptionsGetDefault: all on), and for
        vector_width the host's f32 lanes per vector register (16 with
        AVX-512, 8 with AVX2, 4 with SSE or NEON), which Module.export
        keeps when it compiles for another CPU.
        threads=False needs no OpenMP runtime.
    gradients, remat, estimator: the options of cage-autodiff, which adds
        the training steps f_train_step and f_train_step_inplace of every
        function f with cage.param arguments (and with gradients=True
        f_grad: the loss and the parameters' gradients); docs/Training.md.
    device: "cpu", or "cuda": cage-gpu-pipeline for `chip` (PTX, which the
        driver compiles for device 0) with libdevice from `toolkit` (else
        $CUDA_HOME, else /usr/local/cuda); calls then copy the arrays to the
        GPU and back (docs/GPU.md). The CPU pipeline's options but
        fuse_updates do not apply to it.

    Raises CompileError (parse, verifier and pipeline errors, with their
    file:line:col), LibraryError when libCAGE-C.so or libomp cannot be
    loaded, and with device="cuda" CudaError when there is no GPU."""
    if isinstance(source, str):
        text = source.encode()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        text = bytes(source)
    else:
        raise TypeError(f"compile needs MLIR as str or bytes, not {type(source).__name__}")
    lib = _capi.load()
    options = _pipeline_options(lib, vectorize, vector_width, threads, fuse_updates,
                                fuse_elementwise, hoist_allocations)
    if estimator not in ("clipped", "identity"):
        raise ValueError(f"estimator must be 'clipped' or 'identity', not {estimator!r}")
    autodiff = (f"builtin.module(cage-autodiff{{gradients={int(bool(gradients))} "
                f"remat={int(bool(remat))} estimator={estimator}}})").encode()
    return Module(lib, text, filename, entry, options, autodiff,
                  _gpu_target(lib, device, chip, toolkit, fuse_updates,
                              vectorize, vector_width, threads, fuse_elementwise,
                              hoist_allocations))


def _gpu_target(lib, device, chip, toolkit, fuse_updates, *cpu_only):
    """None for the CPU; for device="cuda" the CageCUDATarget and the
    bytes it points to."""
    if device == "cpu":
        return None
    if device != "cuda":
        raise ValueError(f"device must be 'cpu' or 'cuda', not {device!r}")
    names = ("vectorize", "vector_width", "threads", "fuse_elementwise", "hoist_allocations")
    given = [n for n, v in zip(names, cpu_only) if v is not None]
    if given:
        raise ValueError(f"{given[0]} is an option of the CPU pipeline, not of device='cuda'")
    if not isinstance(chip, str):
        raise TypeError(f"chip must be a str such as 'sm_80', not {type(chip).__name__}")
    target = lib.cageCUDATargetGetDefault()
    keep = [chip.encode(), os.fsencode(toolkit) if toolkit is not None else None]
    target.chip, target.toolkit = keep
    if fuse_updates is not None:
        target.fuseUpdates = bool(fuse_updates)
    return target, keep
