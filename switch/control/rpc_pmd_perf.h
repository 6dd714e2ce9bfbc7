/*
 * rpc_pmd_perf.h: pmd.perf (rpc_pmd_perf.c). Control thread.
 */
#ifndef PSW_CONTROL_RPC_PMD_PERF_H
#define PSW_CONTROL_RPC_PMD_PERF_H

#include "ctl/rpc.h"

extern const struct psw_rpc_method psw_rpc_pmd_perf_methods[];

#endif
