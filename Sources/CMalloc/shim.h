#ifndef MXARCHIVE_CMALLOC_SHIM_H
#define MXARCHIVE_CMALLOC_SHIM_H
// glibc's allocator tuning, which the Glibc module does not carry (<malloc.h> is not in it).
#include <stdlib.h>  // defines __GLIBC__ under glibc
#if defined(__GLIBC__)
#include <malloc.h>
// Sets a fixed mmap threshold (which also turns off glibc's raising of it); 1 when glibc took it.
static inline int mxa_fix_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }
#else
// musl and others: no such tuning here.
static inline int mxa_fix_mmap_threshold(int bytes) { (void)bytes; return 0; }
#endif
#endif
