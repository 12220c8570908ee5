# Packaging: the fully static build (-DCRUNLITE_STATIC=ON) and the Debian package (cpack -G DEB).
# Included before the libraries are looked for, so a static build finds libseccomp.a and libcap.a.

# On by default: a runtime starts for every container, and a static binary skips the dynamic
# loader and its relocations (less start-up time, about half the resident memory: see
# docs/benchmarks.md). -DCRUNLITE_STATIC=OFF links the shared libraries (the sanitizer build does).
# The sanitizers (and libFuzzer, built with them) need the shared C library: a sanitizer or fuzz
# build defaults to OFF.
if(CRUNLITE_SANITIZE OR CRUNLITE_FUZZ)
  set(crunlite_static_default OFF)
else()
  set(crunlite_static_default ON)
endif()
option(CRUNLITE_STATIC "link crun-lite fully statically (libseccomp.a, libcap.a, libstdc++ and glibc)" ${crunlite_static_default})
if(CRUNLITE_STATIC AND (CRUNLITE_SANITIZE OR CRUNLITE_FUZZ))
  message(FATAL_ERROR "CRUNLITE_SANITIZE and CRUNLITE_FUZZ need CRUNLITE_STATIC=OFF: ASan and UBSan cannot link statically")
endif()
if(CRUNLITE_STATIC)
  set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
  add_compile_options(-ffunction-sections -fdata-sections)
  add_link_options(-static -Wl,--gc-sections)
  add_compile_definitions(CRUNLITE_STATIC)  # --version says +STATIC; no NSS calls (src/util/passwd.cpp)
endif()

include(GNUInstallDirs)

# /usr/share/doc/crun-lite/copyright in the machine-readable format Debian uses.
file(WRITE ${CMAKE_BINARY_DIR}/copyright
"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: crun-lite

Files: *
Copyright: the crun-lite authors
License: Apache-2.0
 On Debian systems, the full text of the Apache License, Version 2.0, is in
 /usr/share/common-licenses/Apache-2.0.
")
install(FILES ${CMAKE_BINARY_DIR}/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CRUNLITE_DEB_MAINTAINER "crun-lite maintainers <crun-lite@example.org>" CACHE STRING "Maintainer field of the .deb")
set(CPACK_PACKAGE_NAME crun-lite)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${CRUNLITE_DEB_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "fast, runc-compatible OCI container runtime")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # crun-lite_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_STRIP_FILES ON)  # the debug info of RelWithDebInfo stays in the build tree
# The long description (CPack puts the summary above it).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "crun-lite is an OCI runtime-spec container runtime written in C++20. It takes
runc's command line, so containerd, docker and podman can use it as their runtime:
namespaces, mounts, cgroups v1 and v2, seccomp, capabilities, hooks, exec,
pause and update.")
# Depends from what the binary links (libc6, libcap2, libseccomp2, libstdc++6...), by dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
include(CPack)
