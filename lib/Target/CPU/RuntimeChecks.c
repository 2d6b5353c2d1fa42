/*===- RuntimeChecks.c - cage-cpu-runtime-checks --------------------------===*\
|*                                                                            *|
|* Turns the run-time checks of a module (cf.assert: those cage-lower-to-     *|
|* linalg emits for what the verifiers cannot prove, and any the user wrote)  *|
|* into an error status, after bufferization:                                 *|
|*                                                                            *|
|*   - each check's condition is moved to the start of its public function,  *|
|*     so that all checks run before the function reads or writes a buffer;  *|
|*     a check whose condition depends on anything but the arguments,         *|
|*     constants and pure scalar arithmetic (memref.dim included) cannot be   *|
|*     moved and is a compile-time error, as is a check in a private          *|
|*     function (it could not stop its caller);                               *|
|*   - the function then starts with `cf.cond_br %all_ok, ^body, ^fail`;      *|
|*     ^fail stores the message of the first failed check in the thread-     *|
|*     local error slot and returns (ub.poison for any result);               *|
|*   - the slot is cleared on entry, and `cage_last_error()` (a public        *|
|*     function of the module, `const char *cage_last_error(void)` in C)      *|
|*     returns it: NULL after a call that succeeded, the message otherwise.   *|
|*                                                                            *|
|* Nothing aborts the host process, and nothing is written on error.          *|
|* docs/Semantics.md §2.4 states the contract; docs/Tools.md the C ABI.       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Location.h"
#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/ControlFlow.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/Dialect/LLVM.h"
#include "mlir-c/Dialect/MemRef.h"
#include "mlir-c/Dialect/SCF.h"
#include "mlir-c/Dialect/UB.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char kErrorSlot[] = CAGE_CPU_ERROR_SLOT;
static const char kAccessor[] = "cage_last_error";

static MlirType ptrType(MlirContext ctx) {
  return mlirLLVMPointerTypeGet(ctx, 0);
}

static MlirNamedAttribute named(MlirContext ctx, const char *name,
                                MlirAttribute attr) {
  return mlirNamedAttributeGet(mlirIdentifierGet(ctx, cageStr(name)), attr);
}

/*===--- Module-level symbols ---------------------------------------------===*/

/* The error slot and its accessor are the same in every compiled module,
 * and weak_odr: the linker keeps one copy (and, unlike linkonce_odr, the
 * optimizer keeps the unused accessor), so all cage objects of a
 * program share one cage_last_error() and one slot per thread (like errno),
 * and objects compiled apart link together. */
static const char kSharedLinkage[] = "#llvm.linkage<weak_odr>";

/* `llvm.mlir.global internal constant @name` initialized with `value`, or,
 * with a null `value`, the thread-local error slot (shared linkage), whose
 * initializer region returns a null pointer; appended to the module body. */
static void buildGlobal(MlirOperation module, const char *name, MlirType type,
                        MlirAttribute value, bool threadLocal) {
  MlirContext ctx = mlirOperationGetContext(module);
  MlirLocation loc = mlirLocationUnknownGet(ctx);
  MlirNamedAttribute attrs[5];
  intptr_t n = 0;
  attrs[n++] = named(ctx, "sym_name", mlirStringAttrGet(ctx, cageStr(name)));
  attrs[n++] = named(ctx, "global_type", mlirTypeAttrGet(type));
  attrs[n++] =
      named(ctx, "linkage",
            mlirAttributeParseGet(
                ctx, cageStr(threadLocal ? kSharedLinkage
                                         : "#llvm.linkage<internal>")));
  attrs[n++] = named(ctx, threadLocal ? "thread_local_" : "constant",
                     mlirUnitAttrGet(ctx));
  if (!mlirAttributeIsNull(value))
    attrs[n++] = named(ctx, "value", value);
  MlirOperationState state =
      mlirOperationStateGet(cageStr("llvm.mlir.global"), loc);
  mlirOperationStateAddAttributes(&state, n, attrs);
  MlirRegion init = mlirRegionCreate();
  if (mlirAttributeIsNull(value)) {
    MlirBlock block = mlirBlockCreate(0, NULL, NULL);
    mlirRegionAppendOwnedBlock(init, block);
    CageBuilder b = cageBuilderAtEndOfBlock(block, loc);
    MlirType ptr = ptrType(ctx);
    MlirValue zero = cageOperationGetResult(
        cageBuildOp(&b, "llvm.mlir.zero", 0, NULL, 1, &ptr, 0, NULL), 0);
    cageBuildOp(&b, "llvm.return", 1, &zero, 0, NULL, 0, NULL);
  }
  mlirOperationStateAddOwnedRegions(&state, 1, &init);
  mlirBlockAppendOwnedOperation(
      mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0)),
      mlirOperationCreate(&state));
}

MlirValue cageCPUAddressOf(CageBuilder *b, MlirStringRef global) {
  MlirType ptr = ptrType(b->context);
  MlirNamedAttribute attr = cageNamedAttribute(
      b, "global_name", mlirFlatSymbolRefAttrGet(b->context, global));
  return cageOperationGetResult(
      cageBuildOp(b, "llvm.mlir.addressof", 0, NULL, 1, &ptr, 1, &attr), 0);
}

