#ifndef MXARCHIVE_COLM_SHIM_H
#define MXARCHIVE_COLM_SHIM_H
// libolm (Debian: libolm-dev): PK decryption for the key backup, inbound group sessions for megolm.
#include <olm/olm.h>
#include <olm/pk.h>
#include <olm/inbound_group_session.h>
#endif
