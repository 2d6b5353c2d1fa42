/*===- CacheBuffers.c - cage-cpu-cache-buffers ----------------------------===*\
|*                                                                            *|
|* A training step allocates its temporaries on every call: activations,    *|
|* packed operands, gradients, tens of MiB. glibc returns blocks that large *|
|* to the kernel when they are freed (munmap, heap trimming), so the next   *|
|* call faults every page in again: on the transformer block of bench/step,  *|
|* 30 000 minor faults and about 250 ms of a 100 ms step. On the LLVM       *|
|* dialect, after everything else, every call to malloc and free of the     *|
|* compiled code goes through a small cache of blocks instead:              *|
|*                                                                            *|
|*   __cage_buffer_take(n): for n >= 64 KiB, a cached block whose usable   *|
|*     size (malloc_usable_size) is n to n + n/8 bytes, if one of the 1024  *|
|*     slots holds one (taken with an atomic exchange, so calls on several  *|
|*     threads never share a block), else malloc(n);                        *|
|*   __cage_buffer_give(p): a block of >= 64 KiB goes into an empty slot    *|
|*     (compare-and-exchange), else, and for smaller ones, to free;          *|
|*   cage_release_buffers(): frees every cached block (a public function,   *|
|*     `void cage_release_buffers(void)` in C).                             *|
|*                                                                            *|
|* Blocks are plain malloc blocks, so a buffer the code returns, which its  *|
|* caller frees with free(), may be a cached one. The slots and the three   *|
|* functions are weak_odr, so all the cage code of a program shares one     *|
|* cache. A repeated step then reuses its blocks and their pages; the       *|
|* memory of the largest call stays with the process until                  *|
|* cage_release_buffers, as with PyTorch's caching allocators. A failed     *|
|* malloc is reported as before. Needs malloc_usable_size (glibc, musl).    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/LLVM.h"

#include <stdbool.h>

#define TAKE "__cage_buffer_take"
#define GIVE "__cage_buffer_give"

/* The cache, in the LLVM dialect (written out rather than built op by op:
 * it is fixed code, like a library's). */
