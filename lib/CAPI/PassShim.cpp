//===- PassShim.cpp - mlir::Pass around a C pass definition ---------------===//
//
// The MLIR C API's external passes cannot take options, cannot be named in a
// textual pipeline and do not show in --help. CPass wraps a
// CagePassDefinition (cage/Pass/PassDefinition.h) into a real mlir::Pass with
// typed options; everything a pass does stays in its C run function.
//
//===----------------------------------------------------------------------===//

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
    for (intptr_t i = 0; i < def->numOptions; ++i)
      declareOption(def->options[i]);
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
    std::vector<CagePassOptionValue> values(def->numOptions);
    for (intptr_t i = 0; i < def->numOptions; ++i)
      values[i] = optionValue(i);
    def->run(wrap(getOperation()), values.data(), CagePassHandle{this});
  }

  void fail() { signalPassFailure(); }

private:
  // One typed slot per declared option, in declaration order; exactly one
  // pointer of each slot is set, according to the option's kind.
  struct OptionSlot {
    std::unique_ptr<Option<bool>> b;
    std::unique_ptr<Option<int64_t>> i;
    std::unique_ptr<Option<double>> d;
    std::unique_ptr<Option<std::string>> s;
  };

  void declareOption(const CagePassOption &o) {
    auto desc = llvm::cl::desc(o.description);
    OptionSlot slot;
    switch (o.kind) {
    case CagePassOptionBool:
      slot.b = std::make_unique<Option<bool>>(*this, o.argument, desc,
                                              llvm::cl::init(o.defaultValue.b));
      break;
    case CagePassOptionInt:
      slot.i = std::make_unique<Option<int64_t>>(
          *this, o.argument, desc, llvm::cl::init(o.defaultValue.i));
      break;
    case CagePassOptionDouble:
      slot.d = std::make_unique<Option<double>>(
          *this, o.argument, desc, llvm::cl::init(o.defaultValue.d));
      break;
    case CagePassOptionString:
      slot.s = std::make_unique<Option<std::string>>(
          *this, o.argument, desc,
          llvm::cl::init(
              std::string(o.defaultValue.s ? o.defaultValue.s : "")));
      break;
    }
    slots.push_back(std::move(slot));
  }

  CagePassOptionValue optionValue(intptr_t i) const {
    const OptionSlot &slot = slots[i];
    CagePassOptionValue v;
    if (slot.b)
      v.b = *slot.b;
    else if (slot.i)
      v.i = *slot.i;
    else if (slot.d)
      v.d = *slot.d;
    else
      v.s = slot.s->getValue().c_str();
    return v;
  }

  const CagePassDefinition *def;
  std::vector<OptionSlot> slots;
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
