/*
 * limits.h: the sizes every layer shares (ports, PMDs, bursts, names). No code.
 */
#ifndef PSW_CORE_LIMITS_H
#define PSW_CORE_LIMITS_H

#include <stdint.h>

#define PSW_MAX_PORTS   1024    /* pods, uplinks, host ports and one per tunnel peer */
#define PSW_PORT_NONE   UINT16_MAX
#define PSW_NAME_MAX    64
#define PSW_MAX_PMDS    16
#define PSW_BURST       32

#endif
