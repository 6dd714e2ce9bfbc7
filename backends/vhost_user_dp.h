/*
 * vhost_user_dp.h: a vhost-user port's packet path (vhost_user_dp.c): the PMDs call the
 * vhost library on the pod's connection directly. vhost_user.c keeps the connection's
 * vid and vring count current from net_vhost's link and queue-state events.
 */
#ifndef PSW_BACKENDS_VHOST_USER_DP_H
#define PSW_BACKENDS_VHOST_USER_DP_H

#include <stdint.h>

#include "port/port.h"

/* The bursts for the net_vhost ethdev dpdk_port, receiving into mp (not connected until
 * psw_vu_dp_set). */
struct rte_mempool;
const struct psw_port_io *psw_vu_dp_io(uint16_t dpdk_port, struct rte_mempool *mp);

/* The pod's connection on dpdk_port: its vid and number of vrings, or vid < 0 when there
 * is none. Returns true when this took a connection away (the caller then waits a grace
 * period before the vhost library may free it; never while it holds the connection's
 * queue locks, as during a vring-state event, for which this returns false). Any
 * thread, one at a time. */
bool psw_vu_dp_set(uint16_t dpdk_port, int vid, uint16_t vrings);

#endif
