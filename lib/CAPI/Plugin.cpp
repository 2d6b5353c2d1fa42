//===- Plugin.cpp - The cage dialect and passes as an mlir-opt plugin -----===//
//
// libCagePlugin.so for a stock mlir-opt (or any MlirOptMain tool):
//
//   mlir-opt --load-dialect-plugin=libCagePlugin.so \
//            --pass-pipeline='builtin.module(func.func(cage-verify))' in.mlir
//
// Both entry points only call the cage C API of libCAGE-C.so; the plugin
// itself holds no MLIR. libCAGE-C.so links libMLIR.so, as Debian's mlir-opt
// does, so dialect, pass registry and TypeIDs are the tool's own.
//
//===----------------------------------------------------------------------===//

#include "cage-c/Dialect/Cage.h"
#include "cage-c/Passes.h"

#include "mlir/CAPI/IR.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"

#define CAGE_PLUGIN_EXPORT __attribute__((visibility("default")))

/// --load-dialect-plugin: the cage dialect into the tool's registry, and the
/// cage passes into the pass registry, so that one flag is enough for
/// --pass-pipeline='...cage-...'.
extern "C" LLVM_ATTRIBUTE_WEAK CAGE_PLUGIN_EXPORT mlir::DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "cage", CAGE_VERSION_STRING,
          [](mlir::DialectRegistry *registry) {
            mlirDialectHandleInsertDialect(mlirGetDialectHandle__cage__(),
                                           wrap(registry));
            cageRegisterPasses();
          }};
}

/// --load-pass-plugin: the cage passes (cage-verify, cage-lower-to-linalg,
/// ...) and the cage-cpu-pipeline pipeline into the pass registry; the
/// pipeline's passes run in mlir-opt's own pass manager.
extern "C" LLVM_ATTRIBUTE_WEAK CAGE_PLUGIN_EXPORT mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "cage-passes", CAGE_VERSION_STRING,
          []() { cageRegisterPasses(); }};
}
