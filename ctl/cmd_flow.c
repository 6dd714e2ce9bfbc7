/*
 * cmd_flow.c: podswitchctl's flow commands (add, del, list, clear) and trace, clients of
 * flow.* and trace (switch/rpc_flow.c, switch/trace.c). Runs in the podswitchctl
 * process. Rules are written in the ovs-ofctl-like text syntax (flow_text.c), checked
 * here first so that a typo is reported with its line, and sent as structured JSON; a
 * file goes as one bulk request (all or nothing) when it fits in one request line, for
 * flow add -f and for flow del --strict -f alike.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "flow_text.h"
#include "podswitchctl.h"

/* Under the server's line limit (PSW_LINE_MAX, 1 MiB) with room for the envelope. */
#define BULK_BYTES (900u * 1024)

static int
print_added(json_t *r, unsigned n)
{
	if (n == 1 && json_object_get(r, "id"))
		printf("added flow %" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(json_object_get(r, "id")));
	else
		printf("added %u flow(s)\n", n);
	return 0;
}

/* A line of `flow del --strict -f`: a match with its priority, or a whole rule (as in a
 * file given to `flow add -f`): {"match", "priority"?}; NULL and err if neither. */
static json_t *
parse_del_line(const char *p, char *err, size_t errlen)
{
	json_t *j = psw_flow_text_parse(p, PSW_FT_MATCH, err, errlen), *o;

	if (!j)
		j = psw_flow_text_parse(p, PSW_FT_RULE, err, errlen);
	if (!j)
		return NULL;
	o = json_pack("{sO}", "match", json_object_get(j, "match"));
	if (json_object_get(j, "priority"))
		json_object_set(o, "priority", json_object_get(j, "priority"));
	json_decref(j);
	return o;
}

/* Rules of a file: one per line, blank lines and # comments skipped; del: lines for
 * `flow del --strict -f` (parse_del_line). */
static int
read_rules(const char *path, json_t *texts, json_t *lines, bool del)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL, err[256];
	size_t cap = 0;
	ssize_t len;
	unsigned no = 0;
	int rc = 0;

	if (!f)
		return psw_ctl_error("%s: %s", path, strerror(errno));
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *p = line, *hash;
		json_t *j;

		no++;
		hash = strchr(p, '#');
		if (hash)
			*hash = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		len = strlen(p);
		while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == ' ' ||
				   p[len - 1] == '\t'))
			p[--len] = '\0';
		if (!*p)
			continue;
		j = del ? parse_del_line(p, err, sizeof(err))
			: psw_flow_text_parse(p, PSW_FT_RULE, err, sizeof(err));
		if (!j) {
			rc = psw_ctl_error("%s:%u: %s", path, no, err);
			break;
		}
		json_decref(j);
		json_array_append_new(texts, json_string(p));
		json_array_append_new(lines, json_integer(no));
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* Sends rules in as few requests as fit; reports a refused rule by its file line. */
static int
add_bulk(struct psw_client *c, const char *path, json_t *texts, json_t *lines, bool json)
{
	size_t n = json_array_size(texts), start = 0, total = 0, chunks = 0;

	while (start < n) {
		json_t *batch = json_array(), *r;
		struct psw_rpc_error err;
		size_t bytes = 0, i;
		unsigned idx;

		for (i = start; i < n && (bytes == 0 || bytes < BULK_BYTES); i++) {
			bytes += strlen(json_string_value(json_array_get(texts, i))) + 3;
			json_array_append(batch, json_array_get(texts, i));
		}
		r = psw_client_call(c, "flow.add", json_pack("{so}", "rules", batch), &err);
		if (!r) {
			if (sscanf(err.message, "rules[%u]", &idx) == 1 && start + idx < n) {
				const char *msg = strchr(err.message, ':');

				psw_ctl_error("%s:%" JSON_INTEGER_FORMAT ":%s", path,
					      json_integer_value(json_array_get(lines, start + idx)),
					      msg ? msg + 1 : err.message);
			} else {
				psw_ctl_rpc_error(&err);
			}
			if (total)
				psw_ctl_error("%zu flow(s) of %s were added before this", total, path);
			return 1;
		}
		chunks++;
		total += i - start;
		start = i;
		if (json && start >= n && chunks == 1) {
			psw_ctl_print_json(r);
			json_decref(r);
			return 0;
		}
		json_decref(r);
	}
	if (json) {
		json_t *o = json_pack("{sI sI}", "added", (json_int_t)total,
				      "requests", (json_int_t)chunks);

		psw_ctl_print_json(o);
		json_decref(o);
		return 0;
	}
	printf("added %zu flow(s)%s\n", total, chunks > 1 ? " (in several requests)" : "");
	return 0;
}

