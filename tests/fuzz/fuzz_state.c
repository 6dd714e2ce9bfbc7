/*
 * fuzz_state.c: the state file at restore (switch/control/state.c with the real sections
 * of control/state_sections.c: networks, ports, static outputs, static MACs, rules), on
 * files of any content. A corrupt file must be refused with a message and change
 * nothing; a file that restores, dumped again, must restore into an empty switch to the
 * same dump (a restored switch is built exactly like a live one, state.h).
 *
 * Safety: restoring "ports" calls port.add, which would probe any DPDK device named
 * (net_pcap writes files, net_tap makes interfaces) and back ends that create sockets and
 * directories. The target is linked with -Wl,--wrap=psw_rpc_port_add: only net_null
 * ports of type dpdk get through to the real handler. The state directory is a private
 * temp directory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "control/startup.h"
#include "control/state.h"
#include "control/state_sections.h"
#include "core/rcu.h"
#include "datapath/pmd.h"
#include "flow/flow_table.h"
#include "l2/l2.h"
#include "port/port.h"
#include "port/rpc_port.h"
#include "fuzz_common.h"

static char dir[256], file[300];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
json_t *__real_psw_rpc_port_add(json_t *params, struct psw_rpc_error *err);
json_t *__wrap_psw_rpc_port_add(json_t *params, struct psw_rpc_error *err);

json_t *
__wrap_psw_rpc_port_add(json_t *params, struct psw_rpc_error *err)
{
	json_t *type = json_object_get(params, "type");
	const char *devargs = json_string_value(json_object_get(params, "devargs"));

	if ((type != NULL && (!json_is_string(type) ||
			      strcmp(json_string_value(type), "dpdk") != 0)) ||
	    (devargs != NULL && strncmp(devargs, "net_null", 8) != 0))
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "fuzz: only net_null ports");
	return __real_psw_rpc_port_add(params, err);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned lcore = 0;
	char err[256];

	(void)argc;
	(void)argv;
	psw_fuzz_eal("state");
	if (psw_rcu_init(1) || psw_pmd_init(&lcore, 1, 0) || psw_port_init(1, 4095, 0) ||
	    psw_startup_tables(256, 300, 64, err, sizeof(err)) != 0 ||
	    psw_state_sections_register(NULL) != 0)
		abort();
	psw_fuzz_tmpdir(dir, sizeof(dir), "state");
	snprintf(file, sizeof(file), "%s/state.json", dir);
	return 0;
}

/* Back to an empty switch. */
static void
reset(void)
{
	struct psw_rpc_error err;
	char name[PSW_NAME_MAX];

	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		if (!psw_ports[i].used)
			continue;
		snprintf(name, sizeof(name), "%s", psw_ports[i].name);
		json_t *p = json_pack("{s:s}", "name", name), *r = psw_rpc_port_del(p, &err);

		json_decref(p);
		if (r == NULL)
			abort();
		json_decref(r);
	}
	psw_flow_table_clear();
	psw_l2_fdb_flush(0, PSW_PORT_NONE);
	for (uint16_t n; (n = psw_l2_network_next(0)) != 0;) {
		char e[128];

		snprintf(name, sizeof(name), "%s", psw_l2_network_name(n));
		if (psw_l2_network_del(name, e, sizeof(e)) != 0)
			abort();
	}
	psw_rcu_reclaim();
}

static void
write_file(const void *p, size_t n)
{
	FILE *f = fopen(file, "w");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		abort();
}

/* The configuration part of a dump (saved_at changes). */
static json_t *
config_now(void)
{
	json_t *d = psw_state_dump();

	json_object_del(d, "saved_at");
	return d;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	json_t *first, *second;
	char *text;

	if (psw_state_open(dir, err, sizeof(err)) != 0)
		abort();
	write_file(data, size);
	if (psw_state_restore(err, sizeof(err)) != 0) {
		/* Refused: with a message, and nothing was applied. */
		if (err[0] == '\0' || psw_port_count() != 0 || psw_flow_table_count() != 0 ||
		    psw_l2_network_next(0) != 0)
			abort();
		goto out;
	}
	/* What was restored, saved and restored again, is the same switch. */
	first = config_now();
	text = json_dumps(first, JSON_COMPACT);
	if (text == NULL)
		abort();
	reset();
	if (psw_state_open(dir, err, sizeof(err)) != 0)
		abort();
	write_file(text, strlen(text));
	free(text);
	if (psw_state_restore(err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_state: our own dump does not restore: %s\n", err);
		abort();
	}
	second = config_now();
	if (!json_equal(first, second)) {
		char *a = json_dumps(first, JSON_COMPACT), *b = json_dumps(second, JSON_COMPACT);

		fprintf(stderr, "fuzz_state: restored\n  %s\nrestores as\n  %s\n", a, b);
		abort();
	}
	json_decref(first);
	json_decref(second);
out:
	reset();
	unlink(file);
	return 0;
}
