# Finds Wireshark's development files (WiresharkConfig.cmake), or stops with
# the Debian packages to install.
# SPDX-License-Identifier: GPL-2.0-or-later
find_package(Wireshark 4.0 CONFIG QUIET)
if(NOT Wireshark_FOUND)
    message(FATAL_ERROR
        "Wireshark's development files were not found (WiresharkConfig.cmake).\n"
        "On Debian or Ubuntu install them with:\n"
        "    sudo apt-get install libwireshark-dev wireshark-dev tshark libglib2.0-dev\n"
        "or point CMake at another Wireshark with -DWireshark_DIR=<dir with WiresharkConfig.cmake>.")
endif()
if(NOT Wireshark_PLUGINS_ENABLED)
    message(FATAL_ERROR "This Wireshark (${Wireshark_VERSION}) was built without plugin support.")
endif()
message(STATUS "Building against Wireshark ${Wireshark_VERSION}")
