"""libCAGE-C.so through ctypes: finding and loading it, and the C functions
of the MLIR and cage C APIs that the package calls, with their prototypes.

The library is loaded on first use (`load()`), not on import, so that the
parts of the package that only write MLIR text (cage.nn) work without it.
It is looked for at
  1. $CAGE_LIBRARY, when set (and then only there);
  2. the path that CMake wrote into `_paths.py` next to this file, in the
     build tree (<build>/python/cage) and in an installed package;
  3. <source>/build/lib/libCAGE-C.so, for the package imported from the
     source tree (python/ on sys.path), which has no `_paths.py`.
"""

import ctypes
import os
import threading

# The C API's major version (include/cage-c/Version.h) this package is
# written for: the functions and structs below are that version's.
API_MAJOR = 1


class LibraryError(OSError):
    """libCAGE-C.so (or the OpenMP runtime) cannot be found or loaded, or its
    C API version is not the one this package was written for."""


# ---------------------------------------------------------------------------
# Types of the C APIs
# ---------------------------------------------------------------------------

class StringRef(ctypes.Structure):
    """MlirStringRef. `data` is a void pointer: the text need not end with
    a NUL (read it with `bytes(ref)`)."""
    _fields_ = [("data", ctypes.c_void_p), ("length", ctypes.c_size_t)]

    def __bytes__(self):
        return ctypes.string_at(self.data, self.length) if self.length else b""


def string_ref(data):
    """An MlirStringRef over `data` (bytes), which the caller keeps alive for
    as long as the C side reads it."""
    return StringRef(ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p), len(data))


def _handle(name):
    """The MLIR C API's handles are structs of one pointer, passed by value."""
    return type(name, (ctypes.Structure,), {
        "_fields_": [("ptr", ctypes.c_void_p)],
        "__bool__": lambda self: bool(self.ptr),
    })


Context = _handle("MlirContext")
DialectRegistry = _handle("MlirDialectRegistry")
DialectHandle = _handle("MlirDialectHandle")
Module = _handle("MlirModule")
Operation = _handle("MlirOperation")
Block = _handle("MlirBlock")
Region = _handle("MlirRegion")
Attribute = _handle("MlirAttribute")
Type = _handle("MlirType")
Identifier = _handle("MlirIdentifier")
Location = _handle("MlirLocation")
Diagnostic = _handle("MlirDiagnostic")
PassManager = _handle("MlirPassManager")
OpPassManager = _handle("MlirOpPassManager")
ExecutionEngine = _handle("MlirExecutionEngine")


class LogicalResult(ctypes.Structure):
    _fields_ = [("value", ctypes.c_int8)]

    def __bool__(self):
        return self.value != 0


StringCallback = ctypes.CFUNCTYPE(None, StringRef, ctypes.c_void_p)
# MlirDiagnosticHandler returns an MlirLogicalResult, a struct of one int8_t,
# which the C ABIs return as that int8_t; ctypes callbacks cannot return
# structs, so the prototype says int8.
DiagnosticHandler = ctypes.CFUNCTYPE(ctypes.c_int8, Diagnostic, ctypes.c_void_p)
DIAGNOSTIC_ERROR, DIAGNOSTIC_WARNING, DIAGNOSTIC_NOTE, DIAGNOSTIC_REMARK = range(4)


class FileLineCol(ctypes.Structure):
    """CageFileLineCol (lib/IR/Location.h): what cageLocationFindFile finds,
    the location the tools print."""
    _fields_ = [("file", StringRef), ("line", ctypes.c_int), ("column", ctypes.c_int)]


class PipelineOptions(ctypes.Structure):
    """CageCPUPipelineOptions (cage-c/Target/CPU.h)."""
    _fields_ = [("vectorize", ctypes.c_bool), ("vectorWidth", ctypes.c_int64),
                ("threads", ctypes.c_bool), ("fuseUpdates", ctypes.c_bool),
                ("fuseElementwise", ctypes.c_bool), ("cInterface", ctypes.c_bool),
                ("hoistAllocations", ctypes.c_bool)]


class Target(ctypes.Structure):
    """CageCPUTarget."""
    _fields_ = [("triple", ctypes.c_char_p), ("cpu", ctypes.c_char_p),
                ("features", ctypes.c_char_p), ("optLevel", ctypes.c_int)]


class ValueType(ctypes.Structure):
    """CageCPUValueType: how the C interface carries a type."""
    _fields_ = [("shaped", ctypes.c_bool), ("isTensor", ctypes.c_bool),
                ("element", ctypes.c_int), ("rank", ctypes.c_int64)]


class HeaderOptions(ctypes.Structure):
    """CageCPUHeaderOptions."""
    _fields_ = [("symbolPrefix", ctypes.c_char_p), ("headerName", ctypes.c_char_p),
                ("generatedBy", ctypes.c_char_p), ("sourceText", StringRef),
                ("sourceFile", ctypes.c_char_p)]