static MlirValue addressOf(CageBuilder *b, const char *global) {
  return cageCPUAddressOf(b, cageStr(global));
}

static MlirValue nullPointer(CageBuilder *b) {
  MlirType ptr = ptrType(b->context);
  return cageOperationGetResult(
      cageBuildOp(b, "llvm.mlir.zero", 0, NULL, 1, &ptr, 0, NULL), 0);
}

static void store(CageBuilder *b, MlirValue value, MlirValue address) {
  MlirValue operands[] = {value, address};
  cageBuildOp(b, "llvm.store", 2, operands, 0, NULL, 0, NULL);
}

/* func.func @cage_last_error() -> !llvm.ptr: the slot of this thread. */
static void buildAccessor(MlirOperation module) {
  MlirContext ctx = mlirOperationGetContext(module);
  MlirLocation loc = mlirLocationUnknownGet(ctx);
  MlirType ptr = ptrType(ctx);
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  CageBuilder b = cageBuilderAtEndOfBlock(body, loc);
  MlirBlock entry;
  MlirOperation func = cageBuildFunc(
      &b, kAccessor, mlirFunctionTypeGet(ctx, 0, NULL, 1, &ptr), &entry);
  mlirOperationSetDiscardableAttributeByName(
      func, cageStr("llvm.linkage"),
      mlirAttributeParseGet(ctx, cageStr(kSharedLinkage)));
  CageBuilder e = cageBuilderAtEndOfBlock(entry, loc);
  MlirValue slot = addressOf(&e, kErrorSlot);
  MlirValue message = cageOperationGetResult(
      cageBuildOp(&e, "llvm.load", 1, &slot, 1, &ptr, 0, NULL), 0);
  cageBuildReturn(&e, &message, 1);
}

/*===--- Moving the checks to the entry -----------------------------------===*/

/* Ops a check's condition may be computed with: pure, and reading no
 * buffer contents (memref.dim reads the descriptor only). */
static bool isMovable(MlirOperation op) {
  return mlirOperationGetNumRegions(op) == 0 &&
         (cageOpHasPrefix(op, "arith.") || cageOpHasPrefix(op, "index.") ||
          cageOpIs(op, "memref.dim") || cageOpIs(op, "tensor.dim") ||
          /* Views: the descriptor of a new view of the same buffer. */
          cageOpIs(op, "memref.expand_shape") ||
          cageOpIs(op, "memref.collapse_shape") ||
          cageOpIs(op, "memref.cast") || cageOpIs(op, "memref.subview") ||
          cageOpIs(op, "affine.apply") || cageOpIs(op, "affine.min") ||
          cageOpIs(op, "affine.max") || cageOpIs(op, "ub.poison"));
}

typedef struct Mover {
  MlirBlock entry;
  MlirOperation anchor; /* moved ops go before it, at the top of entry */
  MlirOperation *moved;
  intptr_t numMoved, capacity;
} Mover;

static bool wasMoved(const Mover *m, MlirOperation op) {
  for (intptr_t i = 0; i < m->numMoved; ++i)
    if (mlirOperationEqual(m->moved[i], op))
      return true;
  return false;
}

/* Moves what `value` is computed from before the anchor; false if it cannot
 * be (then some ops may have moved already, which keeps the IR valid: they
 * are pure and only move up within the function). */
static bool moveUp(Mover *m, MlirValue value) {
  if (mlirValueIsABlockArgument(value))
    return mlirBlockEqual(mlirBlockArgumentGetOwner(value), m->entry);
  MlirOperation op = mlirOpResultGetOwner(value);
  if (wasMoved(m, op))
    return true;
  if (!isMovable(op))
    return false;
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(op); ++i)
    if (!moveUp(m, mlirOperationGetOperand(op, i)))
      return false;
  mlirOperationMoveBefore(op, m->anchor);
  if (m->numMoved == m->capacity) {
    m->capacity = m->capacity ? 2 * m->capacity : 16;
    m->moved = realloc(m->moved, (size_t)m->capacity * sizeof *m->moved);
    if (!m->moved)
      abort();
  }
  m->moved[m->numMoved++] = op;
  return true;
}

/*===--- Per function -----------------------------------------------------===*/

static bool isPublicDefinition(MlirOperation func) {
  if (mlirRegionIsNull(mlirOperationGetRegion(func, 0)) ||
      mlirBlockIsNull(mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0))))
    return false;
  MlirAttribute vis = cageOpAttribute(func, "sym_visibility");
  return mlirAttributeIsNull(vis) ||
         mlirStringRefEqual(mlirStringAttrGetValue(vis), cageStr("public"));
}

typedef struct Checks {
  MlirOperation *asserts;
  intptr_t size, capacity;
} Checks;

static MlirWalkResult collectAssert(MlirOperation op, void *userData) {
  Checks *c = userData;
  if (!cageOpIs(op, "cf.assert"))
    return MlirWalkResultAdvance;
  if (c->size == c->capacity) {
    c->capacity = c->capacity ? 2 * c->capacity : 16;
    c->asserts = realloc(c->asserts, (size_t)c->capacity * sizeof *c->asserts);
    if (!c->asserts)
      abort();
  }
  c->asserts[c->size++] = op;
  return MlirWalkResultAdvance;
}

