//===- cage-opt.cpp - mlir-opt with the cage dialect and passes -----------===//

#include "cage-c/Dialect/Cage.h"
#include "cage-c/Passes.h"
#include "cage-c/Version.h"

#include "mlir/CAPI/IR.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  // --version prints LLVM's version; cage's follows it, in the form
  // cage-run and cage-compile use.
  llvm::cl::AddExtraVersionPrinter([](llvm::raw_ostream &os) {
    int version = cageGetAPIVersion();
    os << "cage-opt, cage version " << (version >> 16) << '.'
       << (version & 0xffff) << '\n';
  });
  mlir::registerAllPasses();
  cageRegisterPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary (cage-gpu-pipeline) translates gpu.module ops to
  // LLVM IR inside the pass manager, as mlir-opt registers it.
  mlir::registerAllGPUToLLVMIRTranslations(registry);
  mlirDialectHandleInsertDialect(mlirGetDialectHandle__cage__(),
                                 wrap(&registry));
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "cage modular optimizer driver\n", registry));
}
