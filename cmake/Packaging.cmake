# The Debian package, for the Wireshark this build is against:
#   cd <build> && cpack -G DEB    ->  smtplab_<version>-1+ws<X.Y>_<arch>.deb
# It installs smtplab.so into that Wireshark's global plugin folder
# (Wireshark_PLUGIN_INSTALL_DIR/epan), smtplab-grade and smtplab-lab into
# <prefix>/bin (their modules into <prefix>/share/smtplab/grade and .../lab,
# cmake/PythonTool.cmake) and the "SMTP Lab" profile into its
# global profiles (<prefix>/share/wireshark/profiles/SMTP Lab), and depends on
# the libwireshark and wireshark-common of the same major.minor.
# The rules below belong to the component "deb", which `cmake --install`
# leaves out (EXCLUDE_FROM_ALL) and CPack installs alone: plain install()
# rules into CPack's staging folder, unlike the install-time logic of
# plugin/CMakeLists.txt (personal folders, kept user changes).
# SPDX-License-Identifier: GPL-2.0-or-later

file(RELATIVE_PATH _smtplab_plugin_rel "${Wireshark_INSTALL_PREFIX}" "${Wireshark_PLUGIN_INSTALL_DIR}/epan")
install(TARGETS smtplab LIBRARY DESTINATION "${_smtplab_plugin_rel}" COMPONENT deb EXCLUDE_FROM_ALL)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/plugin/profile/" DESTINATION "share/wireshark/profiles/SMTP Lab"
        COMPONENT deb EXCLUDE_FROM_ALL)
smtplab_python_tool_deb(grade FILES "${PROJECT_SOURCE_DIR}/plugin/profile/colorfilters")
smtplab_python_tool_deb(lab)
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "share/doc/smtplab" RENAME copyright
        COMPONENT deb EXCLUDE_FROM_ALL)

# The Debian package that ships a Wireshark library: the owner of the file
# the imported target points at, else Debian's name for its soname.
function(smtplab_debian_package target out)
    get_target_property(_configs ${target} IMPORTED_CONFIGURATIONS)
    list(GET _configs 0 _config)
    get_target_property(_location ${target} IMPORTED_LOCATION_${_config})
    get_target_property(_soname ${target} IMPORTED_SONAME_${_config})
    set(_package "")
    find_program(SMTPLAB_DPKG_QUERY dpkg-query)
    if(SMTPLAB_DPKG_QUERY)
        execute_process(COMMAND "${SMTPLAB_DPKG_QUERY}" -S "${_location}"
                        OUTPUT_VARIABLE _owner ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
        string(REGEX MATCH "^[^:,]+" _package "${_owner}")
    endif()
    if(NOT _package)
        string(REGEX REPLACE "^(lib[^.]+)\\.so\\.([0-9]+)$" "\\1\\2" _package "${_soname}")
    endif()
    set(${out} "${_package}" PARENT_SCOPE)
endfunction()
smtplab_debian_package(epan _smtplab_libwireshark)
smtplab_debian_package(wsutil _smtplab_libwsutil)
math(EXPR _smtplab_next_minor "${Wireshark_MINOR_VERSION} + 1")
set(_smtplab_ws_next "${Wireshark_MAJOR_VERSION}.${_smtplab_next_minor}~")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME smtplab)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(SMTPLAB_PACKAGE_MAINTAINER "smtplab maintainers <maintainers@users.noreply.r-seed-49e48364.example>"
    CACHE STRING "Maintainer of the Debian package")
set(CPACK_PACKAGE_CONTACT "${SMTPLAB_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Wireshark plugin that makes a hand-typed SMTP session readable")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "smtplab adds two layers to TCP ports 25 and 587: Keystroke (keystroke.*)
reassembles the lines typed one keystroke per segment, as received and as
meant; SMTP Lab (smtplab.*) gives every frame its session stage, links
commands to replies, and explains failures. With the SMTP Lab configuration
profile. Built for Wireshark ${Wireshark_VERSION}.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# The Wireshark minor version is part of the package version: the same
# smtplab built for 4.0 and for 4.4 are different binaries.
set(CPACK_DEBIAN_PACKAGE_RELEASE "1+ws${Wireshark_MAJOR_VERSION}.${Wireshark_MINOR_VERSION}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# A plugin loads only into the major.minor it was built for: the library
# packages are named by soname (one per minor version: libwireshark16 is
# 4.0), and wireshark-common (what tshark and wireshark depend on) is held to
# the same minor version. With dpkg-dev and file installed, dpkg-shlibdeps adds the
# libraries the binary links (libwireshark, libwsutil, GLib, libc) as
# Debian's symbol files version them; without it they are named here.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "wireshark-common (>= ${Wireshark_VERSION}), wireshark-common (<< ${_smtplab_ws_next})")
find_program(SMTPLAB_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(SMTPLAB_FILE file)
if(SMTPLAB_DPKG_SHLIBDEPS AND SMTPLAB_FILE)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
    string(PREPEND CPACK_DEBIAN_PACKAGE_DEPENDS
           "${_smtplab_libwireshark} (>= ${Wireshark_VERSION}), ${_smtplab_libwsutil} (>= ${Wireshark_VERSION}), ")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "tshark | wireshark")
# smtplab-grade runs tshark and needs Python 3. smtplab-lab runs its mail
# server on aiosmtpd, builds its network with ip and the student types in
# telnet; it shows the capture in Wireshark, or in tshark with --text.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${CPACK_DEBIAN_PACKAGE_DEPENDS}, python3 (>= 3.7)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "${CPACK_DEBIAN_PACKAGE_RECOMMENDS}, python3-aiosmtpd, iproute2, telnet")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL deb)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_PACKAGE_DIRECTORY "${CMAKE_BINARY_DIR}/packages")
set(CPACK_PACKAGING_INSTALL_PREFIX "${Wireshark_INSTALL_PREFIX}")
include(CPack)
