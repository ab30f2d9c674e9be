# Install rules and the exported CMake package: find_package(pplug) + pplug::pplug.
include(CMakePackageConfigHelpers)

install(TARGETS pplug pplug_spm_shim
  EXPORT pplugTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/pplug DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT pplugTargets
  FILE pplugTargets.cmake
  NAMESPACE pplug::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pplug)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/pplugConfig.cmake.in
  ${PROJECT_BINARY_DIR}/pplugConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pplug)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/pplugConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/pplugConfig.cmake ${PROJECT_BINARY_DIR}/pplugConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pplug)
