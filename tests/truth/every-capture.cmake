# Fails when a bundled capture has no truth list (cmake -P, with TRUTH_DIR
# and CAPTURES, a ;-list of capture paths).
# SPDX-License-Identifier: GPL-2.0-or-later
set(_missing)
foreach(cap ${CAPTURES})
    get_filename_component(name ${cap} NAME_WE)
    if(NOT EXISTS ${TRUTH_DIR}/${name}.truth)
        list(APPEND _missing ${name})
    endif()
endforeach()
list(LENGTH CAPTURES _n)
if(_missing)
    message(FATAL_ERROR "captures without a truth list in tests/truth: ${_missing}")
endif()
message(STATUS "${_n} captures, each with its truth list")