static int
flow_add(struct psw_client *c, int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{"file", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0}
	};
	const char *file = NULL;
	json_t *texts, *lines, *params, *r;
	char err[256];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, ":f:", opts, NULL)) != -1) {
		if (opt == 'f')
			file = optarg;
		else
			return psw_ctl_bad_option(opt, argv);
	}
	if (file) {
		if (optind < argc)
			return psw_ctl_usage("give either -f FILE or rules, not both");
		texts = json_array();
		lines = json_array();
		rc = read_rules(file, texts, lines, false);
		if (rc == 0 && json_array_size(texts) == 0)
			rc = psw_ctl_error("%s: no rules", file);
		if (rc == 0)
			rc = add_bulk(c, file, texts, lines, json);
		json_decref(texts);
		json_decref(lines);
		return rc;
	}
	if (optind >= argc)
		return psw_ctl_usage("flow add wants a RULE (e.g. \"priority=0,actions=normal\") or -f FILE");
	if (argc - optind == 1) {
		params = psw_flow_text_parse(argv[optind], PSW_FT_RULE, err, sizeof(err));
		if (!params)
			return psw_ctl_usage("%s", err);
	} else {
		json_t *rules = json_array();

		for (int i = optind; i < argc; i++) {
			json_t *j = psw_flow_text_parse(argv[i], PSW_FT_RULE, err, sizeof(err));

			if (!j) {
				json_decref(rules);
				return psw_ctl_usage("rule %d: %s", i - optind + 1, err);
			}
			json_array_append_new(rules, j);
		}
		params = json_pack("{so}", "rules", rules);
	}
	r = psw_ctl_call(c, "flow.add", params);
	if (!r)
		return 1;
	if (json)
		rc = psw_ctl_print_json(r);
	else
		rc = print_added(r, argc - optind);
	json_decref(r);
	return rc;
}

/* The reply of flow.del and flow.clear: {"deleted": N}. */
static int
print_deleted(json_t *r, bool json)
{
	if (!r)
		return 1;
	if (json)
		psw_ctl_print_json(r);
	else
		printf("deleted %" JSON_INTEGER_FORMAT " flow(s)\n",
		       json_integer_value(json_object_get(r, "deleted")));
	json_decref(r);
	return 0;
}

/* `flow del --strict -f FILE`: each line's rule deleted by its exact match and priority,
 * in as few requests as fit (each one change on the switch). */
static int
del_file(struct psw_client *c, const char *path, bool json)
{
	json_t *texts = json_array(), *lines = json_array();
	size_t n, start = 0, deleted = 0;
	char err[256];
	int rc = read_rules(path, texts, lines, true);

	n = json_array_size(texts);
	if (rc == 0 && n == 0)
		rc = psw_ctl_error("%s: no rules", path);
	while (rc == 0 && start < n) {
		json_t *batch = json_array(), *r;
		size_t bytes = 0, i;

		for (i = start; i < n && bytes < BULK_BYTES; i++) {
			const char *t = json_string_value(json_array_get(texts, i));

			bytes += strlen(t) + 48;    /* the object's keys around the match */
			json_array_append_new(batch, parse_del_line(t, err, sizeof(err)));
		}
		r = psw_ctl_call(c, "flow.del", json_pack("{so}", "rules", batch));
		if (!r) {
			if (deleted)
				psw_ctl_error("%zu flow(s) of %s were deleted before this", deleted,
					      path);
			rc = 1;
			break;
		}
		deleted += (size_t)json_integer_value(json_object_get(r, "deleted"));
		json_decref(r);
		start = i;
	}
	json_decref(texts);
	json_decref(lines);
	if (rc)
		return rc;
	if (json) {
		json_t *o = json_pack("{sI}", "deleted", (json_int_t)deleted);

		psw_ctl_print_json(o);
		json_decref(o);
	} else {
		printf("deleted %zu flow(s)\n", deleted);
	}
	return 0;
}