/* A global string constant for `message`, NUL-terminated; its name. */
static void messageGlobal(MlirOperation module, MlirStringRef message,
                          int index, char *name, size_t size) {
  MlirContext ctx = mlirOperationGetContext(module);
  snprintf(name, size, "__cage_check_message_%d", index);
  char *text = malloc(message.length + 1);
  if (!text)
    abort();
  memcpy(text, message.data, message.length);
  text[message.length] = '\0';
  MlirType type = mlirLLVMArrayTypeGet(mlirIntegerTypeGet(ctx, 8),
                                       (unsigned)message.length + 1);
  buildGlobal(module, name, type,
              mlirStringAttrGet(ctx, (MlirStringRef){text, message.length + 1}),
              false);
  free(text);
}

/* Moves the rest of `block` from `from` on into a new block after it. */
static MlirBlock splitBefore(MlirBlock block, MlirOperation from) {
  MlirBlock rest = mlirBlockCreate(0, NULL, NULL);
  mlirRegionInsertOwnedBlockAfter(mlirBlockGetParentRegion(block), block, rest);
  for (MlirOperation op = from; !mlirOperationIsNull(op);) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    mlirOperationRemoveFromParent(op);
    mlirBlockAppendOwnedOperation(rest, op);
    op = next;
  }
  return rest;
}

typedef struct ModuleState {
  MlirOperation module;
  int numMessages;
  bool ok;
} ModuleState;

/* One condition the entry branches on, and what to say when it is false. */
typedef struct Check {
  MlirValue ok;
  char message[512];
} Check;

typedef struct CheckList {
  Check *checks;
  intptr_t size, capacity;
} CheckList;

static Check *addCheck(CheckList *list, MlirValue ok) {
  if (list->size == list->capacity) {
    list->capacity = list->capacity ? 2 * list->capacity : 16;
    list->checks =
        realloc(list->checks, (size_t)list->capacity * sizeof *list->checks);
    if (!list->checks)
      abort();
  }
  Check *c = &list->checks[list->size++];
  c->ok = ok;
  c->message[0] = '\0';
  return c;
}

/* "out of memory: cannot allocate memref<...> at file:line:col". */
static void allocationMessage(MlirOperation alloc, char *buf, size_t size) {
  CageText t = cageTextOver(buf, size);
  cageTextAppend(cageStr("out of memory: cannot allocate "), &t);
  mlirTypePrint(mlirValueGetType(mlirOperationGetResult(alloc, 0)),
                cageTextAppend, &t);
  CageFileLineCol where;
  if (cageLocationFindFile(mlirOperationGetLocation(alloc), &where)) {
    char text[256];
    snprintf(text, sizeof text, " for the op at %.*s:%d:%d",
             (int)where.file.length, where.file.data, where.line, where.column);
    cageTextAppend(cageStr(text), &t);
  }
}

static bool isEmptyBuffer(MlirType type) {
  for (intptr_t d = 0; d < mlirShapedTypeGetRank(type); ++d)
    if (!mlirShapedTypeIsDynamicDim(type, d) &&
        mlirShapedTypeGetDimSize(type, d) == 0)
      return true;
  return false;
}

/* `%ok`: the buffer `alloc` made is not null, or it is empty (malloc(0)
 * may return null). */
static MlirValue allocationSucceeded(CageBuilder *b, MlirOperation alloc) {
  MlirType index = mlirIndexTypeGet(b->context);
  MlirValue zero = cageBuildConstantIndex(b, 0);
  MlirValue pointer = cageOperationGetResult(
      cageBuildOp(b, "memref.extract_aligned_pointer_as_index", 1,
                  (MlirValue[]){mlirOperationGetResult(alloc, 0)}, 1, &index, 0,
                  NULL),
      0);
  MlirValue ok = cageBuildCmpI(b, CageCmpINE, pointer, zero);
  /* The dynamic sizes (the operands): a zero one makes the buffer empty. */
  if (mlirOperationGetNumOperands(alloc) > 0) {
    MlirValue elements = mlirOperationGetOperand(alloc, 0);
    for (intptr_t i = 1; i < mlirOperationGetNumOperands(alloc); ++i)
      elements = cageBuildMulI(b, elements, mlirOperationGetOperand(alloc, i));
    ok = cageBuildOrI(b, ok, cageBuildCmpI(b, CageCmpIEQ, elements, zero));
  }
  return ok;
}

/* Moves the memref.allocs at the top level of the entry block (with the
 * computation of their sizes) before the anchor, so that they happen before
 * anything is written; `allocs` receives those moved. Allocations in nested
 * regions (loops), of empty buffers or of sizes computed from data are left
 * where they are. */
