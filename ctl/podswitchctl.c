/*
 * podswitchctl.c: the command-line client of podswitchd (a separate process; never in the
 * switch). It strips the global options, finds the command in the noun tables that the
 * ctl/cmd_<noun>.c files export, connects to the control socket and runs it. Also the
 * helpers those files share: error reporting, JSON output, aligned tables.
 *
 * Control path: podswitchctl.c -> protocol.c -> (socket) -> control.c -> rpc_<noun>.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "podswitchctl.h"

#ifndef PODSWITCH_VERSION
#define PODSWITCH_VERSION "unknown"
#endif

/* Every noun's table. Adding a noun: one line here, one file ctl/cmd_<noun>.c, one entry
 * in ctl/meson.build. */
static const struct psw_cmd *const tables[] = {
	psw_cmds_port,
	psw_cmds_stats,
	psw_cmds_state,
	psw_cmds_flow, psw_cmds_network,
	psw_cmds_uplink,
	psw_cmds_pmd_perf,
	psw_cmds_capture,
	NULL
};

const struct psw_cmd *psw_ctl_current;

/* ---- helpers for the command files ------------------------------------------------ */

int psw_ctl_error(const char *fmt, ...)
{
	va_list ap;

	fputs("podswitchctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int psw_ctl_rpc_error(const struct psw_rpc_error *err)
{
	return psw_ctl_error("%s", err->message[0] ? err->message : "request failed");
}

static void print_cmd_usage(FILE *f, const struct psw_cmd *cmd)
{
	fprintf(f, "usage: podswitchctl %s%s%s%s%s\n", cmd->noun, cmd->verb ? " " : "",
		cmd->verb ? cmd->verb : "", cmd->usage && *cmd->usage ? " " : "",
		cmd->usage ? cmd->usage : "");
}

int psw_ctl_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("podswitchctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (psw_ctl_current)
		print_cmd_usage(stderr, psw_ctl_current);
	return 2;
}

int psw_ctl_bad_option(int opt, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (opt == ':')
		return psw_ctl_usage("option '%s' wants a value", arg);
	if (optopt)
		return psw_ctl_usage("unknown option '-%c'", optopt);
	return psw_ctl_usage("unknown option '%s'", arg);
}

int psw_ctl_no_options(int argc, char **argv)
{
	int opt;

	while ((opt = getopt_long(argc, argv, ":", (const struct option[]){{0}}, NULL)) != -1)
		return psw_ctl_bad_option(opt, argv);
	return 0;
}

int psw_ctl_no_args(int argc, char **argv)
{
	int rc = psw_ctl_no_options(argc, argv);

	if (rc == 0 && optind < argc)
		rc = psw_ctl_usage("unexpected argument '%s'", argv[optind]);
	return rc;
}

json_t *psw_ctl_call(struct psw_client *c, const char *method, json_t *params)
{
	struct psw_rpc_error err;
	json_t *r = psw_client_call(c, method, params, &err);

	if (!r)
		psw_ctl_rpc_error(&err);
	return r;
}

int psw_ctl_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);

	if (!s)
		return psw_ctl_error("out of memory");
	puts(s);
	free(s);
	return 0;
}

int psw_ctl_parse_uint(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (!*s || *end || errno || s[0] == '-' || v > max) {
		psw_ctl_usage("%s wants an integer from 0 to %" PRIu64 ", not '%s'", opt, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

int psw_ctl_parse_kv(const char *opt, const char *s, json_t *obj)
{
	const char *eq = strchr(s, '=');

	if (!eq || eq == s) {
		psw_ctl_usage("%s wants key=value, not '%s'", opt, s);
		return -1;
	}
	char *key = strndup(s, (size_t)(eq - s));
	if (!key)
		return -1;
	json_object_set_new(obj, key, json_string(eq + 1));
	free(key);
	return 0;
}

const char *psw_ctl_str(json_t *v, char *buf, size_t len)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		snprintf(buf, len, "%s", json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, len, "%.1f", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, len, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, len, "false");
		break;
	case JSON_NULL:
		snprintf(buf, len, "-");
		break;
	case JSON_ARRAY: { /* [1,2] as "1,2"; "-" when empty */
		size_t off = 0, i;
		json_t *e;
		buf[0] = '\0';
		json_array_foreach(v, i, e) {
			char one[256];
			if (off >= len)
				break;
			off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
						psw_ctl_str(e, one, sizeof(one)));
		}
		if (!buf[0])
			snprintf(buf, len, "-");
		break;
	}
	default: {
		char *s = json_dumps(v, JSON_COMPACT);
		snprintf(buf, len, "%s", s ? s : "?");
		free(s);
	}
	}
	return buf;
}

