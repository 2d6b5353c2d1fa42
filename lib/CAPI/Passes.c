/*===- Passes.c - C API: create and register cage passes ------------------===*/

#include "cage-c/Passes.h"
#include "cage-c/Target/CPU.h"

#include "cage/Conversion/Passes.h"
#include "cage/Dialect/Cage/Transforms/Passes.h"

MlirPass cageCreateVerifyPass(void) { return cagePassCreate(&cageVerifyPass); }

void cageRegisterVerifyPass(void) { cagePassRegister(&cageVerifyPass); }

MlirPass cageCreateLowerToLinalgPass(void) {
  return cagePassCreate(&cageLowerToLinalgPass);
}

void cageRegisterLowerToLinalgPass(void) {
  cagePassRegister(&cageLowerToLinalgPass);
}

void cageRegisterPasses(void) {
  cageRegisterVerifyPass();
  cageRegisterLowerToLinalgPass();
  cageRegisterCPUPasses();
}