static void moveAllocations(Mover *m, CageOpList *allocs) {
  for (MlirOperation op = mlirBlockGetFirstOperation(m->entry);
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op))
    if (cageOpIs(op, "memref.alloc")) {
      if (allocs->size == allocs->capacity) {
        allocs->capacity = allocs->capacity ? 2 * allocs->capacity : 16;
        allocs->ops = realloc(allocs->ops,
                              (size_t)allocs->capacity * sizeof *allocs->ops);
        if (!allocs->ops)
          abort();
      }
      allocs->ops[allocs->size++] = op;
    }
  intptr_t numMoved = 0;
  for (intptr_t k = 0; k < allocs->size; ++k) {
    MlirOperation alloc = allocs->ops[k];
    bool movable =
        !isEmptyBuffer(mlirValueGetType(mlirOperationGetResult(alloc, 0)));
    for (intptr_t i = 0; movable && i < mlirOperationGetNumOperands(alloc); ++i)
      movable = moveUp(m, mlirOperationGetOperand(alloc, i));
    if (!movable)
      continue;
    mlirOperationMoveBefore(alloc, m->anchor);
    allocs->ops[numMoved++] = alloc;
  }
  allocs->size = numMoved;
}

/* A check per moved allocation. */
static void checkAllocations(CageBuilder *b, CheckList *list,
                             const CageOpList *allocs) {
  for (intptr_t k = 0; k < allocs->size; ++k) {
    Check *c = addCheck(list, allocationSucceeded(b, allocs->ops[k]));
    allocationMessage(allocs->ops[k], c->message, sizeof c->message);
  }
}

/*===--- Allocations that stay where they are -----------------------------===*/

/* An allocation that cannot move to the entry (inside a loop body, or sized
 * from something the function computes) is checked where it happens. When
 * it fails, the rest of its block is skipped (every user of the buffer is
 * in that block, after it), the number of its site goes into a flag of the
 * call, and each return of the function stores that site's message in the
 * error slot. The flag, not the thread-local slot, is written where the
 * allocation fails: that may be a worker thread of a parallel loop, and the
 * caller reads the slot of its own thread. Outputs may then be partly
 * written (docs/Semantics.md §2.4). */

typedef struct Sites {
  MlirOperation *allocs; /* site k + 1 is allocs[k] */
  intptr_t size, capacity;
} Sites;

static bool listHas(const CageOpList *list, MlirOperation op) {
  for (intptr_t i = 0; i < list->size; ++i)
    if (mlirOperationEqual(list->ops[i], op))
      return true;
  return false;
}

typedef struct SiteWalk {
  Sites *sites;
  const CageOpList *checked; /* moved to the entry and checked there */
} SiteWalk;

static MlirWalkResult collectSite(MlirOperation op, void *userData) {
  SiteWalk *w = userData;
  if (!cageOpIs(op, "memref.alloc") || listHas(w->checked, op) ||
      isEmptyBuffer(mlirValueGetType(mlirOperationGetResult(op, 0))))
    return MlirWalkResultAdvance;
  Sites *s = w->sites;
  if (s->size == s->capacity) {
    s->capacity = s->capacity ? 2 * s->capacity : 16;
    s->allocs = realloc(s->allocs, (size_t)s->capacity * sizeof *s->allocs);
    if (!s->allocs)
      abort();
  }
  s->allocs[s->size++] = op;
  return MlirWalkResultAdvance;
}

/* The op of `block` that holds `op` (itself or an ancestor), or null. */
static MlirOperation ancestorIn(MlirBlock block, MlirOperation op) {
  while (!mlirOperationIsNull(op) &&
         !mlirBlockEqual(mlirOperationGetBlock(op), block))
    op = mlirOperationGetParentOperation(op);
  return op;
}

/* Whether `op` is in `range` (ops of one block). */
static bool inRange(const CageOpList *range, MlirOperation op) {
  return !mlirOperationIsNull(op) && listHas(range, op);
}

/* Wraps the ops after `ok`'s definition in its block (but the terminator)
 * into `scf.if %ok { ops } else { free; flag = site; poison }`; values of
 * the wrapped ops that are used after them become results of the scf.if.
 * The deallocations of buffers made before stay where they are among the
 * ops (so that cage-cpu-free-early's placement after the last use holds),
 * and the else branch frees those buffers too: every path frees each
 * buffer once. */
