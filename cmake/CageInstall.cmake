# Install rules: `cmake --install build [--prefix P]` gives
#
#   P/include/cage-c/...                the public C headers
#   P/lib/libCAGE-C.so.<M>.<m>.0        (+ .so.<M> SONAME and .so links)
#   P/lib/libCagePlugin.so              dialect + pass plugin for mlir-opt
#   P/lib/libcage-cuda-runtime.so       the CUDA runtime of GPU code (and of
#   P/include/cage-runtime/CUDA.h       cage-run --target=cuda), its header
#   P/bin/cage-opt cage-run cage-compile
#   P/lib/cmake/Cage/                   find_package(Cage CONFIG): Cage::CAGE-C
#   P/lib/pkgconfig/cage.pc             pkg-config --cflags --libs cage
#
# Run paths: tools $ORIGIN/../lib, libraries $ORIGIN, and LLVM's library
# directory for libMLIR.so/libLLVM.so. See docs/Install.md.

include(CMakePackageConfigHelpers)

set(CAGE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/Cage)
set(CAGE_INSTALL_PKGCONFIGDIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# The MLIR C headers (mlir-c/*.h) the public cage headers include.
list(GET MLIR_INCLUDE_DIRS 0 CAGE_MLIR_INCLUDE_DIR)

# Headers: the public C API only; include/cage/** (ODS, the C pass
# definitions) is internal and no public header includes it.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/cage-c
  ${PROJECT_SOURCE_DIR}/include/cage-runtime
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

# Usage requirements of the installed library (none in the build tree, where
# the directories come from include_directories()).
target_include_directories(CAGE-C INTERFACE
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
  $<INSTALL_INTERFACE:${CAGE_MLIR_INCLUDE_DIR}>)

# The libraries find libCAGE-C.so next to themselves and MLIR in LLVM's
# directory; the tools get CMAKE_INSTALL_RPATH ($ORIGIN/../lib and LLVM's).
set_target_properties(CAGE-C CagePlugin PROPERTIES
  INSTALL_RPATH "$ORIGIN;${LLVM_LIBRARY_DIR}")

install(TARGETS CAGE-C EXPORT CageTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS CagePlugin EXPORT CageTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# The CUDA runtime needs libc, libdl and libpthread only (the driver it
# opens at run time): no run path.
set_target_properties(CageCUDARuntime PROPERTIES INSTALL_RPATH "")
install(TARGETS CageCUDARuntime EXPORT CageTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS cage-opt cage-run cage-compile EXPORT CageTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# find_package(Cage CONFIG): Cage::CAGE-C, Cage::CagePlugin, Cage::cage-opt,
# Cage::cage-run, Cage::cage-compile.
install(EXPORT CageTargets
  NAMESPACE Cage::
  DESTINATION ${CAGE_INSTALL_CMAKEDIR})
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/CageConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/CageConfig.cmake
  INSTALL_DESTINATION ${CAGE_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
# The API's rule: minor versions add, major versions break.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/CageConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/CageConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/CageConfigVersion.cmake
  DESTINATION ${CAGE_INSTALL_CMAKEDIR})

# cage.pc, relocatable: the prefix is found from the .pc file's own place.
file(RELATIVE_PATH CAGE_PC_TO_PREFIX
  /prefix/${CAGE_INSTALL_PKGCONFIGDIR} /prefix)
string(REGEX REPLACE "/$" "" CAGE_PC_TO_PREFIX "${CAGE_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/cage.pc.in
  ${PROJECT_BINARY_DIR}/cmake/cage.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cmake/cage.pc
  DESTINATION ${CAGE_INSTALL_PKGCONFIGDIR})
