# Builds BPF objects with clang and turns them into one libbpf skeleton.
set(RSTWATCH_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated CACHE INTERNAL "")
file(MAKE_DIRECTORY ${RSTWATCH_GENERATED_DIR})

if(RSTWATCH_VMLINUX_H)
  set(RSTWATCH_VMLINUX_OUT ${RSTWATCH_VMLINUX_H})
  get_filename_component(RSTWATCH_VMLINUX_DIR ${RSTWATCH_VMLINUX_H} DIRECTORY)
else()
  set(RSTWATCH_VMLINUX_DIR ${RSTWATCH_GENERATED_DIR}/vmlinux)
  set(RSTWATCH_VMLINUX_OUT ${RSTWATCH_VMLINUX_DIR}/vmlinux.h)
  if(NOT EXISTS ${RSTWATCH_BTF_SOURCE})
    message(FATAL_ERROR "Kernel BTF not found at ${RSTWATCH_BTF_SOURCE}: "
            "build on a kernel with CONFIG_DEBUG_INFO_BTF=y or pass "
            "-DRSTWATCH_VMLINUX_H=/path/to/vmlinux.h")
  endif()
  add_custom_command(
    OUTPUT ${RSTWATCH_VMLINUX_OUT}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${RSTWATCH_VMLINUX_DIR}
    COMMAND ${BPFTOOL} btf dump file ${RSTWATCH_BTF_SOURCE} format c > ${RSTWATCH_VMLINUX_OUT}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${RSTWATCH_VMLINUX_OUT}.tmp ${RSTWATCH_VMLINUX_OUT}
    COMMENT "Generating vmlinux.h from ${RSTWATCH_BTF_SOURCE}"
    VERBATIM)
endif()
add_custom_target(rstwatch_vmlinux DEPENDS ${RSTWATCH_VMLINUX_OUT})

# The kernel headers the BPF side reads (struct pt_regs and friends in
# bpf_tracing.h) differ per architecture; libbpf names them as the kernel's
# arch/ directories do.
string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" RSTWATCH_PROCESSOR)
if(RSTWATCH_PROCESSOR MATCHES "^(x86_64|amd64|i[3-6]86)$")
  set(RSTWATCH_BPF_ARCH x86)
elseif(RSTWATCH_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(RSTWATCH_BPF_ARCH arm64)
elseif(RSTWATCH_PROCESSOR MATCHES "^arm")
  set(RSTWATCH_BPF_ARCH arm)
elseif(RSTWATCH_PROCESSOR MATCHES "^(ppc64|ppc64le|powerpc)")
  set(RSTWATCH_BPF_ARCH powerpc)
elseif(RSTWATCH_PROCESSOR MATCHES "^s390")
  set(RSTWATCH_BPF_ARCH s390)
elseif(RSTWATCH_PROCESSOR MATCHES "^riscv")
  set(RSTWATCH_BPF_ARCH riscv)
elseif(RSTWATCH_PROCESSOR MATCHES "^loongarch")
  set(RSTWATCH_BPF_ARCH loongarch)
elseif(RSTWATCH_PROCESSOR MATCHES "^mips")
  set(RSTWATCH_BPF_ARCH mips)
else()
  message(FATAL_ERROR "rstwatch: no BPF target architecture known for "
          "CMAKE_SYSTEM_PROCESSOR '${CMAKE_SYSTEM_PROCESSOR}'")
endif()

# rstwatch_bpf_skeleton(NAME name SOURCES a.bpf.c b.bpf.c DEPENDS headers...)
# Compiles each source, links them with `bpftool gen object` and generates
# ${name}.skel.h; defines an INTERFACE target ${name}_skel to depend on.
function(rstwatch_bpf_skeleton)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPENDS" ${ARGN})
  set(objects)
  foreach(src ${ARG_SOURCES})
    get_filename_component(stem ${src} NAME_WE)
    set(obj ${RSTWATCH_GENERATED_DIR}/${stem}.bpf.o)
    add_custom_command(
      OUTPUT ${obj}
      COMMAND ${CLANG_BPF} -g -O2 -target bpf -D__TARGET_ARCH_${RSTWATCH_BPF_ARCH} -Wall -Werror
              -Wno-unused-function
              -I${RSTWATCH_VMLINUX_DIR} -I${CMAKE_SOURCE_DIR}/include
              -I${CMAKE_CURRENT_SOURCE_DIR}
              -c ${CMAKE_CURRENT_SOURCE_DIR}/${src} -o ${obj}
      DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${src} ${ARG_DEPENDS} ${RSTWATCH_VMLINUX_OUT}
      COMMENT "BPF ${src}"
      VERBATIM)
    list(APPEND objects ${obj})
  endforeach()
  set(linked ${RSTWATCH_GENERATED_DIR}/${ARG_NAME}.bpf.o)
  set(skel ${RSTWATCH_GENERATED_DIR}/${ARG_NAME}.skel.h)
  add_custom_command(
    OUTPUT ${linked}
    COMMAND ${BPFTOOL} gen object ${linked} ${objects}
    DEPENDS ${objects}
    COMMENT "Linking BPF object ${ARG_NAME}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${linked} name ${ARG_NAME} > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${linked}
    COMMENT "Generating skeleton ${ARG_NAME}.skel.h"
    VERBATIM)
  add_custom_target(${ARG_NAME}_skel_gen DEPENDS ${skel})
  add_library(${ARG_NAME}_skel INTERFACE)
  add_dependencies(${ARG_NAME}_skel ${ARG_NAME}_skel_gen)
  target_include_directories(${ARG_NAME}_skel INTERFACE ${RSTWATCH_GENERATED_DIR})
endfunction()
