# actormq-bench: throughput and latency workloads against a running node, and the disk's
# synced-commit time (docs/performance.md). Included from tools/CMakeLists.txt.
add_executable(actormq-bench ${CMAKE_CURRENT_LIST_DIR}/bench.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bench_store_growth.cpp)
target_link_libraries(actormq-bench PRIVATE actormq_client CLI11::CLI11 actormq_warnings)
