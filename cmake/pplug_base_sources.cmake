# The sources of pplug_base: everything that needs no libtorch (errors, logging, files, LaMP
# data, metrics, retrieval, synthetic data, WordPiece, chat templates, tokenizer.json, the
# SentencePiece ModelProto, and format/: the parsers and validators of file formats (GGUF
# metadata, safetensors headers, config.json, llama2.c headers, plug-in manifests, user
# embedding records) that libtorch code calls before it builds any tensor, and the expanders of
# llama.cpp's quantized GGUF types). Shared by src/CMakeLists.txt and the fuzz build
# (tests/fuzz), which compiles the same files with clang's fuzzer instrumentation and sanitizers.
set(PPLUG_BASE_SRC_DIR ${CMAKE_CURRENT_LIST_DIR}/../src)
get_filename_component(PPLUG_BASE_SRC_DIR ${PPLUG_BASE_SRC_DIR} ABSOLUTE)
file(GLOB_RECURSE PPLUG_BASE_SOURCES CONFIGURE_DEPENDS
  ${PPLUG_BASE_SRC_DIR}/util/*.cpp
  ${PPLUG_BASE_SRC_DIR}/lamp/*.cpp
  ${PPLUG_BASE_SRC_DIR}/text/*.cpp
  ${PPLUG_BASE_SRC_DIR}/chat/*.cpp
  ${PPLUG_BASE_SRC_DIR}/tokenizer/hf/*.cpp
  ${PPLUG_BASE_SRC_DIR}/format/*.cpp
  ${PPLUG_BASE_SRC_DIR}/tokenizer/spm_model_proto.cpp
  ${PPLUG_BASE_SRC_DIR}/tokenizer/gguf_spm_vocab.cpp)
# llama.cpp's reference dequantizers round `dl * q - ml` in two steps; a target with FMA
# (-march=x86-64-v3, native) would otherwise fuse it and change the last bit of K-quant weights.
# (A source property is per directory: this file is included where the sources are compiled.)
set_source_files_properties(${PPLUG_BASE_SRC_DIR}/format/ggml_dequantize.cpp
  PROPERTIES COMPILE_OPTIONS -ffp-contract=off)
