#ifndef MXARCHIVE_CARCHIVE_SHIM_H
#define MXARCHIVE_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>

// AE_IFREG and AE_IFDIR are macros with a cast, which Swift does not import.
static inline unsigned int mxa_archive_ifreg(void) { return AE_IFREG; }
static inline unsigned int mxa_archive_ifdir(void) { return AE_IFDIR; }
#endif
