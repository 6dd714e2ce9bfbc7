/*
 * trace.h: the trace sink. `trace` (flow/trace.c) runs one packet through the real stages
 * on the control thread with a PMD context whose `trace` points to a sink; each stage
 * records what it decided (the rule, each action, the L2 decision, every output, the drop
 * and its reason) as compact events, and trace.c turns them into JSON. On a real PMD the
 * pointer is NULL and recording is one predictable branch (VPP traces the same way:
 * per-buffer flag, records in the node that decides).
 *
 * A traced run has no side effects on shared state: stages do not learn, refresh MACs or
 * count rule hits while tracing (psw_tracing()), and the txq stage keeps the packets it
 * would send for the trace to read instead of sending them.
 */
#ifndef PSW_CORE_TRACE_H
#define PSW_CORE_TRACE_H

#include <stdint.h>
#include <string.h>

#define PSW_TRACE_EVENTS 64
#define PSW_TRACE_DATA   64

enum psw_trace_type {
	PSW_TR_PARSED,       /* data: the key (core/key.h) the parser made */
	PSW_TR_CACHE_HIT,    /* ptr: the cached result */
	PSW_TR_RULE,         /* ptr: the rule (flow/rule.h) */
	PSW_TR_NO_RULE,      /* port: the static output, or PSW_PORT_NONE */
	PSW_TR_ACTION,       /* ptr: the action (flow/rule.h); u: its index */
	PSW_TR_L2,           /* data: the decision (l2/l2.h struct psw_l2_decision) */
	PSW_TR_OUTPUT,       /* port; data: the first bytes of the packet as queued */
	PSW_TR_DROP,         /* reason (core/drop.h); port: the input port */
	PSW_TR_NOTE,         /* ptr: a static string */
	PSW_TR_STAGE,        /* ptr: a static string, the stage's name; u: stage-specific */
};

struct psw_trace_event {
	uint16_t type;          /* enum psw_trace_type */
	uint16_t port;
	uint16_t reason;
	uint16_t len;           /* bytes of data used; for OUTPUT the packet's length */
	uint32_t u;
	const void *ptr;
	uint8_t data[PSW_TRACE_DATA];
};

struct psw_trace_sink {
	unsigned n;
	unsigned lost;          /* events that did not fit */
	struct psw_trace_event ev[PSW_TRACE_EVENTS];
};

/* Record one event (control thread, tracing only: callers test psw_tracing() first). */
static inline struct psw_trace_event *
psw_trace_add(struct psw_trace_sink *t, unsigned type, uint16_t port, const void *ptr,
	      const void *data, size_t len)
{
	struct psw_trace_event *e;

	if (t->n >= PSW_TRACE_EVENTS) {
		t->lost++;
		return NULL;
	}
	e = &t->ev[t->n++];
	memset(e, 0, sizeof(*e));
	e->type = (uint16_t)type;
	e->port = port;
	e->ptr = ptr;
	if (len > PSW_TRACE_DATA)
		len = PSW_TRACE_DATA;
	if (data != NULL && len > 0)
		memcpy(e->data, data, len);
	e->len = (uint16_t)len;
	return e;
}

#endif