static void guardRest(CageBuilder *b, MlirOperation alloc, MlirValue ok,
                      MlirValue flag, int32_t site) {
  MlirOperation from = cageDefiningOp(ok);
  MlirBlock block = mlirOperationGetBlock(from);
  MlirOperation terminator = mlirBlockGetTerminator(block);
  CageOpList range = {NULL, 0, 0};
  for (MlirOperation op = mlirOperationGetNextInBlock(from);
       !mlirOperationIsNull(op) && !mlirOperationEqual(op, terminator);
       op = mlirOperationGetNextInBlock(op)) {
    if (range.size == range.capacity) {
      range.capacity = range.capacity ? 2 * range.capacity : 16;
      range.ops =
          realloc(range.ops, (size_t)range.capacity * sizeof *range.ops);
      if (!range.ops)
        abort();
    }
    range.ops[range.size++] = op;
  }

  /* The values used after the range. */
  MlirValue *escaping = NULL;
  MlirType *types = NULL;
  intptr_t numEscaping = 0;
  for (intptr_t i = 0; i < range.size; ++i)
    for (intptr_t r = 0; r < mlirOperationGetNumResults(range.ops[i]); ++r) {
      MlirValue v = mlirOperationGetResult(range.ops[i], r);
      bool escapes = false;
      for (MlirOpOperand use = mlirValueGetFirstUse(v);
           !mlirOpOperandIsNull(use) && !escapes;
           use = mlirOpOperandGetNextUse(use))
        escapes =
            !inRange(&range, ancestorIn(block, mlirOpOperandGetOwner(use)));
      if (!escapes)
        continue;
      escaping =
          realloc(escaping, (size_t)(numEscaping + 1) * sizeof *escaping);
      types = realloc(types, (size_t)(numEscaping + 1) * sizeof *types);
      if (!escaping || !types)
        abort();
      escaping[numEscaping] = v;
      types[numEscaping++] = mlirValueGetType(v);
    }

  MlirBlock thenBlock = mlirBlockCreate(0, NULL, NULL);
  MlirBlock elseBlock = mlirBlockCreate(0, NULL, NULL);
  for (intptr_t i = 0; i < range.size; ++i) {
    mlirOperationRemoveFromParent(range.ops[i]);
    mlirBlockAppendOwnedOperation(thenBlock, range.ops[i]);
  }
  CageBuilder t = cageBuilderAtEndOfBlock(thenBlock, b->location);
  cageBuildOp(&t, "scf.yield", numEscaping, escaping, 0, NULL, 0, NULL);
  CageBuilder e = cageBuilderAtEndOfBlock(elseBlock, b->location);
  for (intptr_t i = 0; i < range.size; ++i) {
    MlirOperation op = range.ops[i];
    if (!cageOpIs(op, "memref.dealloc"))
      continue;
    MlirOperation buffer = cageDefiningOp(mlirOperationGetOperand(op, 0));
    /* Not the failed allocation itself, nor what the skipped ops made. */
    if (!inRange(&range, buffer) &&
        (mlirOperationIsNull(buffer) || !mlirOperationEqual(buffer, alloc)))
      cageBuilderInsert(&e, mlirOperationClone(op));
  }
  MlirType i32 = mlirIntegerTypeGet(b->context, 32);
  MlirValue rmwOperands[] = {cageBuildConstantInt(&e, i32, site), flag};
  /* arith::AtomicRMWKind::assign: an atomic store, as sites may fail on
   * several threads at once. */
  enum { kAtomicAssign = 3 };
  MlirNamedAttribute assign = cageNamedAttribute(
      &e, "kind",
      mlirIntegerAttrGet(mlirIntegerTypeGet(b->context, 64), kAtomicAssign));
  cageBuildOp(&e, "memref.atomic_rmw", 2, rmwOperands, 1, &i32, 1, &assign);
  MlirValue *poison = calloc((size_t)numEscaping + 1, sizeof *poison);
  if (!poison)
    abort();
  for (intptr_t i = 0; i < numEscaping; ++i)
    poison[i] = cageOperationGetResult(
        cageBuildOp(&e, "ub.poison", 0, NULL, 1, &types[i], 0, NULL), 0);
  cageBuildOp(&e, "scf.yield", numEscaping, poison, 0, NULL, 0, NULL);

  MlirOperationState state =
      mlirOperationStateGet(cageStr("scf.if"), b->location);
  mlirOperationStateAddOperands(&state, 1, &ok);
  mlirOperationStateAddResults(&state, numEscaping, types);
  MlirRegion regions[] = {mlirRegionCreate(), mlirRegionCreate()};
  mlirRegionAppendOwnedBlock(regions[0], thenBlock);
  mlirRegionAppendOwnedBlock(regions[1], elseBlock);
  mlirOperationStateAddOwnedRegions(&state, 2, regions);
  MlirOperation guard = mlirOperationCreate(&state);
  mlirBlockInsertOwnedOperationAfter(block, from, guard);

  /* Uses after the scf.if read its results. */
  for (intptr_t i = 0; i < numEscaping; ++i) {
    MlirValue result = mlirOperationGetResult(guard, i);
    for (MlirOpOperand use = mlirValueGetFirstUse(escaping[i]);
         !mlirOpOperandIsNull(use);) {
      MlirOpOperand next = mlirOpOperandGetNextUse(use);
      MlirOperation owner = mlirOpOperandGetOwner(use);
      if (mlirOperationEqual(ancestorIn(block, owner), guard) == false)
        mlirOperationSetOperand(owner, mlirOpOperandGetOperandNumber(use),
                                result);
      use = next;
    }
  }
  free(poison);
  free(types);
  free(escaping);
  free(range.ops);
}

/* Before each func.return of `func` but those of `failBlock`: when a site
 * failed, its message goes into the error slot. */