class CUDATarget(ctypes.Structure):
    """CageCUDATarget."""
    _fields_ = [("chip", ctypes.c_char_p), ("toolkit", ctypes.c_char_p),
                ("fuseUpdates", ctypes.c_bool)]


CPU_OUTPUT_OBJECT = 0  # CageCPUOutputObject

_b, _i, _i64, _ip, _p = (ctypes.c_bool, ctypes.c_int, ctypes.c_int64, ctypes.c_ssize_t,
                         ctypes.c_void_p)

# name: (result type, argument types)
_PROTOTYPES = {
    "cageGetAPIVersion": (_i, []),
    # Context, dialects, passes, diagnostics
    "mlirDialectRegistryCreate": (DialectRegistry, []),
    "mlirDialectRegistryDestroy": (None, [DialectRegistry]),
    "mlirRegisterAllDialects": (None, [DialectRegistry]),
    "mlirGetDialectHandle__cage__": (DialectHandle, []),
    "mlirDialectHandleInsertDialect": (None, [DialectHandle, DialectRegistry]),
    "mlirContextCreateWithRegistry": (Context, [DialectRegistry, _b]),
    "mlirContextDestroy": (None, [Context]),
    "mlirRegisterAllPasses": (None, []),
    "cageRegisterPasses": (None, []),
    "mlirRegisterAllLLVMTranslations": (None, [Context]),
    "mlirContextAttachDiagnosticHandler": (ctypes.c_uint64,
                                           [Context, DiagnosticHandler, _p, _p]),
    "mlirDiagnosticGetSeverity": (_i, [Diagnostic]),
    "mlirDiagnosticGetLocation": (Location, [Diagnostic]),
    "mlirDiagnosticPrint": (None, [Diagnostic, StringCallback, _p]),
    "mlirDiagnosticGetNumNotes": (_ip, [Diagnostic]),
    "mlirDiagnosticGetNote": (Diagnostic, [Diagnostic, _ip]),
    "cageLocationFindFile": (_b, [Location, ctypes.POINTER(FileLineCol)]),
    # Modules and functions
    "mlirModuleCreateParse": (Module, [Context, StringRef]),
    "mlirModuleDestroy": (None, [Module]),
    "mlirModuleGetOperation": (Operation, [Module]),
    "mlirModuleGetBody": (Block, [Module]),
    "mlirModuleFromOperation": (Module, [Operation]),
    "mlirOperationClone": (Operation, [Operation]),
    "mlirOperationVerify": (_b, [Operation]),
    "mlirOperationGetName": (Identifier, [Operation]),
    "mlirOperationGetNextInBlock": (Operation, [Operation]),
    "mlirOperationGetAttributeByName": (Attribute, [Operation, StringRef]),
    "mlirOperationGetRegion": (Region, [Operation, _ip]),
    "mlirRegionGetFirstBlock": (Block, [Region]),
    "mlirBlockGetFirstOperation": (Operation, [Block]),
    "mlirIdentifierStr": (StringRef, [Identifier]),
    "mlirStringAttrGetValue": (StringRef, [Attribute]),
    "mlirTypeAttrGetValue": (Type, [Attribute]),
    "mlirTypePrint": (None, [Type, StringCallback, _p]),
    "mlirFunctionTypeGetNumInputs": (_ip, [Type]),
    "mlirFunctionTypeGetNumResults": (_ip, [Type]),
    "mlirFunctionTypeGetInput": (Type, [Type, _ip]),
    "mlirFunctionTypeGetResult": (Type, [Type, _ip]),
    "mlirShapedTypeIsDynamicDim": (_b, [Type, _ip]),
    "mlirShapedTypeGetDimSize": (_i64, [Type, _ip]),
    "cageCPUValueTypeGet": (_b, [Type, ctypes.POINTER(ValueType), StringCallback, _p]),
    # The pipeline, the JIT, code generation, the header
    "cageCPUPipelineOptionsGetDefault": (PipelineOptions, []),
    "mlirPassManagerCreateOnOperation": (PassManager, [Context, StringRef]),
    "mlirPassManagerGetAsOpPassManager": (OpPassManager, [PassManager]),
    "mlirPassManagerRunOnOp": (LogicalResult, [PassManager, Operation]),
    "mlirPassManagerDestroy": (None, [PassManager]),
    "mlirParsePassPipeline": (LogicalResult, [OpPassManager, StringRef, StringCallback, _p]),
    "cageCPUPipelineAddPasses": (LogicalResult, [OpPassManager, ctypes.POINTER(PipelineOptions),
                                                 StringCallback, _p]),
    "cageCPUExecutionEngineCreate": (ExecutionEngine,
                                     [Module, _i, _i, ctypes.POINTER(StringRef), _b, _b,
                                      StringCallback, _p]),
    "mlirExecutionEngineLookupPacked": (_p, [ExecutionEngine, StringRef]),
    "mlirExecutionEngineLookup": (_p, [ExecutionEngine, StringRef]),
    "mlirExecutionEngineInitialize": (None, [ExecutionEngine]),
    "mlirExecutionEngineDestroy": (None, [ExecutionEngine]),
    "cageCPUTargetGetDefault": (Target, []),
    "cageCPUTargetCheck": (_b, [ctypes.POINTER(Target), StringCallback, _p]),
    "cageCPUTargetVectorWidth": (_i64, [ctypes.POINTER(Target)]),
    "cageCPUEmit": (LogicalResult, [Module, ctypes.POINTER(Target), _i, StringCallback, _p]),
    "cageCPUWriteHeader": (LogicalResult, [Module, ctypes.POINTER(HeaderOptions),
                                           StringCallback, _p]),
    "cageCUDATargetGetDefault": (CUDATarget, []),
    "cageCUDAPipelineAddPasses": (LogicalResult, [OpPassManager, ctypes.POINTER(CUDATarget),
                                                  StringCallback, _p]),
    "cageCUDAEmitPTX": (LogicalResult, [Module, StringCallback, _p]),
}

# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

_HERE = os.path.dirname(os.path.abspath(__file__))
_lock = threading.Lock()
_lib = None

# libc's free, for the buffers that compiled functions return (they come
# from the process's malloc).
free = ctypes.CDLL(None).free
free.restype = None
free.argtypes = [ctypes.c_void_p]


def _paths():
    try:
        from . import _paths as paths
    except ImportError:
        return None
    return paths


def library_candidates():
    """The paths `load` tries, in order."""
    explicit = os.environ.get("CAGE_LIBRARY")
    if explicit:
        return [explicit]
    paths = _paths()
    candidates = [paths.LIBRARY] if paths else []
    candidates.append(os.path.normpath(
        os.path.join(_HERE, "..", "..", "build", "lib", "libCAGE-C.so")))
    return candidates


# Where Debian's LLVM 22, which cage requires, has its OpenMP runtime: the
# default of the source tree, which has no `_paths.py`.
_LLVM_LIBOMP = "/usr/lib/llvm-22/lib/libomp.so"


def libomp_path():
    """The OpenMP runtime the JIT loads for threaded code: $CAGE_LIBOMP,
    else the one found when cage was configured (as cage-run does), else
    LLVM 22's. The JIT opens it as a file: the path must name one."""
    explicit = os.environ.get("CAGE_LIBOMP")
    if explicit:
        return explicit
    paths = _paths()
    return paths.LIBOMP if paths and paths.LIBOMP else _LLVM_LIBOMP


def _declare(lib):
    for name, (restype, argtypes) in _PROTOTYPES.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes


def load():
    """libCAGE-C.so with its prototypes declared, and cage's passes
    registered; loaded once. Raises LibraryError."""
    global _lib
    with _lock:
        if _lib is not None:
            return _lib
        tried = []
        for path in library_candidates():
            if not os.path.exists(path):
                tried.append(f"{path} (not found)")
                continue
            try:
                lib = ctypes.CDLL(path)
            except OSError as e:
                raise LibraryError(f"cannot load {path}: {e}") from None
            break
        else:
            raise LibraryError(
                "cannot find libCAGE-C.so (tried " + "; ".join(tried) + "): build cage, "
                "import the package from <build>/python or an installed prefix, or set "
                "CAGE_LIBRARY to the library's path")
        try:
            version = lib.cageGetAPIVersion()
        except AttributeError:
            raise LibraryError(f"{path} is not libCAGE-C (no cageGetAPIVersion)") from None
        if version >> 16 != API_MAJOR:
            raise LibraryError(
                f"{path} has the cage C API {version >> 16}.{version & 0xFFFF}; this "
                f"package is written for {API_MAJOR}.x")
        try:
            _declare(lib)
        except AttributeError as e:
            raise LibraryError(f"{path} lacks a function of the C API {API_MAJOR}.x "
                               f"(an older library?): {e}") from None
        # JIT-compiled code resolves what it calls in the process's global
        # scope (libc, libm; libomp the engine loads). Its thread-local error
        # slot is emulated TLS, which calls __emutls_get_address of the
        # compiler's runtime, libgcc_s: a dependency of libCAGE-C.so, so in
        # the global scope of the tools, but loaded locally here like the
        # library. Making libgcc_s global gives the code what the tools give
        # it, without making LLVM's and MLIR's symbols global.
        try:
            ctypes.CDLL("libgcc_s.so.1", mode=ctypes.RTLD_GLOBAL)
        except OSError as e:
            raise LibraryError(f"cannot load libgcc_s.so.1, which compiled code needs: {e}") \
                from None
        # Process-wide and idempotent: makes cage-cpu-pipeline parseable.
        lib.mlirRegisterAllPasses()
        lib.cageRegisterPasses()
        _lib = lib
        return lib