static const char kRuntime[] =
    "module {\n"
    "  llvm.mlir.global weak_odr @__cage_buffer_slots() {addr_space = 0 : i32} "
    ": !llvm.array<1024 x ptr> {\n"
    "    %0 = llvm.mlir.zero : !llvm.array<1024 x ptr>\n"
    "    llvm.return %0 : !llvm.array<1024 x ptr>\n"
    "  }\n"
    "  llvm.func @malloc(i64) -> !llvm.ptr\n"
    "  llvm.func @free(!llvm.ptr)\n"
    "  llvm.func @malloc_usable_size(!llvm.ptr) -> i64\n"
    "  llvm.func weak_odr @__cage_buffer_take(%size: i64) -> !llvm.ptr {\n"
    "    %least = llvm.mlir.constant(65536 : i64) : i64\n"
    "    %count = llvm.mlir.constant(1024 : i64) : i64\n"
    "    %zero = llvm.mlir.constant(0 : i64) : i64\n"
    "    %one = llvm.mlir.constant(1 : i64) : i64\n"
    "    %three = llvm.mlir.constant(3 : i64) : i64\n"
    "    %null = llvm.mlir.zero : !llvm.ptr\n"
    "    %slots = llvm.mlir.addressof @__cage_buffer_slots : !llvm.ptr\n"
    "    %small = llvm.icmp \"ult\" %size, %least : i64\n"
    "    %slack = llvm.lshr %size, %three : i64\n"
    "    %most = llvm.add %size, %slack : i64\n"
    "    llvm.cond_br %small, ^fresh, ^scan(%zero : i64)\n"
    "  ^scan(%i: i64):\n"
    "    %done = llvm.icmp \"eq\" %i, %count : i64\n"
    "    llvm.cond_br %done, ^fresh, ^try\n"
    "  ^try:\n"
    "    %slot = llvm.getelementptr %slots[0, %i] : (!llvm.ptr, i64) -> "
    "!llvm.ptr, !llvm.array<1024 x ptr>\n"
    "    %seen = llvm.load %slot atomic monotonic {alignment = 8 : i64} : "
    "!llvm.ptr -> !llvm.ptr\n"
    "    %vacant = llvm.icmp \"eq\" %seen, %null : !llvm.ptr\n"
    "    llvm.cond_br %vacant, ^next, ^claim\n"
    "  ^claim:\n"
    "    %block = llvm.atomicrmw xchg %slot, %null acq_rel : !llvm.ptr, "
    "!llvm.ptr\n"
    "    %empty = llvm.icmp \"eq\" %block, %null : !llvm.ptr\n"
    "    llvm.cond_br %empty, ^next, ^check\n"
    "  ^check:\n"
    "    %usable = llvm.call @malloc_usable_size(%block) : (!llvm.ptr) -> i64\n"
    "    %enough = llvm.icmp \"uge\" %usable, %size : i64\n"
    "    %close = llvm.icmp \"ule\" %usable, %most : i64\n"
    "    %fits = llvm.and %enough, %close : i1\n"
    "    llvm.cond_br %fits, ^hit, ^putBack\n"
    "  ^hit:\n"
    "    llvm.return %block : !llvm.ptr\n"
    "  ^putBack:\n"
    "    %pair = llvm.cmpxchg %slot, %null, %block acq_rel monotonic : "
    "!llvm.ptr, !llvm.ptr\n"
    "    %kept = llvm.extractvalue %pair[1] : !llvm.struct<(ptr, i1)>\n"
    "    llvm.cond_br %kept, ^next, ^drop\n"
    "  ^drop:\n"
    "    llvm.call @free(%block) : (!llvm.ptr) -> ()\n"
    "    llvm.br ^next\n"
    "  ^next:\n"
    "    %j = llvm.add %i, %one : i64\n"
    "    llvm.br ^scan(%j : i64)\n"
    "  ^fresh:\n"
    "    %new = llvm.call @malloc(%size) : (i64) -> !llvm.ptr\n"
    "    llvm.return %new : !llvm.ptr\n"
    "  }\n"
    "  llvm.func weak_odr @__cage_buffer_give(%block: !llvm.ptr) {\n"
    "    %least = llvm.mlir.constant(65536 : i64) : i64\n"
    "    %count = llvm.mlir.constant(1024 : i64) : i64\n"
    "    %zero = llvm.mlir.constant(0 : i64) : i64\n"
    "    %one = llvm.mlir.constant(1 : i64) : i64\n"
    "    %null = llvm.mlir.zero : !llvm.ptr\n"
    "    %slots = llvm.mlir.addressof @__cage_buffer_slots : !llvm.ptr\n"
    "    %none = llvm.icmp \"eq\" %block, %null : !llvm.ptr\n"
    "    llvm.cond_br %none, ^done, ^measure\n"
    "  ^measure:\n"
    "    %usable = llvm.call @malloc_usable_size(%block) : (!llvm.ptr) -> i64\n"
    "    %small = llvm.icmp \"ult\" %usable, %least : i64\n"
    "    llvm.cond_br %small, ^release, ^scan(%zero : i64)\n"
    "  ^scan(%i: i64):\n"
    "    %full = llvm.icmp \"eq\" %i, %count : i64\n"
    "    llvm.cond_br %full, ^release, ^try\n"
    "  ^try:\n"
    "    %slot = llvm.getelementptr %slots[0, %i] : (!llvm.ptr, i64) -> "
    "!llvm.ptr, !llvm.array<1024 x ptr>\n"
    "    %j = llvm.add %i, %one : i64\n"
    "    %seen = llvm.load %slot atomic monotonic {alignment = 8 : i64} : "
    "!llvm.ptr -> !llvm.ptr\n"
    "    %vacant = llvm.icmp \"eq\" %seen, %null : !llvm.ptr\n"
    "    llvm.cond_br %vacant, ^claim, ^scan(%j : i64)\n"
    "  ^claim:\n"
    "    %pair = llvm.cmpxchg %slot, %null, %block acq_rel monotonic : "
    "!llvm.ptr, !llvm.ptr\n"
    "    %kept = llvm.extractvalue %pair[1] : !llvm.struct<(ptr, i1)>\n"
    "    llvm.cond_br %kept, ^done, ^scan(%j : i64)\n"
    "  ^release:\n"
    "    llvm.call @free(%block) : (!llvm.ptr) -> ()\n"
    "    llvm.br ^done\n"
    "  ^done:\n"
    "    llvm.return\n"
    "  }\n"
    "  llvm.func weak_odr @cage_release_buffers() {\n"
    "    %count = llvm.mlir.constant(1024 : i64) : i64\n"
    "    %zero = llvm.mlir.constant(0 : i64) : i64\n"
    "    %one = llvm.mlir.constant(1 : i64) : i64\n"
    "    %null = llvm.mlir.zero : !llvm.ptr\n"
    "    %slots = llvm.mlir.addressof @__cage_buffer_slots : !llvm.ptr\n"
    "    llvm.br ^scan(%zero : i64)\n"
    "  ^scan(%i: i64):\n"
    "    %done = llvm.icmp \"eq\" %i, %count : i64\n"
    "    llvm.cond_br %done, ^end, ^take\n"
    "  ^take:\n"
    "    %slot = llvm.getelementptr %slots[0, %i] : (!llvm.ptr, i64) -> "
    "!llvm.ptr, !llvm.array<1024 x ptr>\n"
    "    %block = llvm.atomicrmw xchg %slot, %null acq_rel : !llvm.ptr, "
    "!llvm.ptr\n"
    "    llvm.call @free(%block) : (!llvm.ptr) -> ()\n"
    "    %j = llvm.add %i, %one : i64\n"
    "    llvm.br ^scan(%j : i64)\n"
    "  ^end:\n"
    "    llvm.return\n"
    "  }\n"
    "}\n";

