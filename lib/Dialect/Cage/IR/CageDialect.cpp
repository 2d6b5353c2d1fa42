//===- CageDialect.cpp - cage dialect registration ------------------------===//

#include "cage/Dialect/Cage/IR/CageDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::cage;

#include "cage/Dialect/Cage/IR/CageDialect.cpp.inc"
#include "cage/Dialect/Cage/IR/CageEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "cage/Dialect/Cage/IR/CageAttrs.cpp.inc"

void CageDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "cage/Dialect/Cage/IR/CageAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "cage/Dialect/Cage/IR/CageOps.cpp.inc"
      >();
}
