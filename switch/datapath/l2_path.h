/*
 * l2_path.h: the L2 fast path (PMD threads), taken instead of parse -> flow_cache ->
 * classify -> actions when every rule looks at no more than in_port and the Ethernet
 * header (flow/flow_table.h's PSW_SHAPE_L2: the default priority=0,actions=normal,
 * in_port rules, MAC and VLAN rules).
 */
#ifndef PSW_DATAPATH_L2_PATH_H
#define PSW_DATAPATH_L2_PATH_H

#include "core/burst.h"

void psw_l2_path_burst(struct psw_pmd *pmd, struct psw_burst *b);

#endif
