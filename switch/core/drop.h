/*
 * drop.h: every reason a packet can be dropped, with its counter name. The fast path
 * counts a drop per PMD and per input port with pmd_drop(); nothing is logged.
 * New reasons go at the end of the list only within one release (state files do not
 * store counters, so renumbering is harmless across restarts).
 */
#ifndef PSW_DROP_H
#define PSW_DROP_H

#define PSW_DROP_REASONS(X)                                              \
	X(NO_OUTPUT,    "no_output",    "port has no output and no rule matched") \
	X(NO_RULE,      "no_rule",      "no matching rule")                    \
	X(ACTION_DROP,  "action_drop",  "rule action drop")                    \
	X(HAIRPIN,      "hairpin",      "output port is input port")           \
	X(PORT_DOWN,    "port_down",    "output port link down or removed")    \
	X(TX_FULL,      "tx_full",      "output queue full")                   \
	X(TRUNCATED,    "truncated",    "truncated header")                    \
	X(MALFORMED,    "malformed",    "malformed header")                    \
	X(MTU,          "mtu",          "larger than output MTU")              \
	X(LEARN_LIMIT,  "learn_limit",  "port reached its learned-MAC limit")  \
	X(VLAN,         "vlan",         "VLAN push/pop not possible")          \
	X(NO_MBUF,      "no_mbuf",      "no buffer for a copy")                \
	X(TUNNEL,       "tunnel",       "tunnel encap/decap failed")            \
	X(NO_NETWORK,   "no_network",   "action normal on a port in no network") \
	X(TUNNEL_MALFORMED, "tunnel_malformed", "VXLAN packet too short or with bad flags") \
	X(TUNNEL_VNI,   "tunnel_vni",   "VXLAN VNI of no network on this node")    \
	X(TUNNEL_PEER,  "tunnel_peer",  "VXLAN from an address that is not a peer of the network") \
	X(NEIGH_UNRESOLVED, "neigh_unresolved", "next hop not resolved (ARP/ND pending or failed)") \
	X(UPLINK_OTHER, "uplink_other", "on the uplink, not for a tunnel or this node") \
	X(ARP_LIMIT,    "arp_limit",    "ARP/ND beyond what the switch answers per second") \
	X(SPLIT_HORIZON, "split_horizon", "from one node's transport port to another's (no relaying)")

enum psw_drop_reason {
#define PSW_DROP_ENUM(id, name, text) PSW_DROP_##id,
	PSW_DROP_REASONS(PSW_DROP_ENUM)
#undef PSW_DROP_ENUM
	PSW_DROP_MAX
};

/* Short machine name ("tx_full") and human text, indexed by reason. */
extern const char *const psw_drop_names[PSW_DROP_MAX];
extern const char *const psw_drop_texts[PSW_DROP_MAX];

#endif
