/*
 * flow_text.h: the ovs-ofctl-like text syntax of flow rules, mapped onto the structured
 * JSON of flow.add / flow.del / trace (the JSON is the source of truth; this is a view).
 * Used by podswitchctl (flow, trace commands) and by podswitchd's config loader ("flows").
 * Pure string work, no DPDK: any thread, but not the fast path.
 *
 *   priority=100,cookie=0x5,in_port=pod1,ip,nw_dst=10.1.0.0/16,actions=output:uplink
 *
 * Fields are separated by commas or blanks; `actions=` comes last and takes the rest.
 * The parser checks syntax and value ranges; whether a rule makes sense (a known port,
 * nw_src only with ip ...) is the switch's call.
 */
#ifndef PSW_FLOW_TEXT_H
#define PSW_FLOW_TEXT_H

#include <stddef.h>
#include <jansson.h>

enum psw_flow_text_mode {
	PSW_FT_RULE,   /* priority, cookie, match fields, actions= (required) */
	PSW_FT_MATCH,  /* priority, cookie, match fields, no actions (flow del) */
	PSW_FT_PACKET, /* match fields only, no masks or prefixes (trace) */
};

/* Text -> a new JSON object: PSW_FT_RULE {"priority"?,"cookie"?,"match":{..},"actions":[..]},
 * PSW_FT_MATCH {"priority"?,"cookie"?,"match":{..}}, PSW_FT_PACKET {..fields..}.
 * NULL with a message naming the field in err. */
json_t *psw_flow_text_parse(const char *text, enum psw_flow_text_mode mode,
			    char *err, size_t errlen);

/* JSON -> text: a rule object ({"priority","cookie","match","actions"}: the members present
 * are printed; priority 32768 and cookie 0 are left out), a match object alone, or an
 * actions array alone. Returns a malloc'd string, NULL on a member it cannot print
 * (errno EINVAL) or out of memory. */
char *psw_flow_text_format(const json_t *rule);
char *psw_flow_text_format_match(const json_t *match);
char *psw_flow_text_format_actions(const json_t *actions);

#define PSW_FLOW_DEFAULT_PRIORITY 32768

#endif