static void reportSites(ModuleState *s, MlirOperation func, MlirValue flag,
                        const Sites *sites, MlirBlock failBlock) {
  static const char *const names[] = {"func.return"};
  CageOpList returns = cageCollectOps(func, names, 1);
  int firstMessage = s->numMessages;
  for (intptr_t k = 0; k < sites->size; ++k) {
    char text[512], name[64];
    allocationMessage(sites->allocs[k], text, sizeof text);
    messageGlobal(s->module, cageStr(text), s->numMessages++, name,
                  sizeof name);
  }
  MlirContext ctx = mlirOperationGetContext(func);
  for (intptr_t i = 0; i < returns.size; ++i) {
    MlirOperation ret = returns.ops[i];
    if (!mlirBlockIsNull(failBlock) &&
        mlirBlockEqual(mlirOperationGetBlock(ret), failBlock))
      continue;
    MlirRewriterBase rewriter = mlirIRRewriterCreateFromOp(ret);
    mlirRewriterBaseSetInsertionPointBefore(rewriter, ret);
    CageBuilder b =
        cageBuilderAtInsertionPoint(rewriter, mlirOperationGetLocation(ret));
    MlirType i32 = mlirIntegerTypeGet(ctx, 32);
    MlirValue failed = cageOperationGetResult(
        cageBuildOp(&b, "memref.load", 1, &flag, 1, &i32, 0, NULL), 0);
    MlirValue slot = addressOf(&b, kErrorSlot);
    MlirType ptr = ptrType(ctx);
    MlirValue message = cageOperationGetResult(
        cageBuildOp(&b, "llvm.load", 1, &slot, 1, &ptr, 0, NULL), 0);
    for (intptr_t k = 0; k < sites->size; ++k) {
      char name[64];
      snprintf(name, sizeof name, "__cage_check_message_%d",
               firstMessage + (int)k);
      MlirValue isSite =
          cageBuildCmpI(&b, CageCmpIEQ, failed,
                        cageBuildConstantInt(&b, i32, (int64_t)k + 1));
      message = cageBuildSelect(&b, isSite, addressOf(&b, name), message);
    }
    store(&b, message, slot);
    mlirIRRewriterDestroy(rewriter);
  }
  cageOpListDestroy(&returns);
}

/* Guards every allocation of `func` that is not in `checked`. */
static void guardAllocations(ModuleState *s, MlirOperation func,
                             const CageOpList *checked, MlirBlock failBlock) {
  Sites sites = {NULL, 0, 0};
  SiteWalk walk = {&sites, checked};
  mlirOperationWalk(func, collectSite, &walk, MlirWalkPreOrder);
  if (sites.size == 0)
    return;
  MlirContext ctx = mlirOperationGetContext(func);
  MlirBlock entry = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  MlirRewriterBase rewriter = mlirIRRewriterCreateFromOp(func);
  mlirRewriterBaseSetInsertionPointToStart(rewriter, entry);
  CageBuilder b =
      cageBuilderAtInsertionPoint(rewriter, mlirOperationGetLocation(func));
  MlirType i32 = mlirIntegerTypeGet(ctx, 32);
  MlirType flagType = mlirMemRefTypeGet(i32, 0, NULL, mlirAttributeGetNull(),
                                        mlirAttributeGetNull());
  int32_t noOperands[] = {0, 0}; /* dynamic sizes, symbols */
  MlirNamedAttribute segments = cageNamedAttribute(
      &b, "operandSegmentSizes", mlirDenseI32ArrayGet(ctx, 2, noOperands));
  MlirValue flag = cageOperationGetResult(
      cageBuildOp(&b, "memref.alloca", 0, NULL, 1, &flagType, 1, &segments), 0);
  MlirValue storeOperands[] = {cageBuildConstantInt(&b, i32, 0), flag};
  cageBuildOp(&b, "memref.store", 2, storeOperands, 0, NULL, 0, NULL);
  for (intptr_t k = 0; k < sites.size; ++k) {
    MlirOperation alloc = sites.allocs[k];
    mlirRewriterBaseSetInsertionPointAfter(rewriter, alloc);
    CageBuilder at =
        cageBuilderAtInsertionPoint(rewriter, mlirOperationGetLocation(alloc));
    guardRest(&at, alloc, allocationSucceeded(&at, alloc), flag,
              (int32_t)k + 1);
  }
  mlirIRRewriterDestroy(rewriter);
  reportSites(s, func, flag, &sites, failBlock);
  free(sites.allocs);
}

/* The failure block: free what was allocated, store the message, return
 * poison. */
static MlirBlock buildFailure(MlirOperation func, MlirBlock after,
                              MlirValue message, const CageOpList *allocs) {
  MlirLocation loc = mlirOperationGetLocation(func);
  MlirBlock fail = mlirBlockCreate(0, NULL, NULL);
  mlirRegionInsertOwnedBlockAfter(mlirBlockGetParentRegion(after), after, fail);
  CageBuilder b = cageBuilderAtEndOfBlock(fail, loc);
  /* free(NULL) does nothing: the allocations that failed are freed too. */
  for (intptr_t i = 0; i < allocs->size; ++i) {
    MlirValue buffer = mlirOperationGetResult(allocs->ops[i], 0);
    cageBuildOp(&b, "memref.dealloc", 1, &buffer, 0, NULL, 0, NULL);
  }
  store(&b, message, addressOf(&b, kErrorSlot));
  MlirType type = mlirTypeAttrGetValue(cageOpAttribute(func, "function_type"));
  intptr_t numResults = mlirFunctionTypeGetNumResults(type);
  MlirValue *results = calloc((size_t)numResults + 1, sizeof *results);
  for (intptr_t i = 0; i < numResults; ++i) {
    MlirType t = mlirFunctionTypeGetResult(type, i);
    results[i] = cageOperationGetResult(
        cageBuildOp(&b, "ub.poison", 0, NULL, 1, &t, 0, NULL), 0);
  }
  cageBuildReturn(&b, results, numResults);
  free(results);
  return fail;
}

/*===--- Memref descriptors of the arguments -----------------------------===*/

