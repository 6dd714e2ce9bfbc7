/*
 * rpc_tunnel.h: transports in JSON (rpc_tunnel.c): network.add's transport params and
 * the network.peer_* methods. Control thread.
 */
#ifndef PSW_TUNNEL_RPC_TUNNEL_H
#define PSW_TUNNEL_RPC_TUNNEL_H

#include "ctl/rpc.h"

extern const struct psw_rpc_method psw_rpc_tunnel_methods[];
/* Give network.add its transport params (after l2). 0 or -errno. */
int psw_rpc_tunnel_init(void);

#endif