json_t *psw_ctl_get(json_t *obj, const char *path)
{
	const char *dot;
	char part[64];

	while (obj != NULL && (dot = strchr(path, '.')) != NULL) {
		snprintf(part, sizeof(part), "%.*s", (int)(dot - path), path);
		obj = json_object_get(obj, part);
		path = dot + 1;
	}
	return obj != NULL ? json_object_get(obj, path) : NULL;
}

int psw_ctl_simple(struct psw_client *c, const char *method, json_t *params, bool json,
		   const char *ok)
{
	json_t *r = psw_ctl_call(c, method, params);

	if (!r)
		return 1;
	if (json)
		psw_ctl_print_json(r);
	else if (ok)
		printf("%s\n", ok);
	json_decref(r);
	return 0;
}

void psw_ctl_print_list(json_t *r, const char *list, const struct psw_ctl_col *cols,
			unsigned ncols)
{
	const char *hdr[ncols], *cells[ncols];
	char (*b)[1024] = calloc(ncols, sizeof(*b));
	struct psw_table *t;
	json_t *e;
	size_t i;

	if (b == NULL) {
		psw_ctl_error("out of memory");
		return;
	}
	for (unsigned k = 0; k < ncols; k++)
		hdr[k] = cols[k].header;
	t = psw_table_new(ncols, hdr);
	json_array_foreach(psw_ctl_get(r, list), i, e) {
		for (unsigned k = 0; k < ncols; k++)
			cells[k] = cols[k].fmt ? cols[k].fmt(e, b[k], sizeof(b[k]))
					       : psw_ctl_str(psw_ctl_get(e, cols[k].key), b[k], sizeof(b[k]));
		psw_table_row(t, cells);
	}
	psw_table_print(t, stdout);
	psw_table_free(t);
	free(b);
}

int psw_ctl_list(struct psw_client *c, const char *method, json_t *params, bool json,
		 const char *list, const struct psw_ctl_col *cols, unsigned ncols)
{
	json_t *r = psw_ctl_call(c, method, params);

	if (!r)
		return 1;
	if (json)
		psw_ctl_print_json(r);
	else
		psw_ctl_print_list(r, list, cols, ncols);
	json_decref(r);
	return 0;
}

uint64_t psw_ctl_u64(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return (uint64_t)json_integer_value(v);
	if (json_is_real(v) && json_real_value(v) >= 0)
		return (uint64_t)json_real_value(v);
	return 0;
}

