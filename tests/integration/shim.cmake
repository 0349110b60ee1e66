# The LD_PRELOAD shims of the integration tests:
# - slow_sync.c: libactormq_slow_sync.so wraps fsync and fdatasync and sleeps ACTORMQ_SLOW_SYNC_MS
#   milliseconds before each real call, so that a test can kill a node inside a group commit
#   (test_master_slave.py); with ACTORMQ_FAIL_SYNC_AFTER it fails flushes of the store with EIO
#   (test_disk_faults.py).
# - power_cut.c: libactormq_power_cut.so simulates a power cut at a chosen flush of the store's
#   data file (test_power_cut.py).
#
# include(shim.cmake) at the end of tests/integration/CMakeLists.txt, after the add_test calls:
# every test of this folder then gets ACTORMQ_SLOW_SYNC_LIB and ACTORMQ_POWER_CUT_LIB=<paths of the
# libraries> and ACTORMQ_HOLD_READER=<path of hold_reader> in its environment. (Without it, test_master_slave.py
# looks next to the build's tools, then compiles slow_sync.c itself with cc.)
enable_language(C)
add_library(actormq_slow_sync SHARED ${CMAKE_CURRENT_LIST_DIR}/slow_sync.c)
set_target_properties(actormq_slow_sync PROPERTIES
  C_STANDARD 11
  C_STANDARD_REQUIRED ON
  C_VISIBILITY_PRESET default)
target_link_libraries(actormq_slow_sync PRIVATE ${CMAKE_DL_LIBS})

find_package(Threads REQUIRED)
add_library(actormq_power_cut SHARED ${CMAKE_CURRENT_LIST_DIR}/power_cut.c)
set_target_properties(actormq_power_cut PROPERTIES
  C_STANDARD 11
  C_STANDARD_REQUIRED ON
  C_VISIBILITY_PRESET default)
target_link_libraries(actormq_power_cut PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)

# hold_reader.c: keeps a read transaction open on a node's store (the debug tool and console
# show the oldest reader).
add_executable(actormq_hold_reader ${CMAKE_CURRENT_LIST_DIR}/hold_reader.c)
set_target_properties(actormq_hold_reader PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
target_link_libraries(actormq_hold_reader PRIVATE PkgConfig::LMDB actormq_warnings)

get_property(actormq_shim_tests DIRECTORY PROPERTY TESTS)
foreach(test_name ${actormq_shim_tests})
  set_property(TEST ${test_name} APPEND PROPERTY
    ENVIRONMENT "ACTORMQ_SLOW_SYNC_LIB=$<TARGET_FILE:actormq_slow_sync>"
                "ACTORMQ_POWER_CUT_LIB=$<TARGET_FILE:actormq_power_cut>"
                "ACTORMQ_HOLD_READER=$<TARGET_FILE:actormq_hold_reader>")
endforeach()
