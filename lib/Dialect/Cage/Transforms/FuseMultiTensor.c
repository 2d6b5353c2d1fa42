/* PLACEHOLDER: a helper is writing this pass; a no-op until then. */
#include "cage/Dialect/Cage/Transforms/Passes.h"

#include "mlir-c/Diagnostics.h"

static void run(MlirOperation op, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)op, (void)options, (void)pass; /* no-op until written */
}

const CagePassDefinition cageFuseMultiTensorPass = {
    .argument = "cage-fuse-multi-tensor",
    .name = "FuseMultiTensor",
    .summary = "placeholder",
    .anchorOp = "func.func",
    .run = run,
};
