# SPDX-License-Identifier: Apache-2.0
# `cmake --install` (and `make install`): the binary, the mappings, the example configs, the
# systemd unit with its sysusers.d entry, and the documentation. Directories follow
# GNUInstallDirs, evaluated at install time, so `cmake --install build --prefix /usr` gives a
# unit that runs /usr/bin/igw. /etc/igw and /var/lib/igw are the unit's ConfigurationDirectory=
# and StateDirectory= (systemd creates them with the right owner) and are also created here for
# systems without systemd. When installing as root onto the running system (no DESTDIR), the
# system user is created by systemd-sysusers from the installed sysusers.d entry.
include(GNUInstallDirs)

set(IGW_SYSCONFDIR "/etc/igw" CACHE PATH "configuration directory (the unit's /etc/igw)")
set(IGW_STATEDIR "/var/lib/igw" CACHE PATH "queue directory (the unit's /var/lib/igw)")

install(TARGETS igw RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/mappings/ DESTINATION ${CMAKE_INSTALL_DATADIR}/igw/mappings)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/igw.example.conf
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The unit, the sysusers.d entry and the production config are written at install time with
# the install's own paths; an existing /etc/igw/igw.conf is kept.
install(CODE "
  set(src \"${PROJECT_SOURCE_DIR}/deploy\")
  set(prefix \"\${CMAKE_INSTALL_PREFIX}\")
  set(dest \"\$ENV{DESTDIR}\")
  set(IGW_BINDIR \"\${prefix}/${CMAKE_INSTALL_BINDIR}\")
  set(IGW_DOCDIR \"\${prefix}/${CMAKE_INSTALL_DOCDIR}\")
  set(IGW_DATADIR \"\${prefix}/${CMAKE_INSTALL_DATADIR}/igw\")
  set(IGW_STATEDIR \"${IGW_STATEDIR}\")
  set(unitdir \"\${dest}\${prefix}/lib/systemd/system\")
  set(usersdir \"\${dest}\${prefix}/lib/sysusers.d\")
  set(etc \"\${dest}${IGW_SYSCONFDIR}\")
  set(var \"\${dest}${IGW_STATEDIR}\")
  message(STATUS \"Installing: \${unitdir}/igw.service\")
  configure_file(\"\${src}/systemd/igw.service.in\" \"\${unitdir}/igw.service\" @ONLY)
  message(STATUS \"Installing: \${usersdir}/igw.conf\")
  configure_file(\"\${src}/systemd/igw.sysusers\" \"\${usersdir}/igw.conf\" COPYONLY)
  file(MAKE_DIRECTORY \"\${etc}/secrets\" \"\${var}\")
  if(NOT EXISTS \"\${etc}/igw.conf\")
    message(STATUS \"Installing: \${etc}/igw.conf\")
    configure_file(\"\${src}/igw.production.conf.in\" \"\${etc}/igw.conf\" @ONLY)
    file(CHMOD \"\${etc}/igw.conf\" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
  else()
    message(STATUS \"Kept: \${etc}/igw.conf\")
  endif()
  file(CHMOD \"\${etc}/secrets\" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
       GROUP_READ GROUP_EXECUTE)
  if(dest STREQUAL \"\")
    find_program(SYSUSERS systemd-sysusers)
    if(SYSUSERS)
      execute_process(COMMAND \${SYSUSERS} \"\${usersdir}/igw.conf\")
      execute_process(COMMAND chown -R igw:igw \"\${var}\")
      execute_process(COMMAND chown -R root:igw \"\${etc}\")
    endif()
  endif()
")
