/*
 * rpcs.h: every method table and state hook main.c wires up (control thread).
 */
#ifndef PSW_RPCS_H
#define PSW_RPCS_H

#include <jansson.h>
#include "rpc.h"

extern const struct psw_rpc_method psw_rpc_port_methods[];
extern const struct psw_rpc_method psw_rpc_switch_methods[];

/* rpc_port.c */
json_t *psw_rpc_port_add(json_t *params, struct psw_rpc_error *err);
json_t *psw_rpc_port_del(json_t *params, struct psw_rpc_error *err);
json_t *psw_rpc_port_set(json_t *params, struct psw_rpc_error *err);
json_t *psw_rpc_port_dump(void);          /* port.add params of every port, in creation order */
json_t *psw_rpc_port_outputs_dump(void);  /* port.set params restoring static outputs */
void psw_rpc_port_fini(void);             /* forget specs (ports are being removed at exit) */
bool psw_rpc_port_exists(const char *name);

/* rpc_switch.c: after every successful change (saves the state file). */
void psw_config_changed(void);
double psw_now_s(void);          /* CLOCK_MONOTONIC seconds */
void psw_mark_start(void);
struct psw_control;
/* switch.info reports the control server's counters (clients, requests, errors...). */
void psw_rpc_switch_set_control(const struct psw_control *c);
extern void (*psw_on_change)(void); /* set by main.c: save the state file */

#endif
