/*
 * flow_text.c: ovs-ofctl-like rule text <-> the structured JSON of flow.add, flow.del and
 * trace. Shared by podswitchctl and podswitchd's config loader; pure string work (no
 * DPDK), run on the CLI or on the switch's control thread, never on the fast path.
 *
 * Parsing splits the text into `key[=value]` items (commas or blanks) up to `actions=`,
 * which takes the rest of the line. Match fields go into "match" under their canonical
 * JSON names (aliases such as eth_dst or tcp_dst are accepted); shorthands (ip, tcp6 ...)
 * set dl_type and nw_proto. Formatting goes the other way and folds dl_type/nw_proto back
 * into a shorthand, so that format(parse(text)) is the canonical text.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow_text.h"

#define NAME_MAX_LEN 63

enum kind {
	K_PORT,  /* a port name */
	K_MAC,   /* aa:bb:cc:dd:ee:ff[/mask] */
	K_UINT,  /* integer 0..max (decimal or 0x hex) */
	K_IP4,   /* a.b.c.d[/len | /a.b.c.d] */
	K_IP6,   /* ipv6[/len | /mask] */
};

struct field {
	const char *name;   /* canonical JSON key and text name */
	enum kind kind;
	uint64_t max;       /* K_UINT */
};

/* In print order. */
static const struct field fields[] = {
	{"in_port",   K_PORT, 0},
	{"dl_src",    K_MAC,  0},
	{"dl_dst",    K_MAC,  0},
	{"dl_vlan",   K_UINT, 4095},
	{"dl_type",   K_UINT, 0xffff},
	{"nw_src",    K_IP4,  0},
	{"nw_dst",    K_IP4,  0},
	{"ipv6_src",  K_IP6,  0},
	{"ipv6_dst",  K_IP6,  0},
	{"nw_proto",  K_UINT, 255},
	{"tp_src",    K_UINT, 65535},
	{"tp_dst",    K_UINT, 65535},
	{"icmp_type", K_UINT, 255},
	{"tun_id",    K_UINT, 0xffffff},
};

static const struct {
	const char *alias, *name;
} aliases[] = {
	{"eth_src", "dl_src"}, {"eth_dst", "dl_dst"}, {"eth_type", "dl_type"},
	{"vlan_vid", "dl_vlan"},
	{"ip_src", "nw_src"}, {"ip_dst", "nw_dst"}, {"ip_proto", "nw_proto"},
	{"tcp_src", "tp_src"}, {"tcp_dst", "tp_dst"},
	{"udp_src", "tp_src"}, {"udp_dst", "tp_dst"},
	{"icmpv6_type", "icmp_type"}, {"tunnel_id", "tun_id"},
};

#define ETH_IP   0x0800
#define ETH_ARP  0x0806
#define ETH_IPV6 0x86dd

/* In format preference order: the most specific first. */
static const struct {
	const char *name;
	int dl_type;
	int nw_proto; /* -1: none */
} shorthands[] = {
	{"tcp", ETH_IP, 6}, {"udp", ETH_IP, 17}, {"icmp", ETH_IP, 1},
	{"tcp6", ETH_IPV6, 6}, {"udp6", ETH_IPV6, 17}, {"icmp6", ETH_IPV6, 58},
	{"ip", ETH_IP, -1}, {"ipv6", ETH_IPV6, -1}, {"arp", ETH_ARP, -1},
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const struct field *
find_field(const char *name)
{
	size_t i;

	for (i = 0; i < N_ELEMS(aliases); i++)
		if (!strcmp(name, aliases[i].alias)) {
			name = aliases[i].name;
			break;
		}
	for (i = 0; i < N_ELEMS(fields); i++)
		if (!strcmp(name, fields[i].name))
			return &fields[i];
	return NULL;
}

/* Decimal or 0x-hex, the whole string, at most max. */
static int
parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int base = 10;

	if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		if (!s[2])
			return -EINVAL;
	}
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Exactly aa:bb:cc:dd:ee:ff (either case); canon gets the lower-case form. */
static int
parse_mac(const char *s, char *canon, size_t len)
{
	unsigned b[6];

	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return -EINVAL;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -EINVAL;
	snprintf(canon, len, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
	return 0;
}

/* "addr[/len|/mask]" for af; with_mask false refuses the slash. Copies the text. */
static int
parse_ip(int af, const char *s, bool with_mask, char *canon, size_t len)
{
	char addr[64];
	unsigned char buf[16];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t plen;

	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(af, addr, buf) != 1)
		return -EINVAL;
	if (slash) {
		if (!with_mask)
			return -EINVAL;
		if (parse_uint(slash + 1, af == AF_INET ? 32 : 128, &plen) < 0 &&
		    inet_pton(af, slash + 1, buf) != 1)
			return -EINVAL;
	}
	if (strlen(s) >= len)
		return -EINVAL;
	strcpy(canon, s);
	return 0;
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s) || *s == ',' || *s == '=' || *s == '"')
			return false;
	return true;
}