void psw_ctl_kv_print(FILE *f, const char *key, const char *fmt, ...)
{
	va_list ap;
	char k[128];

	snprintf(k, sizeof(k), "%s:", key);
	fprintf(f, "%-22s ", k);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

struct psw_table {
	unsigned ncols;
	size_t nrows, cap;
	char **cells; /* (nrows + 1) * ncols, row 0 the headers */
};

static void table_add(struct psw_table *t, const char *const *cells)
{
	if (t->nrows + 1 >= t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **nc = realloc(t->cells, cap * t->ncols * sizeof(*nc));
		if (!nc) {
			fprintf(stderr, "podswitchctl: out of memory\n");
			exit(1);
		}
		t->cells = nc;
		t->cap = cap;
	}
	for (unsigned i = 0; i < t->ncols; i++) {
		char *s = strdup(cells[i] ? cells[i] : "-");
		if (!s) {
			fprintf(stderr, "podswitchctl: out of memory\n");
			exit(1);
		}
		t->cells[t->nrows * t->ncols + i] = s;
	}
	t->nrows++;
}

struct psw_table *psw_table_new(unsigned ncols, const char *const *headers)
{
	struct psw_table *t = calloc(1, sizeof(*t));

	if (!t) {
		fprintf(stderr, "podswitchctl: out of memory\n");
		exit(1);
	}
	t->ncols = ncols;
	table_add(t, headers);
	return t;
}

void psw_table_row(struct psw_table *t, const char *const *cells)
{
	table_add(t, cells);
}

void psw_table_rowv(struct psw_table *t, ...)
{
	const char *cells[32];
	va_list ap;

	va_start(ap, t);
	for (unsigned i = 0; i < t->ncols && i < 32; i++)
		cells[i] = va_arg(ap, const char *);
	va_end(ap);
	table_add(t, cells);
}

static bool is_number(const char *s)
{
	if (*s == '-' && s[1] == '\0')
		return true; /* "-" stands for no value */
	if (!*s)
		return false;
	for (; *s; s++)
		if ((*s < '0' || *s > '9') && *s != '.' && *s != '%')
			return false;
	return true;
}

void psw_table_print(struct psw_table *t, FILE *f)
{
	size_t width[32] = {0};
	bool right[32];
	unsigned nc = t->ncols < 32 ? t->ncols : 32;

	/* Right-align a column of numbers ("-" for none allowed), but not one of "-" only. */
	for (unsigned i = 0; i < nc; i++) {
		bool numbers = true, any = false;
		for (size_t r = 0; r < t->nrows; r++) {
			const char *s = t->cells[r * t->ncols + i];
			size_t l = strlen(s);
			if (l > width[i])
				width[i] = l;
			if (r > 0 && !is_number(s))
				numbers = false;
			if (r > 0 && strcmp(s, "-") != 0)
				any = true;
		}
		right[i] = numbers && any;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		for (unsigned i = 0; i < nc; i++) {
			const char *s = t->cells[r * t->ncols + i];
			bool last = i + 1 == nc;
			if (right[i])
				fprintf(f, "%*s", (int)width[i], s);
			else if (last)
				fputs(s, f);
			else
				fprintf(f, "%-*s", (int)width[i], s);
			if (!last)
				fputs("  ", f);
		}
		fputc('\n', f);
	}
}

void psw_table_free(struct psw_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* ---- main ------------------------------------------------------------------------- */

static void print_help(FILE *f)
{
	fprintf(f,
		"usage: podswitchctl [--socket PATH] [--json] [--timeout SEC] COMMAND [ARGS]\n"
		"\n"
		"Drives podswitchd through its control socket (JSON-RPC 2.0).\n"
		"\n"
		"Commands:\n");
	for (const struct psw_cmd *const *t = tables; *t; t++) {
		for (const struct psw_cmd *cmd = *t; cmd->noun; cmd++) {
			fprintf(f, "  %s%s%s%s%s\n", cmd->noun, cmd->verb ? " " : "",
				cmd->verb ? cmd->verb : "", cmd->usage && *cmd->usage ? " " : "",
				cmd->usage ? cmd->usage : "");
			fprintf(f, "      %s\n", cmd->help);
		}
	}
	fprintf(f,
		"\n"
		"Options (anywhere on the line):\n"
		"  --socket PATH   control socket (default $" PSW_SOCKET_ENV ", else "
		PSW_DEFAULT_SOCKET ")\n"
		"  --json          print the switch's JSON reply instead of a table\n"
		"  --timeout SEC   give up waiting for the switch after SEC seconds (default 30)\n"
		"  --help          this help; after a command, that command's usage\n"
		"  --version       print the version\n"
		"\n"
		"Exit status: 0 on success, 1 when the switch refuses or cannot be reached (its\n"
		"message on stderr), 2 on a usage error. See podswitchctl(1).\n");
}

/* The command named by argv (noun [verb]); *used is how many words it took. */
static const struct psw_cmd *find_cmd(int argc, char **argv, int *used)
{
	const struct psw_cmd *noun_only = NULL;
	bool noun_known = false;

	for (const struct psw_cmd *const *t = tables; *t; t++) {
		for (const struct psw_cmd *cmd = *t; cmd->noun; cmd++) {
			if (strcmp(cmd->noun, argv[0]) != 0)
				continue;
			noun_known = true;
			if (!cmd->verb)
				noun_only = cmd;
			else if (argc > 1 && strcmp(cmd->verb, argv[1]) == 0) {
				*used = 2;
				return cmd;
			}
		}
	}
	if (noun_only) {
		*used = 1;
		return noun_only;
	}
	if (!noun_known) {
		psw_ctl_usage("unknown command '%s' (see podswitchctl --help)", argv[0]);
		return NULL;
	}
	char verbs[512] = "";
	size_t off = 0;
	for (const struct psw_cmd *const *t = tables; *t; t++)
		for (const struct psw_cmd *cmd = *t; cmd->noun; cmd++)
			if (strcmp(cmd->noun, argv[0]) == 0 && off < sizeof(verbs))
				off += (size_t)snprintf(verbs + off, sizeof(verbs) - off, "%s%s",
							off ? ", " : "", cmd->verb);
	if (argc > 1)
		psw_ctl_usage("unknown command '%s %s'; '%s' takes: %s", argv[0], argv[1],
			      argv[0], verbs);
	else
		psw_ctl_usage("'%s' needs one of: %s", argv[0], verbs);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *socket_path = NULL;
	bool json = false, help = false;
	uint64_t timeout_s = 30;
	/* On the stack: every early return below would otherwise have to free it. */
	char *argbase[argc + 1];
	char **args = argbase;
	int nargs = 0;

	memset(argbase, 0, sizeof(argbase));
	/* Global options may appear anywhere; "--" ends them. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			while (i < argc)
				args[nargs++] = argv[i++];
			break;
		}
		if (strcmp(a, "--json") == 0 || strcmp(a, "-j") == 0) {
			json = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			help = true;
		} else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			printf("podswitchctl %s\n", PODSWITCH_VERSION);
			return 0;
		} else if (strcmp(a, "--socket") == 0) {
			if (++i >= argc)
				return psw_ctl_usage("--socket wants a path");
			socket_path = argv[i];
		} else if (strncmp(a, "--socket=", 9) == 0) {
			socket_path = a + 9;
		} else if (strcmp(a, "--timeout") == 0 || strncmp(a, "--timeout=", 10) == 0) {
			const char *v = a[9] == '=' ? a + 10 : (++i < argc ? argv[i] : NULL);
			if (!v)
				return psw_ctl_usage("--timeout wants a number of seconds");
			if (psw_ctl_parse_uint("--timeout", v, 86400, &timeout_s) < 0)
				return 2;
			if (timeout_s == 0)
				return psw_ctl_usage("--timeout must be at least 1 second");
		} else {
			args[nargs++] = argv[i];
		}
	}

	if (nargs == 0 || strcmp(args[0], "help") == 0) {
		print_help(help || nargs ? stdout : stderr);
		return help || nargs ? 0 : 2;
	}
	int used = 0;
	const struct psw_cmd *cmd = find_cmd(nargs, args, &used);
	if (!cmd)
		return 2;
	psw_ctl_current = cmd;
	if (help) {
		print_cmd_usage(stdout, cmd);
		printf("%s\n", cmd->help);
		return 0;
	}

	char errbuf[512];
	struct psw_client *c = psw_client_connect(socket_path, (int)timeout_s * 1000, errbuf,
						  sizeof(errbuf));
	if (!c)
		return psw_ctl_error("%s", errbuf);

	/* The command sees argv[0] = its name, then its own arguments. */
	char name[128];
	snprintf(name, sizeof(name), "%s%s%s", cmd->noun, cmd->verb ? " " : "",
		 cmd->verb ? cmd->verb : "");
	args += used - 1;
	args[0] = name;
	optind = 0; /* glibc: full re-initialisation of getopt */
	opterr = 0; /* commands report bad options through psw_ctl_usage */
	int rc = cmd->run(c, nargs - used + 1, args, json);
	psw_client_close(c);
	fflush(stdout);
	return rc;
}
