/*===- Errors.h - The runtime's last error, inside the library -*- C -*-===*\
|*                                                                            *|
|* cageCudaLastError's message is set by the driver calls of CUDA.c and, at  *|
|* the end of a compiled call, by MLIRABI.c: one slot per thread.            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_LIB_RUNTIME_ERRORS_H
#define CAGE_LIB_RUNTIME_ERRORS_H

/** Sets the message of the last failed call on this thread and returns
 *  `status`. Not exported. */
int cageCudaFail(int status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif /* CAGE_LIB_RUNTIME_ERRORS_H */
