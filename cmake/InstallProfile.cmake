# Installs the "SMTP Lab" configuration profile, run by `cmake --install`.
# Inputs: SMTPLAB_PROFILE_SRC (the files), SMTPLAB_PROFILE_DEST (the profile
# folder). A file the user changed since the last install is kept: the
# manifest .smtplab-profile records the hash of every file installed.
# SPDX-License-Identifier: GPL-2.0-or-later
file(MAKE_DIRECTORY "${SMTPLAB_PROFILE_DEST}")
set(_manifest "${SMTPLAB_PROFILE_DEST}/.smtplab-profile")
set(_old "")
if(EXISTS "${_manifest}")
    file(STRINGS "${_manifest}" _old)
endif()
set(_new "")
file(GLOB _files RELATIVE "${SMTPLAB_PROFILE_SRC}" "${SMTPLAB_PROFILE_SRC}/*")
foreach(_f ${_files})
    set(_dest "${SMTPLAB_PROFILE_DEST}/${_f}")
    file(SHA256 "${SMTPLAB_PROFILE_SRC}/${_f}" _src_hash)
    set(_install TRUE)
    if(EXISTS "${_dest}")
        file(SHA256 "${_dest}" _dest_hash)
        # Ours, untouched since installed (or already the same): replace it.
        list(FIND _old "${_f} ${_dest_hash}" _ours)
        if(_ours EQUAL -1 AND NOT _dest_hash STREQUAL _src_hash)
            set(_install FALSE)
            message(STATUS "Kept your changed ${_dest} (the plugin's version is in ${SMTPLAB_PROFILE_SRC})")
            list(APPEND _new "${_f} ${_dest_hash}-user")
        endif()
    endif()
    if(_install)
        file(INSTALL "${SMTPLAB_PROFILE_SRC}/${_f}" DESTINATION "${SMTPLAB_PROFILE_DEST}")
        list(APPEND _new "${_f} ${_src_hash}")
    endif()
endforeach()
string(REPLACE ";" "\n" _new "${_new}")
file(WRITE "${_manifest}" "${_new}\n")
