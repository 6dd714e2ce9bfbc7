/*
 * podswitchctl.h: the command table of the podswitchctl CLI and the helpers every
 * command file (ctl/cmd_<noun>.c) shares. Each noun lives in its own file and exports one
 * table; podswitchctl.c lists the tables (adding a noun is a one-line change there).
 *
 * A command receives a connected client and its own arguments: argv[0] is the command
 * name ("port add"), argv[1..argc-1] what followed it on the command line, with the
 * global options (--socket, --json, --timeout) already removed. getopt_long() works as
 * usual (optind is reset before each command). A command returns the exit status:
 * 0 ok, 1 the switch refused or failed (message already printed), 2 usage error.
 */
#ifndef PSW_PODSWITCHCTL_H
#define PSW_PODSWITCHCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "client.h"

struct psw_cmd {
	const char *noun;  /* "port"; a table ends with {NULL} */
	const char *verb;  /* "add"; NULL for a command that is just the noun ("info") */
	const char *usage; /* arguments after "noun verb": "NAME --devargs ARGS [--output PORT]" */
	const char *help;  /* one line */
	int (*run)(struct psw_client *c, int argc, char **argv, bool json);
};

extern const struct psw_cmd psw_cmds_port[];
extern const struct psw_cmd psw_cmds_stats[];
extern const struct psw_cmd psw_cmds_flow[];
extern const struct psw_cmd psw_cmds_network[];
extern const struct psw_cmd psw_cmds_state[];
extern const struct psw_cmd psw_cmds_uplink[];
extern const struct psw_cmd psw_cmds_pmd_perf[];
extern const struct psw_cmd psw_cmds_capture[];

/* The command being run (for usage messages). */
extern const struct psw_cmd *psw_ctl_current;

/* Calls method; on error prints "podswitchctl: <server message>" to stderr and returns
 * NULL. params is stolen. */
json_t *psw_ctl_call(struct psw_client *c, const char *method, json_t *params);
/* Prints "podswitchctl: <message>" to stderr; returns 1 (use as an exit status). */
int psw_ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int psw_ctl_rpc_error(const struct psw_rpc_error *err);
/* Prints "podswitchctl: <message>" and the current command's usage; returns 2. */
int psw_ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For getopt_long's '?' and ':' (start optstring with ':'): prints which option is
 * unknown or lacks its value, with the usage; returns 2. */
int psw_ctl_bad_option(int opt, char **argv);
/* For commands that take no options: 0, or 2 after naming the bad option. Leaves optind
 * at the first argument. */
int psw_ctl_no_options(int argc, char **argv);
/* ... and no arguments either. */
int psw_ctl_no_args(int argc, char **argv);
/* Pretty JSON on stdout (for --json), followed by a newline; returns 0. */
int psw_ctl_print_json(json_t *j);

/* Parsing helpers for arguments: 0, or -1 after printing a usage error naming opt. */
int psw_ctl_parse_uint(const char *opt, const char *s, uint64_t max, uint64_t *out);
/* "key=value" into obj (string value). */
int psw_ctl_parse_kv(const char *opt, const char *s, json_t *obj);

/* JSON value as text for a table cell: strings as is, numbers, true/false, "-" for
 * null or absent, arrays as "a,b", objects as compact JSON. Returns buf. */
const char *psw_ctl_str(json_t *v, char *buf, size_t len);
uint64_t psw_ctl_u64(json_t *obj, const char *key); /* 0 when absent */

/* A table printed with aligned columns; columns whose cells are all numbers are
 * right-aligned. Cells are copied. */
struct psw_table;
struct psw_table *psw_table_new(unsigned ncols, const char *const *headers);
/* Adds a row of ncols cells (NULL cell = "-"). */
void psw_table_row(struct psw_table *t, const char *const *cells);
/* Adds a row from ncols printf-free strings given as arguments. */
void psw_table_rowv(struct psw_table *t, ...);
void psw_table_print(struct psw_table *t, FILE *f);
void psw_table_free(struct psw_table *t);

/* One column of a list: its header, the member of each element it shows (a path
 * "cache.hits" reaches into an object), or a formatter (given the element; NULL key). */
struct psw_ctl_col {
	const char *header;
	const char *key;
	const char *(*fmt)(json_t *elem, char *buf, size_t len);
};

/* Calls method (params stolen); with --json prints the answer, else a table of one row
 * per element of the answer's array member `list`. Returns the exit status. */
int psw_ctl_list(struct psw_client *c, const char *method, json_t *params, bool json,
		 const char *list, const struct psw_ctl_col *cols, unsigned ncols);
/* The table part of psw_ctl_list, for an answer already at hand. */
void psw_ctl_print_list(json_t *r, const char *list, const struct psw_ctl_col *cols,
			unsigned ncols);
/* Calls method; with --json prints the answer, else ok (when not NULL) on a line. */
int psw_ctl_simple(struct psw_client *c, const char *method, json_t *params, bool json,
		   const char *ok);
/* The member at a dotted path ("cache.hits"), or NULL. */
json_t *psw_ctl_get(json_t *obj, const char *path);

/* "key: value" lines with the keys aligned (for "show" commands); key without ':'. */
void psw_ctl_kv_print(FILE *f, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
