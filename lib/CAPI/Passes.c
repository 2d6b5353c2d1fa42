/*===- Passes.c - C API: create and register cage passes ------------------===*/

#include "cage-c/Passes.h"

#include "cage/Dialect/Cage/Transforms/Passes.h"

MlirPass cageCreateVerifyPass(void) { return cagePassCreate(&cageVerifyPass); }

void cageRegisterVerifyPass(void) { cagePassRegister(&cageVerifyPass); }

void cageRegisterPasses(void) { cageRegisterVerifyPass(); }
