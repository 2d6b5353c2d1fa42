/*===- Passes.c - C API: create and register cage passes ------------------===*/

#include "cage-c/Passes.h"
#include "cage-c/Target/CPU.h"
#include "cage-c/Target/CUDA.h"

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

MlirPass cageCreateConvertMathToArithPass(void) {
  return cagePassCreate(&cageConvertMathToArithPass);
}

void cageRegisterConvertMathToArithPass(void) {
  cagePassRegister(&cageConvertMathToArithPass);
}

MlirPass cageCreateFuseCorrectionPass(void) {
  return cagePassCreate(&cageFuseCorrectionPass);
}

void cageRegisterFuseCorrectionPass(void) {
  cagePassRegister(&cageFuseCorrectionPass);
}

MlirPass cageCreateExpandUpdatePass(void) {
  return cagePassCreate(&cageExpandUpdatePass);
}

void cageRegisterExpandUpdatePass(void) {
  cagePassRegister(&cageExpandUpdatePass);
}

MlirPass cageCreateFuseMultiTensorPass(void) {
  return cagePassCreate(&cageFuseMultiTensorPass);
}

void cageRegisterFuseMultiTensorPass(void) {
  cagePassRegister(&cageFuseMultiTensorPass);
}

MlirPass cageCreateAutodiffPass(void) {
  return cagePassCreate(&cageAutodiffPass);
}

void cageRegisterAutodiffPass(void) { cagePassRegister(&cageAutodiffPass); }

void cageRegisterPasses(void) {
  cageRegisterVerifyPass();
  cageRegisterAutodiffPass();
  cageRegisterFuseCorrectionPass();
  cageRegisterExpandUpdatePass();
  cageRegisterFuseMultiTensorPass();
  cageRegisterLowerToLinalgPass();
  cageRegisterConvertMathToArithPass();
  cageRegisterCPUPasses();
  cageRegisterCUDAPasses();
}