static int
parse_field(json_t *match, const struct field *f, const char *val, bool packet,
	    char *err, size_t errlen)
{
	char canon[128];
	uint64_t v;
	json_t *j = NULL;
	const char *slash;

	if (json_object_get(match, f->name))
		return fail(err, errlen, "field '%s' given twice", f->name);
	switch (f->kind) {
	case K_PORT:
		if (!name_ok(val))
			return fail(err, errlen, "field '%s': bad port name '%s'", f->name, val);
		j = json_string(val);
		break;
	case K_MAC:
		slash = strchr(val, '/');
		if (slash) {
			char mac[32], mask[32];
			size_t alen = slash - val;

			if (packet)
				return fail(err, errlen, "field '%s': no mask in a packet", f->name);
			if (alen >= sizeof(mac) || strlen(slash + 1) >= sizeof(mask))
				return fail(err, errlen, "field '%s': bad MAC '%s'", f->name, val);
			memcpy(mac, val, alen);
			mac[alen] = '\0';
			if (parse_mac(mac, mac, sizeof(mac)) < 0 ||
			    parse_mac(slash + 1, mask, sizeof(mask)) < 0)
				return fail(err, errlen,
					    "field '%s': bad MAC '%s' (want aa:bb:cc:dd:ee:ff[/mask])",
					    f->name, val);
			snprintf(canon, sizeof(canon), "%s/%s", mac, mask);
		} else if (parse_mac(val, canon, sizeof(canon)) < 0) {
			return fail(err, errlen,
				    "field '%s': bad MAC '%s' (want aa:bb:cc:dd:ee:ff[/mask])",
				    f->name, val);
		}
		j = json_string(canon);
		break;
	case K_UINT:
		if (parse_uint(val, f->max, &v) < 0)
			return fail(err, errlen, "field '%s': '%s' is not a number in 0..%" PRIu64,
				    f->name, val, f->max);
		j = json_integer((json_int_t)v);
		break;
	case K_IP4:
	case K_IP6:
		if (parse_ip(f->kind == K_IP4 ? AF_INET : AF_INET6, val, !packet, canon,
			     sizeof(canon)) < 0)
			return fail(err, errlen, "field '%s': bad %s '%s'", f->name,
				    f->kind == K_IP4 ? (packet ? "IPv4 address" : "IPv4 address or prefix")
						     : (packet ? "IPv6 address" : "IPv6 address or prefix"),
				    val);
		j = json_string(canon);
		break;
	}
	if (!j || json_object_set_new(match, f->name, j) < 0)
		return fail(err, errlen, "out of memory");
	return 0;
}

/* Set an integer match field a shorthand implies; a different explicit value conflicts. */
static int
imply(json_t *match, const char *key, int val, const char *why, char *err, size_t errlen)
{
	json_t *cur = json_object_get(match, key);

	if (cur) {
		if (json_integer_value(cur) != val)
			return fail(err, errlen, "'%s' conflicts with %s=%" JSON_INTEGER_FORMAT,
				    why, key, json_integer_value(cur));
		return 0;
	}
	if (json_object_set_new(match, key, json_integer(val)) < 0)
		return fail(err, errlen, "out of memory");
	return 0;
}

static int
add_action(json_t *actions, const char *type, const char *key, json_t *val,
	   char *err, size_t errlen)
{
	json_t *a = json_pack("{ss}", "type", type);

	if (!a || (key && json_object_set_new(a, key, val) < 0) ||
	    json_array_append_new(actions, a) < 0) {
		json_decref(a);
		return fail(err, errlen, "out of memory");
	}
	return 0;
}

