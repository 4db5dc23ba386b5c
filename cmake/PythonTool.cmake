# smtplab's Python 3 commands (smtplab-grade, smtplab-lab): the script into
# <prefix>/bin, its package (smtplab_<kind>/) into <prefix>/share/smtplab/<kind>,
# where the script finds it, with any extra FILES put into the package.
# The prefix: SMTPLAB_TOOLS_PREFIX when set; CMAKE_INSTALL_PREFIX with
# SMTPLAB_SYSTEM_INSTALL=ON; otherwise the installing user's ~/.local
# (worked out at install time), as the plugin.
#   smtplab_python_tool(<kind> [FILES <file>...])   from plugin/<kind>/
#   smtplab_python_tool_deb(<kind> [FILES <file>...])  the same for the .deb (prefix: the package's)
# SPDX-License-Identifier: GPL-2.0-or-later
set(SMTPLAB_TOOLS_PREFIX "" CACHE PATH "Prefix to install smtplab-grade and smtplab-lab into (empty: see cmake/PythonTool.cmake)")

function(smtplab_python_tool kind)
    cmake_parse_arguments(T "" "" "FILES" ${ARGN})
    set(_src "${PROJECT_SOURCE_DIR}/plugin/${kind}")
    set(_prefix "${SMTPLAB_TOOLS_PREFIX}")
    if(NOT _prefix AND SMTPLAB_SYSTEM_INSTALL)
        set(_prefix "${CMAKE_INSTALL_PREFIX}")
    endif()
    if(_prefix)
        install(PROGRAMS "${_src}/smtplab-${kind}" DESTINATION "${_prefix}/bin")
        install(DIRECTORY "${_src}/smtplab_${kind}" DESTINATION "${_prefix}/share/smtplab/${kind}"
                PATTERN "__pycache__" EXCLUDE)
        if(T_FILES)
            install(FILES ${T_FILES} DESTINATION "${_prefix}/share/smtplab/${kind}/smtplab_${kind}")
        endif()
    else()
        set(_extra "")
        foreach(_f ${T_FILES})
            string(APPEND _extra "file(INSTALL \"${_f}\" DESTINATION \"\$ENV{HOME}/.local/share/smtplab/${kind}/smtplab_${kind}\")\n")
        endforeach()
        install(CODE "
            file(INSTALL \"${_src}/smtplab-${kind}\" DESTINATION \"\$ENV{HOME}/.local/bin\" USE_SOURCE_PERMISSIONS)
            file(INSTALL \"${_src}/smtplab_${kind}\" DESTINATION \"\$ENV{HOME}/.local/share/smtplab/${kind}\"
                 PATTERN \"__pycache__\" EXCLUDE)
            ${_extra}
        ")
    endif()
endfunction()

function(smtplab_python_tool_deb kind)
    cmake_parse_arguments(T "" "" "FILES" ${ARGN})
    set(_src "${PROJECT_SOURCE_DIR}/plugin/${kind}")
    install(PROGRAMS "${_src}/smtplab-${kind}" DESTINATION bin COMPONENT deb EXCLUDE_FROM_ALL)
    install(DIRECTORY "${_src}/smtplab_${kind}" DESTINATION "share/smtplab/${kind}"
            COMPONENT deb EXCLUDE_FROM_ALL PATTERN "__pycache__" EXCLUDE)
    if(T_FILES)
        install(FILES ${T_FILES} DESTINATION "share/smtplab/${kind}/smtplab_${kind}" COMPONENT deb EXCLUDE_FROM_ALL)
    endif()
endfunction()
