# FindUMFPACK: SuiteSparse UMFPACK from the system (Debian's libsuitesparse-dev
# ships no CMake package for it in SuiteSparse 5.x).
# Defines the imported target SuiteSparse::UMFPACK.
find_path(UMFPACK_INCLUDE_DIR umfpack.h PATH_SUFFIXES suitesparse)
find_library(UMFPACK_LIBRARY umfpack)
find_library(SUITESPARSE_CONFIG_LIBRARY suitesparseconfig)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(UMFPACK REQUIRED_VARS UMFPACK_LIBRARY UMFPACK_INCLUDE_DIR SUITESPARSE_CONFIG_LIBRARY)
if(UMFPACK_FOUND AND NOT TARGET SuiteSparse::UMFPACK)
  add_library(SuiteSparse::UMFPACK UNKNOWN IMPORTED)
  set_target_properties(SuiteSparse::UMFPACK PROPERTIES
    IMPORTED_LOCATION "${UMFPACK_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${UMFPACK_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${SUITESPARSE_CONFIG_LIBRARY}")
endif()
mark_as_advanced(UMFPACK_INCLUDE_DIR UMFPACK_LIBRARY SUITESPARSE_CONFIG_LIBRARY)

# KLU (same SuiteSparse package; its own dependencies AMD, COLAMD, BTF come
# with the shared library). Defines SuiteSparse::KLU.
find_path(KLU_INCLUDE_DIR klu.h PATH_SUFFIXES suitesparse)
find_library(KLU_LIBRARY klu)
if(KLU_LIBRARY AND KLU_INCLUDE_DIR AND NOT TARGET SuiteSparse::KLU)
  add_library(SuiteSparse::KLU UNKNOWN IMPORTED)
  set_target_properties(SuiteSparse::KLU PROPERTIES
    IMPORTED_LOCATION "${KLU_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${KLU_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${SUITESPARSE_CONFIG_LIBRARY}")
endif()
if(NOT TARGET SuiteSparse::KLU)
  message(FATAL_ERROR "SuiteSparse KLU not found (Debian: libsuitesparse-dev)")
endif()
mark_as_advanced(KLU_INCLUDE_DIR KLU_LIBRARY)