/* The code of a public function reads an argument of identity layout as a
 * dense row-major array of the static sizes of its type, whatever offset,
 * strides and sizes its memref descriptor carries. Those fields exist only
 * after the lowering to LLVM, so the checks are built there
 * (cage-cpu-check-descriptors); this records what they need on the function:
 * `cage.descriptor_checks`, one entry per argument, `unit` for a scalar,
 * `[array<i64: static sizes>, "message global"]` for a memref of identity
 * layout, `array<i64: sizes>` for another memref (fields counted, not
 * checked). Functions with other argument types get no entry. */
static const char kDescriptorChecks[] = CAGE_CPU_DESCRIPTOR_CHECKS;

static void recordDescriptors(ModuleState *s, MlirOperation func) {
  MlirContext ctx = mlirOperationGetContext(func);
  MlirType type = mlirTypeAttrGetValue(cageOpAttribute(func, "function_type"));
  intptr_t n = mlirFunctionTypeGetNumInputs(type);
  MlirAttribute *entries = calloc((size_t)n + 1, sizeof *entries);
  if (!entries)
    abort();
  bool anyMemref = false;
  MlirStringRef name =
      mlirStringAttrGetValue(cageOpAttribute(func, "sym_name"));
  for (intptr_t i = 0; i < n; ++i) {
    MlirType t = mlirFunctionTypeGetInput(type, i);
    if (mlirTypeIsAInteger(t) || mlirTypeIsAFloat(t) || mlirTypeIsAIndex(t)) {
      entries[i] = mlirUnitAttrGet(ctx);
      continue;
    }
    if (!mlirTypeIsAMemRef(t)) {
      free(entries);
      return;
    }
    anyMemref = true;
    intptr_t rank = mlirShapedTypeGetRank(t);
    int64_t *shape = calloc((size_t)rank + 1, sizeof *shape);
    if (!shape)
      abort();
    for (intptr_t d = 0; d < rank; ++d)
      shape[d] = mlirShapedTypeIsDynamicDim(t, d)
                     ? -1
                     : mlirShapedTypeGetDimSize(t, d);
    MlirAttribute sizes = mlirDenseI64ArrayGet(ctx, rank, shape);
    free(shape);
    if (!mlirAffineMapIsIdentity(mlirMemRefTypeGetAffineMap(t))) {
      entries[i] = sizes;
      continue;
    }
    char text[512], global[64];
    CageText message = cageTextOver(text, sizeof text);
    char head[256];
    snprintf(head, sizeof head, "'%.*s': argument %lld is not a dense ",
             (int)name.length, name.data, (long long)i);
    cageTextAppend(cageStr(head), &message);
    mlirTypePrint(t, cageTextAppend, &message);
    cageTextAppend(cageStr(" (its descriptor must have offset 0, row-major "
                           "strides and the static sizes of the type)"),
                   &message);
    messageGlobal(s->module, cageStr(text), s->numMessages++, global,
                  sizeof global);
    MlirAttribute pair[] = {sizes, mlirStringAttrGet(ctx, cageStr(global))};
    entries[i] = mlirArrayAttrGet(ctx, 2, pair);
  }
  if (anyMemref)
    mlirOperationSetDiscardableAttributeByName(
        func, cageStr(kDescriptorChecks), mlirArrayAttrGet(ctx, n, entries));
  free(entries);
}

