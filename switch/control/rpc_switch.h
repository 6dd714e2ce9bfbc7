/*
 * rpc_switch.h: switch.info, stats.get, stats.clear, pmd.stats, flow.stats (rpc_switch.c).
 * Control thread.
 */
#ifndef PSW_CONTROL_RPC_SWITCH_H
#define PSW_CONTROL_RPC_SWITCH_H

#include <jansson.h>

#include "ctl/rpc.h"

extern const struct psw_rpc_method psw_rpc_switch_methods[];

struct psw_control;
/* switch.info reports the control server's counters (clients, requests, errors...). */
void psw_rpc_switch_set_control(const struct psw_control *c);
/* What switch.info says of the start-up configuration (control_socket, state_dir,
 * file_prefix, pmd_cpus ...): taken over (NULL frees it, at exit). */
void psw_rpc_switch_set_info(json_t *info);

#endif