static int
parse_action(json_t *actions, char *item, char *err, size_t errlen)
{
	char *arg = strchr(item, ':');
	char canon[32];
	uint64_t v;

	if (arg)
		*arg++ = '\0';
	if (!strcmp(item, "drop") || !strcmp(item, "normal") || !strcmp(item, "strip_vlan") ||
	    !strcmp(item, "pop_vlan") || !strcmp(item, "decap_vxlan")) {
		if (arg)
			return fail(err, errlen, "action '%s' takes no argument", item);
		return add_action(actions, !strcmp(item, "strip_vlan") ? "pop_vlan" : item,
				  NULL, NULL, err, errlen);
	}
	if (strcmp(item, "output") && strcmp(item, "mod_dl_src") && strcmp(item, "mod_dl_dst") &&
	    strcmp(item, "push_vlan") && strcmp(item, "mod_vlan_vid") && strcmp(item, "encap_vxlan"))
		return fail(err, errlen, "unknown action '%s'", item);
	if (!arg || !*arg)
		return fail(err, errlen, "action '%s' needs an argument (%s:...)", item, item);
	if (!strcmp(item, "output")) {
		if (!name_ok(arg))
			return fail(err, errlen, "action 'output': bad port name '%s'", arg);
		return add_action(actions, "output", "port", json_string(arg), err, errlen);
	}
	if (!strcmp(item, "mod_dl_src") || !strcmp(item, "mod_dl_dst")) {
		if (parse_mac(arg, canon, sizeof(canon)) < 0)
			return fail(err, errlen, "action '%s': bad MAC '%s'", item, arg);
		return add_action(actions, item[7] == 's' ? "set_eth_src" : "set_eth_dst",
				  "mac", json_string(canon), err, errlen);
	}
	if (!strcmp(item, "push_vlan") || !strcmp(item, "mod_vlan_vid")) {
		if (parse_uint(arg, 4095, &v) < 0)
			return fail(err, errlen, "action '%s': VLAN id '%s' is not in 0..4095",
				    item, arg);
		return add_action(actions, "push_vlan", "vid", json_integer((json_int_t)v),
				  err, errlen);
	}
	if (!strcmp(item, "encap_vxlan")) {
		/* encap_vxlan:VNI or encap_vxlan:VNI@REMOTE */
		char *at = strchr(arg, '@');
		unsigned char ip[4];
		int rc;

		if (at)
			*at++ = '\0';
		if (parse_uint(arg, 0xffffff, &v) < 0)
			return fail(err, errlen, "action 'encap_vxlan': VNI '%s' is not in 0..16777215",
				    arg);
		if (at && inet_pton(AF_INET, at, ip) != 1)
			return fail(err, errlen, "action 'encap_vxlan': bad remote '%s'", at);
		rc = add_action(actions, "encap_vxlan", "vni", json_integer((json_int_t)v), err,
				errlen);
		if (!rc && at)
			json_object_set_new(json_array_get(actions, json_array_size(actions) - 1),
					    "remote", json_string(at));
		return rc;
	}
	return fail(err, errlen, "unknown action '%s'", item);
}

