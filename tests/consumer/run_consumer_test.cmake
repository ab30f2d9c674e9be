# Installs the build tree into a scratch prefix, builds tests/consumer against it, runs it.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${PPLUG_BINARY_DIR} --prefix ${WORK_DIR}/prefix
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build -G Ninja
  -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the consumer failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the consumer failed")
endif()
if(EXISTS ${TOKENIZER})
  execute_process(COMMAND ${WORK_DIR}/build/consumer ${TOKENIZER}
    OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "403 407 261 378")
    message(FATAL_ERROR "consumer printed '${out}' (rc ${rc}), expected 403 407 261 378")
  endif()
endif()
if(EXISTS ${TOKENIZER} AND EXISTS ${WORK_DIR}/prefix/bin/pplug)
  # The installed launcher finds the installed tool module (no build tree involved).
  execute_process(COMMAND ${WORK_DIR}/prefix/bin/pplug tokenize --tokenizer ${TOKENIZER}
    --text "Once upon" OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "^[0-9 ]+")
    message(FATAL_ERROR "installed pplug printed '${out}' '${err}' (rc ${rc})")
  endif()
endif()
message(STATUS "consumer project OK")
