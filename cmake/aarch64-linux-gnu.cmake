# Cross toolchain for aarch64 Linux on an x86-64 Debian host (scripts/check_aarch64.sh): Debian's
# g++-aarch64-linux-gnu, with the tests run under qemu-user.
#
# PPLUG_AARCH64_DEPS: a folder holding the aarch64 libraries pplug_base links (GoogleTest, spdlog,
# fmt, PCRE2, ICU, nlohmann_json) as they lie under / of an arm64 system; scripts/check_aarch64.sh
# fills it from Debian's arm64 packages. Empty: the cross compiler's own sysroot only.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(PPLUG_AARCH64_DEPS "" CACHE PATH "aarch64 libraries laid out as under / (see the file's header)")
# try_compile projects read the toolchain file again: hand the folder on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES PPLUG_AARCH64_DEPS)

# The tests run under qemu-user with the cross libc; the binaries' RUNPATH finds the libraries
# they link, LD_LIBRARY_PATH also those libraries' own (libicuuc -> libicudata).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
if(PPLUG_AARCH64_DEPS)
  list(APPEND CMAKE_CROSSCOMPILING_EMULATOR
       -E LD_LIBRARY_PATH=${PPLUG_AARCH64_DEPS}/usr/lib/aarch64-linux-gnu)
endif()

set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu ${PPLUG_AARCH64_DEPS})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

if(PPLUG_AARCH64_DEPS)
  # pkg-config (PCRE2): the aarch64 .pc files, their paths moved under the folder.
  set(ENV{PKG_CONFIG_LIBDIR}
      "${PPLUG_AARCH64_DEPS}/usr/lib/aarch64-linux-gnu/pkgconfig:${PPLUG_AARCH64_DEPS}/usr/share/pkgconfig")
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "${PPLUG_AARCH64_DEPS}")
  # The libraries' own dependencies (libspdlog -> libfmt) resolve at link time from here.
  set(CMAKE_EXE_LINKER_FLAGS_INIT
      "-Wl,-rpath-link,${PPLUG_AARCH64_DEPS}/usr/lib/aarch64-linux-gnu")
  set(CMAKE_SHARED_LINKER_FLAGS_INIT
      "-Wl,-rpath-link,${PPLUG_AARCH64_DEPS}/usr/lib/aarch64-linux-gnu")
endif()