static MlirStringRef calleeOf(MlirOperation op) {
  MlirAttribute callee = cageOpAttribute(op, "callee");
  if (mlirAttributeIsNull(callee) || !mlirAttributeIsAFlatSymbolRef(callee))
    return (MlirStringRef){NULL, 0};
  return mlirFlatSymbolRefAttrGetValue(callee);
}

static bool calls(MlirOperation op, const char *name) {
  MlirStringRef callee = calleeOf(op);
  return callee.data && mlirStringRefEqual(callee, cageStr(name));
}

static bool isAllocationCall(MlirOperation op) {
  return cageOpIs(op, "llvm.call") &&
         (calls(op, "malloc") || calls(op, "free"));
}

static void run(MlirOperation module, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options;
  MlirSymbolTable symbols = mlirSymbolTableCreate(module);
  bool cached =
      !mlirOperationIsNull(mlirSymbolTableLookup(symbols, cageStr(TAKE)));
  mlirSymbolTableDestroy(symbols);
  CageOpList sites = cageCollectOpsWhere(module, isAllocationCall);
  if (cached || sites.size == 0) {
    cageOpListDestroy(&sites);
    return;
  }
  MlirContext ctx = mlirOperationGetContext(module);
  MlirModule runtime = mlirModuleCreateParse(ctx, cageStr(kRuntime));
  if (mlirModuleIsNull(runtime)) {
    mlirEmitError(mlirOperationGetLocation(module),
                  "cage-cpu-cache-buffers: the buffer cache does not parse");
    cagePassSignalFailure(pass);
    cageOpListDestroy(&sites);
    return;
  }
  /* Its ops into the module, but for the declarations the module has. */
  cageModuleAddNewSymbols(module, runtime);
  for (intptr_t i = 0; i < sites.size; ++i)
    mlirOperationSetAttributeByName(
        sites.ops[i], cageStr("callee"),
        mlirFlatSymbolRefAttrGet(
            ctx, cageStr(calls(sites.ops[i], "malloc") ? TAKE : GIVE)));
  cageOpListDestroy(&sites);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__llvm__};

const CagePassDefinition cageCPUCacheBuffersPass = {
    .argument = "cage-cpu-cache-buffers",
    .name = "CageCPUCacheBuffers",
    .summary = "Route the compiled code's malloc and free through a cache of "
               "large blocks that a repeated call reuses, pages and all "
               "(cage_release_buffers() frees it)",
    .anchorOp = "builtin.module",
    .options = NULL,
    .numOptions = 0,
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