static int
flow_del(struct psw_client *c, int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{"strict", no_argument, NULL, 's'},
		{"cookie", required_argument, NULL, 'c'},
		{"file", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0}
	};
	bool strict = false, have_cookie = false;
	const char *file = NULL;
	uint64_t cookie = 0;
	json_t *params;
	char err[256];
	int opt;

	while ((opt = getopt_long(argc, argv, ":f:", opts, NULL)) != -1) {
		if (opt == 's') {
			strict = true;
		} else if (opt == 'f') {
			file = optarg;
		} else if (opt == 'c') {
			if (psw_ctl_parse_uint("--cookie", optarg, INT64_MAX, &cookie) < 0)
				return 2;
			have_cookie = true;
		} else {
			return psw_ctl_bad_option(opt, argv);
		}
	}
	if (file) {
		if (!strict || have_cookie || optind < argc)
			return psw_ctl_usage("-f FILE deletes each rule of FILE by its exact match and "
					     "priority: give --strict, and no match nor --cookie");
		return del_file(c, file, json);
	}
	if (have_cookie) {
		if (optind < argc || strict)
			return psw_ctl_usage("--cookie takes no match and no --strict");
		params = json_pack("{sI}", "cookie", (json_int_t)cookie);
	} else {
		if (argc - optind != 1)
			return psw_ctl_usage("flow del wants one MATCH (\"\" for all), or --cookie C");
		params = psw_flow_text_parse(argv[optind], PSW_FT_MATCH, err, sizeof(err));
		if (!params)
			return psw_ctl_usage("%s", err);
		if (json_object_get(params, "cookie")) {
			json_decref(params);
			return psw_ctl_usage("delete by cookie with --cookie C (alone)");
		}
		if (strict)
			json_object_set_new(params, "strict", json_true());
	}
	return print_deleted(psw_ctl_call(c, "flow.del", params), json);
}

static int
flow_clear(struct psw_client *c, int argc, char **argv, bool json)
{
	int rc;

	if ((rc = psw_ctl_no_args(argc, argv)) != 0)
		return rc;
	return print_deleted(psw_ctl_call(c, "flow.clear", NULL), json);
}

static int
flow_list(struct psw_client *c, int argc, char **argv, bool json)
{
	json_t *r, *f;
	size_t i;
	int rc;

	if ((rc = psw_ctl_no_args(argc, argv)) != 0)
		return rc;
	r = psw_ctl_call(c, "flow.list", NULL);
	if (!r)
		return 1;
	if (json) {
		psw_ctl_print_json(r);
		json_decref(r);
		return 0;
	}
	/* As ovs-ofctl dump-flows: counters, then the rule in the text syntax. */
	json_array_foreach(json_object_get(r, "flows"), i, f) {
		char *text = psw_flow_text_format(f);

		printf(" id=%" PRIu64 ", duration=%" PRIu64 "s, n_packets=%" PRIu64
		       ", n_bytes=%" PRIu64 ", idle_age=%" PRIu64 ", %s\n",
		       psw_ctl_u64(f, "id"), psw_ctl_u64(f, "duration_s"), psw_ctl_u64(f, "packets"),
		       psw_ctl_u64(f, "bytes"), psw_ctl_u64(f, "idle_age_s"),
		       text ? text : "(cannot print this rule)");
		free(text);
	}
	json_decref(r);
	return 0;
}

static const char *
hit_share(json_t *p, char *buf, size_t len)
{
	json_t *cache = json_object_get(p, "cache");
	uint64_t h = psw_ctl_u64(cache, "hits"), m = psw_ctl_u64(cache, "misses");

	snprintf(buf, len, "%.1f", h + m ? 100.0 * h / (h + m) : 0.0);
	return buf;
}

static int
flow_stats(struct psw_client *c, int argc, char **argv, bool json)
{
	static const struct psw_ctl_col cols[] = {
		{"PMD", "index", NULL}, {"CACHE", "cache.entries", NULL},
		{"HITS", "cache.hits", NULL}, {"MISSES", "cache.misses", NULL},
		{"HIT%", NULL, hit_share}, {"INSERTS", "cache.inserts", NULL},
		{"EVICTIONS", "cache.evictions", NULL}, {"L2_CACHED", "l2_cached", NULL},
		{"FLOODS", "floods", NULL}, {"COPIES", "copies", NULL},
	};
	json_t *r;
	int rc;

	if ((rc = psw_ctl_no_args(argc, argv)) != 0)
		return rc;
	if ((r = psw_ctl_call(c, "flow.stats", NULL)) == NULL)
		return 1;
	if (json) {
		psw_ctl_print_json(r);
		json_decref(r);
		return 0;
	}
	printf("rules %" PRIu64 " (%" PRIu64 " shadowed), subtables %" PRIu64
	       ", classifier %" PRIu64 " bytes, fdb entries %" PRIu64 ", learn events lost %"
	       PRIu64 "\n", psw_ctl_u64(r, "rules"), psw_ctl_u64(r, "shadowed"),
	       psw_ctl_u64(r, "subtables"), psw_ctl_u64(r, "classifier_bytes"),
	       psw_ctl_u64(r, "fdb_entries"), psw_ctl_u64(r, "learn_lost"));
	psw_ctl_print_list(r, "pmds", cols, 10);
	json_decref(r);
	return 0;
}

