//===- PassShim.cpp - mlir::Pass around a C pass definition ---------------===//
//
// The MLIR C API's external passes cannot take options, cannot be named in a
// textual pipeline and do not show in --help. CPass wraps a
// CagePassDefinition (cage/Pass/PassDefinition.h) into a real mlir::Pass with
// typed options (Options.h, shared with the pipelines of PipelineShim.cpp);
// everything a pass does stays in its C run function.
//
//===----------------------------------------------------------------------===//

#include "CAPI/Pass/Options.h"

#include "cage/Pass/PassDefinition.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Pass.h"
#include "mlir/CAPI/Support.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"

#include <memory>
#include <vector>

using namespace mlir;

namespace {
class CPass : public Pass {
public:
  explicit CPass(const CagePassDefinition *def)
      : Pass(TypeID::getFromOpaquePointer(def),
             def->anchorOp ? std::optional<StringRef>(def->anchorOp)
                           : std::nullopt),
        def(def) {
    options.declare(*this, def->options, def->numOptions);
  }

  StringRef getName() const override { return def->name; }
  StringRef getArgument() const override { return def->argument; }
  StringRef getDescription() const override { return def->summary; }

  bool canScheduleOn(RegisteredOperationName opName) const override {
    return !def->anchorOp || opName.getStringRef() == def->anchorOp;
  }

  void getDependentDialects(DialectRegistry &registry) const override {
    for (intptr_t i = 0; i < def->numDependentDialects; ++i)
      mlirDialectHandleInsertDialect(def->dependentDialects[i](),
                                     wrap(&registry));
  }

  std::unique_ptr<Pass> clonePass() const override {
    auto copy = std::make_unique<CPass>(def);
    copy->copyOptionValuesFrom(this);
    return copy;
  }

  void runOnOperation() override {
    std::vector<CagePassOptionValue> values = options.values();
    def->run(wrap(getOperation()), values.data(), CagePassHandle{this});
  }

  void fail() { signalPassFailure(); }

private:
  const CagePassDefinition *def;
  cage::OptionSlots options;
};
} // namespace

extern "C" MlirPass cagePassCreate(const CagePassDefinition *definition) {
  return wrap(static_cast<Pass *>(new CPass(definition)));
}

extern "C" void cagePassRegister(const CagePassDefinition *definition) {
  // registerPass asserts on a second registration of the same argument.
  if (PassInfo::lookup(definition->argument))
    return;
  registerPass([definition]() -> std::unique_ptr<Pass> {
    return std::make_unique<CPass>(definition);
  });
}

extern "C" void cagePassSignalFailure(CagePassHandle pass) {
  static_cast<CPass *>(pass.ptr)->fail();
}

extern "C" void cageEmitWarning(MlirLocation loc, const char *message) {
  mlir::emitWarning(unwrap(loc)) << message;
}

extern "C" void cageEmitRemark(MlirLocation loc, const char *message) {
  mlir::emitRemark(unwrap(loc)) << message;
}
