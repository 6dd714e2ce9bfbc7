/*
 * trace.h: the `trace` method (trace.c): a packet through the real stages, nothing sent.
 * Control thread.
 */
#ifndef PSW_CONTROL_TRACE_H
#define PSW_CONTROL_TRACE_H

#include <jansson.h>

#include "ctl/rpc.h"

json_t *psw_rpc_trace(json_t *params, struct psw_rpc_error *err);
/* Free the trace's own datapath context (at exit). */
void psw_trace_fini(void);

#endif