static void rewriteFunction(ModuleState *s, MlirOperation func,
                            bool hoistAllocations) {
  MlirContext ctx = mlirOperationGetContext(func);
  MlirBlock entry = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  bool isPublic = isPublicDefinition(func);
  Checks asserts = {NULL, 0, 0};
  mlirOperationWalk(func, collectAssert, &asserts, MlirWalkPreOrder);
  if (!isPublic) {
    for (intptr_t i = 0; i < asserts.size; ++i) {
      mlirEmitError(mlirOperationGetLocation(asserts.asserts[i]),
                    "cage-cpu-runtime-checks: a run-time check in a private "
                    "function cannot stop the step before it writes; call "
                    "the ops from the public function instead");
      s->ok = false;
    }
    free(asserts.asserts);
    CageOpList none = {NULL, 0, 0};
    if (s->ok)
      guardAllocations(s, func, &none, (MlirBlock){NULL});
    return;
  }

  recordDescriptors(s, func);

  /* Clear the slot first; the checks' conditions and the allocations move
   * before that store, and the branch on them follows it. */
  MlirRewriterBase rewriter = mlirIRRewriterCreateFromOp(func);
  mlirRewriterBaseSetInsertionPointToStart(rewriter, entry);
  CageBuilder b =
      cageBuilderAtInsertionPoint(rewriter, mlirOperationGetLocation(func));
  MlirValue cleared = nullPointer(&b);
  MlirValue slot = addressOf(&b, kErrorSlot);
  MlirValue storeOperands[] = {cleared, slot};
  MlirOperation reset =
      cageBuildOp(&b, "llvm.store", 2, storeOperands, 0, NULL, 0, NULL);
  Mover mover = {entry, cageDefiningOp(cleared), NULL, 0, 0};
  CheckList checks = {NULL, 0, 0};
  for (intptr_t i = 0; i < asserts.size; ++i) {
    MlirValue condition = mlirOperationGetOperand(asserts.asserts[i], 0);
    if (!moveUp(&mover, condition)) {
      mlirEmitError(mlirOperationGetLocation(asserts.asserts[i]),
                    "cage-cpu-runtime-checks: this run-time check depends on "
                    "a value the function computes, so it cannot run before "
                    "the function writes; sizes and step counts must come "
                    "from the function's arguments");
      s->ok = false;
    }
    Check *c = addCheck(&checks, condition);
    MlirStringRef msg =
        mlirStringAttrGetValue(cageOpAttribute(asserts.asserts[i], "msg"));
    snprintf(c->message, sizeof c->message, "%.*s", (int)msg.length, msg.data);
  }
  CageOpList allocs = {NULL, 0, 0};
  if (s->ok && hoistAllocations)
    moveAllocations(&mover, &allocs);
  /* After the moves: the insertion point is the op that follows `reset`. */
  mlirRewriterBaseSetInsertionPointAfter(rewriter, reset);
  b = cageBuilderAtInsertionPoint(rewriter, mlirOperationGetLocation(func));
  checkAllocations(&b, &checks, &allocs);

  MlirBlock fail = {NULL};
  if (s->ok && checks.size > 0) {
    /* The message of the first failed check: built from the last. */
    MlirValue message = nullPointer(&b);
    MlirValue allOk = cageBuildConstantInt(&b, mlirIntegerTypeGet(ctx, 1), 1);
    for (intptr_t i = checks.size - 1; i >= 0; --i) {
      char name[64];
      messageGlobal(s->module, cageStr(checks.checks[i].message),
                    s->numMessages++, name, sizeof name);
      message = cageBuildSelect(&b, checks.checks[i].ok, message,
                                addressOf(&b, name));
      allOk = cageBuildAndI(&b, allOk, checks.checks[i].ok);
    }
    for (intptr_t i = 0; i < asserts.size; ++i)
      mlirOperationDestroy(asserts.asserts[i]);
    MlirBlock body =
        splitBefore(entry, mlirOperationGetNextInBlock(cageDefiningOp(allOk)));
    fail = buildFailure(func, body, message, &allocs);
    MlirOperationState branch =
        mlirOperationStateGet(cageStr("cf.cond_br"), b.location);
    mlirOperationStateAddOperands(&branch, 1, &allOk);
    MlirBlock successors[] = {body, fail};
    mlirOperationStateAddSuccessors(&branch, 2, successors);
    int32_t segments[] = {1, 0, 0};
    MlirNamedAttribute sizes = named(ctx, "operandSegmentSizes",
                                     mlirDenseI32ArrayGet(ctx, 3, segments));
    mlirOperationStateAddAttributes(&branch, 1, &sizes);
    mlirBlockAppendOwnedOperation(entry, mlirOperationCreate(&branch));
  }
  mlirIRRewriterDestroy(rewriter);
  if (s->ok)
    guardAllocations(s, func, &allocs, fail);
  free(allocs.ops);
  free(checks.checks);
  free(mover.moved);
  free(asserts.asserts);
}

enum { kHoistAllocations };

static void run(MlirOperation module, const CagePassOptionValue *options,
                CagePassHandle pass) {
  static const char *const names[] = {"func.func"};
  CageOpList funcs = cageCollectOps(module, names, 1);
  /* A module that has the accessor has been through the pass: nothing to
   * do (the pass is idempotent). */
  bool done = false;
  for (intptr_t i = 0; i < funcs.size; ++i) {
    MlirAttribute name = cageOpAttribute(funcs.ops[i], "sym_name");
    done |=
        mlirStringRefEqual(mlirStringAttrGetValue(name), cageStr(kAccessor));
  }
  ModuleState s = {module, 0, true};
  for (intptr_t i = 0; i < funcs.size && !done; ++i)
    rewriteFunction(&s, funcs.ops[i], options[kHoistAllocations].b);
  cageOpListDestroy(&funcs);
  /* The slot and its accessor exist in every module, so that callers can
   * always ask. */
  if (!done) {
    buildGlobal(module, kErrorSlot, ptrType(mlirOperationGetContext(module)),
                (MlirAttribute){NULL}, true);
    buildAccessor(module);
  }
  if (!s.ok)
    cagePassSignalFailure(pass);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__cf__,   mlirGetDialectHandle__func__,
    mlirGetDialectHandle__llvm__, mlirGetDialectHandle__memref__,
    mlirGetDialectHandle__scf__,  mlirGetDialectHandle__ub__};

static const CagePassOption runtimeChecksOptions[] = {
    [kHoistAllocations] = {"hoist-allocations",
                           "Move the allocations whose sizes the arguments "
                           "give to the entry and check them before anything "
                           "is written (all buffers then live for the whole "
                           "call); false: check each where it is",
                           CagePassOptionBool,
                           {.b = true}},
};

const CagePassDefinition cageCPURuntimeChecksPass = {
    .argument = "cage-cpu-runtime-checks",
    .name = "CageCPURuntimeChecks",
    .summary = "Run the cf.assert checks of public functions before anything "
               "else and report a failure through cage_last_error() instead "
               "of aborting",
    .anchorOp = "builtin.module",
    .options = runtimeChecksOptions,
    .numOptions = sizeof runtimeChecksOptions / sizeof runtimeChecksOptions[0],
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