static int
trace(struct psw_client *c, int argc, char **argv, bool json)
{
	json_t *pkt, *r, *v;
	char err[256], *text;
	size_t i;
	int rc;

	if ((rc = psw_ctl_no_options(argc, argv)) != 0)
		return rc;
	if (argc - optind != 1)
		return psw_ctl_usage("trace wants one PACKET (e.g. in_port=pod1,dl_dst=...,ip,nw_dst=...)");
	pkt = psw_flow_text_parse(argv[optind], PSW_FT_PACKET, err, sizeof(err));
	if (!pkt)
		return psw_ctl_usage("%s", err);
	r = psw_ctl_call(c, "trace", json_pack("{so}", "packet", pkt));
	if (!r)
		return 1;
	if (json) {
		psw_ctl_print_json(r);
		json_decref(r);
		return 0;
	}
	v = json_object_get(r, "rule");
	if (json_is_object(v)) {
		text = psw_flow_text_format(v);
		printf("Rule: id=%" PRIu64 " %s\n", psw_ctl_u64(v, "id"), text ? text : "?");
		free(text);
	} else {
		printf("Rule: none\n");
	}
	json_array_foreach(json_object_get(r, "steps"), i, v)
		printf("  %s\n", json_string_value(v));
	v = json_object_get(r, "l2");
	if (json_is_object(v)) {
		char b[3][256];

		printf("L2: network %s, source %s, destination %s, decision %s\n",
		       psw_ctl_str(json_object_get(v, "network"), b[0], sizeof(b[0])),
		       psw_ctl_str(json_object_get(v, "source"), b[1], sizeof(b[1])),
		       psw_ctl_str(json_object_get(v, "destination"), b[2], sizeof(b[2])),
		       json_string_value(json_object_get(v, "decision")));
	}
	json_array_foreach(json_object_get(r, "outputs"), i, v) {
		json_t *vlan = json_object_get(v, "dl_vlan");

		printf("Output: %s dl_src=%s dl_dst=%s", json_string_value(json_object_get(v, "port")),
		       json_string_value(json_object_get(v, "dl_src")),
		       json_string_value(json_object_get(v, "dl_dst")));
		if (vlan)
			printf(" dl_vlan=%" JSON_INTEGER_FORMAT, json_integer_value(vlan));
		printf(" (%s)\n", json_string_value(json_object_get(v, "via")));
		json_t *o = json_object_get(v, "outer");
		if (json_is_object(o) && json_object_get(o, "vni"))
			printf("  outer: %s > %s, ip %s > %s, udp dst %" JSON_INTEGER_FORMAT
			       ", vxlan vni %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
			       " bytes%s%s\n",
			       json_string_value(json_object_get(o, "eth_src")) ?: "?",
			       json_string_value(json_object_get(o, "eth_dst")) ?: "(unresolved)",
			       json_string_value(json_object_get(o, "ip_src")) ?: "?",
			       json_string_value(json_object_get(o, "ip_dst")),
			       json_integer_value(json_object_get(o, "udp_dst")),
			       json_integer_value(json_object_get(o, "vni")),
			       json_integer_value(json_object_get(o, "bytes")),
			       json_object_get(o, "note") ? "; " : "",
			       json_string_value(json_object_get(o, "note")) ?: "");
		else if (json_is_object(o))
			printf("  outer: vlan %" JSON_INTEGER_FORMAT "\n",
			       json_integer_value(json_object_get(o, "vid")));
	}
	v = json_object_get(r, "drop");
	if (v)
		printf("Final: drop (%s)\n", json_string_value(v));
	else
		printf("Final: %zu output(s)\n", json_array_size(json_object_get(r, "outputs")));
	json_decref(r);
	return 0;
}

const struct psw_cmd psw_cmds_flow[] = {
	{"flow", "add", "RULE... | -f FILE",
	 "Add rules (\"priority=100,in_port=pod1,ip,nw_dst=10.1.0.0/16,actions=output:uplink\"); "
	 "-f: one per line, # comments, all or none.", flow_add},
	{"flow", "del", "MATCH [--strict] | --cookie C | --strict -f FILE",
	 "Delete rules at least as specific as MATCH (--strict: exactly MATCH and its priority), "
	 "or by cookie; -f: each rule (or match) of FILE, one per line, as one change.",
	 flow_del},
	{"flow", "list", "", "List rules with their counters, in the text syntax.", flow_list},
	{"flow", "clear", "", "Delete every rule.", flow_clear},
	{"flow", "stats", "", "Rule count, classifier size, per-PMD exact-match cache hits and "
	 "misses, cached L2 decisions, floods.", flow_stats},
	{"trace", NULL, "PACKET",
	 "Show what the switch would do with a packet (in_port=pod1,dl_dst=...,ip,nw_dst=...).",
	 trace},
	{NULL}
};