static int
parse_actions(json_t *rule, char *text, char *err, size_t errlen)
{
	json_t *actions = json_array();
	char *save = NULL, *item;
	int rc;

	if (!actions || json_object_set_new(rule, "actions", actions) < 0)
		return fail(err, errlen, "out of memory");
	for (item = strtok_r(text, ", \t", &save); item; item = strtok_r(NULL, ", \t", &save)) {
		rc = parse_action(actions, item, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (json_array_size(actions) == 0)
		return fail(err, errlen, "'actions=' is empty (use actions=drop to drop)");
	return 0;
}

static int
parse_item(json_t *rule, json_t *match, char *item, enum psw_flow_text_mode mode,
	   char *err, size_t errlen)
{
	char *val = strchr(item, '=');
	const struct field *f;
	uint64_t v;
	size_t i;
	int rc;

	if (val)
		*val++ = '\0';
	if (!val) {
		for (i = 0; i < N_ELEMS(shorthands); i++) {
			if (strcmp(item, shorthands[i].name))
				continue;
			rc = imply(match, "dl_type", shorthands[i].dl_type, item, err, errlen);
			if (!rc && shorthands[i].nw_proto >= 0)
				rc = imply(match, "nw_proto", shorthands[i].nw_proto, item, err,
					   errlen);
			return rc;
		}
		if (find_field(item) || !strcmp(item, "priority") || !strcmp(item, "cookie"))
			return fail(err, errlen, "field '%s' needs a value (%s=...)", item, item);
		return fail(err, errlen, "unknown field '%s'", item);
	}
	if (!strcmp(item, "priority") || !strcmp(item, "cookie")) {
		bool prio = item[0] == 'p';

		if (mode == PSW_FT_PACKET)
			return fail(err, errlen, "'%s' is not a packet field", item);
		if (json_object_get(rule, item))
			return fail(err, errlen, "field '%s' given twice", item);
		if (parse_uint(val, prio ? 65535 : INT64_MAX, &v) < 0)
			return fail(err, errlen, "field '%s': '%s' is not a number in 0..%s", item,
				    val, prio ? "65535" : "2^63-1");
		if (json_object_set_new(rule, item, json_integer((json_int_t)v)) < 0)
			return fail(err, errlen, "out of memory");
		return 0;
	}
	f = find_field(item);
	if (!f)
		return fail(err, errlen, "unknown field '%s'", item);
	if (!*val)
		return fail(err, errlen, "field '%s' has an empty value", f->name);
	return parse_field(match, f, val, mode == PSW_FT_PACKET, err, errlen);
}

json_t *
psw_flow_text_parse(const char *text, enum psw_flow_text_mode mode, char *err, size_t errlen)
{
	json_t *rule = json_object(), *match = json_object();
	char *copy = strdup(text ? text : ""), *p, *item, *save = NULL, *acts = NULL;

	if (!rule || !match || !copy) {
		fail(err, errlen, "out of memory");
		goto fail;
	}
	/* Cut off "actions=" (a whole item: at the start or after a separator). */
	for (p = copy; (p = strstr(p, "actions=")); p++) {
		if (p == copy || p[-1] == ',' || isspace((unsigned char)p[-1])) {
			acts = p + strlen("actions=");
			*p = '\0';
			break;
		}
	}
	if (acts && mode != PSW_FT_RULE) {
		fail(err, errlen, "'actions=' not allowed here (%s)",
		     mode == PSW_FT_MATCH ? "a match only" : "a packet only");
		goto fail;
	}
	if (!acts && mode == PSW_FT_RULE) {
		fail(err, errlen, "missing 'actions=' (e.g. actions=normal)");
		goto fail;
	}
	for (item = strtok_r(copy, ", \t\n", &save); item; item = strtok_r(NULL, ", \t\n", &save))
		if (parse_item(rule, match, item, mode, err, errlen) < 0)
			goto fail;
	if (acts && parse_actions(rule, acts, err, errlen) < 0)
		goto fail;
	free(copy);
	if (mode == PSW_FT_PACKET) {
		json_decref(rule);
		return match;
	}
	if (json_object_set_new(rule, "match", match) < 0) {
		fail(err, errlen, "out of memory");
		json_decref(rule);
		return NULL;
	}
	return rule;
fail:
	free(copy);
	json_decref(match);
	json_decref(rule);
	return NULL;
}

/* ---- formatting ---- */

static bool
print_value(FILE *f, const json_t *v)
{
	if (json_is_string(v))
		return fprintf(f, "%s", json_string_value(v)) >= 0;
	if (json_is_integer(v))
		return fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) >= 0;
	return false;
}

static int
format_match(FILE *f, const json_t *match, bool *first)
{
	const json_t *dlt = json_object_get(match, "dl_type");
	const json_t *proto = json_object_get(match, "nw_proto");
	const char *key;
	const json_t *v;
	bool proto_done = false, type_done = false;
	size_t i;

	if (!json_is_object(match))
		return -EINVAL;
	json_object_foreach((json_t *)match, key, v)
		if (!find_field(key) || strcmp(find_field(key)->name, key))
			return -EINVAL;
	for (i = 0; i < N_ELEMS(fields); i++) {
		const char *name = fields[i].name;

		v = json_object_get(match, name);
		if (!strcmp(name, "dl_type") && json_is_integer(dlt)) {
			for (size_t s = 0; s < N_ELEMS(shorthands); s++) {
				if (json_integer_value(dlt) != shorthands[s].dl_type)
					continue;
				if (shorthands[s].nw_proto >= 0 &&
				    (!json_is_integer(proto) ||
				     json_integer_value(proto) != shorthands[s].nw_proto))
					continue;
				fprintf(f, "%s%s", *first ? "" : ",", shorthands[s].name);
				*first = false;
				type_done = true;
				proto_done = shorthands[s].nw_proto >= 0;
				break;
			}
			if (type_done)
				continue;
			fprintf(f, "%sdl_type=0x%04llx", *first ? "" : ",",
				(unsigned long long)json_integer_value(dlt));
			*first = false;
			continue;
		}
		if (!v || (!strcmp(name, "nw_proto") && proto_done))
			continue;
		fprintf(f, "%s%s=", *first ? "" : ",", name);
		*first = false;
		if (!print_value(f, v))
			return -EINVAL;
	}
	return 0;
}

static int
format_actions(FILE *f, const json_t *actions)
{
	size_t i;
	const json_t *a;

	if (!json_is_array(actions))
		return -EINVAL;
	json_array_foreach((json_t *)actions, i, a) {
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *sep = i ? "," : "";

		if (!type)
			return -EINVAL;
		if (!strcmp(type, "output")) {
			const char *port = json_string_value(json_object_get(a, "port"));

			if (!port)
				return -EINVAL;
			fprintf(f, "%soutput:%s", sep, port);
		} else if (!strcmp(type, "set_eth_src") || !strcmp(type, "set_eth_dst")) {
			const char *mac = json_string_value(json_object_get(a, "mac"));

			if (!mac)
				return -EINVAL;
			fprintf(f, "%smod_dl_%s:%s", sep, type[8] == 's' ? "src" : "dst", mac);
		} else if (!strcmp(type, "push_vlan")) {
			const json_t *vid = json_object_get(a, "vid");

			if (!json_is_integer(vid))
				return -EINVAL;
			fprintf(f, "%spush_vlan:%" JSON_INTEGER_FORMAT, sep, json_integer_value(vid));
		} else if (!strcmp(type, "drop") || !strcmp(type, "normal") ||
			   !strcmp(type, "pop_vlan") || !strcmp(type, "decap_vxlan")) {
			fprintf(f, "%s%s", sep, type);
		} else if (!strcmp(type, "encap_vxlan")) {
			const json_t *vni = json_object_get(a, "vni");
			const char *rem = json_string_value(json_object_get(a, "remote"));

			if (!json_is_integer(vni))
				return -EINVAL;
			fprintf(f, "%sencap_vxlan:%" JSON_INTEGER_FORMAT "%s%s", sep,
				json_integer_value(vni), rem ? "@" : "", rem ? rem : "");
		} else {
			/* Actions added by later stages (tunnels) print as type:arg. */
			const json_t *v;
			const char *k;

			fprintf(f, "%s%s", sep, type);
			json_object_foreach((json_t *)a, k, v) {
				if (!strcmp(k, "type"))
					continue;
				fprintf(f, ":");
				if (!print_value(f, v))
					return -EINVAL;
			}
		}
	}
	return 0;
}

/* open_memstream sets *buf only at fclose, so take its address. */
static char *
finish(FILE *f, char **buf, int rc)
{
	if (fclose(f) != 0 || rc < 0) {
		free(*buf);
		errno = rc < 0 ? -rc : ENOMEM;
		return NULL;
	}
	return *buf;
}

char *
psw_flow_text_format(const json_t *rule)
{
	const json_t *prio = json_object_get(rule, "priority");
	const json_t *cookie = json_object_get(rule, "cookie");
	const json_t *match = json_object_get(rule, "match");
	const json_t *actions = json_object_get(rule, "actions");
	bool first = true;
	size_t size;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &size);
	int rc = 0;

	if (!f)
		return NULL;
	if (json_is_integer(prio)) {
		fprintf(f, "priority=%" JSON_INTEGER_FORMAT, json_integer_value(prio));
		first = false;
	}
	if (json_is_integer(cookie) && json_integer_value(cookie) != 0) {
		fprintf(f, "%scookie=0x%llx", first ? "" : ",",
			(unsigned long long)json_integer_value(cookie));
		first = false;
	}
	if (match)
		rc = format_match(f, match, &first);
	if (!rc && actions) {
		fprintf(f, "%sactions=", first ? "" : ",");
		rc = format_actions(f, actions);
	}
	return finish(f, &buf, rc);
}

char *
psw_flow_text_format_match(const json_t *match)
{
	bool first = true;
	size_t size;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	return finish(f, &buf, format_match(f, match, &first));
}

char *
psw_flow_text_format_actions(const json_t *actions)
{
	size_t size;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	return finish(f, &buf, format_actions(f, actions));
}
