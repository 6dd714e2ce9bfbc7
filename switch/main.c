/*
 * main.c: podswitchd. Reads the config, refuses to start beside a running instance,
 * initialises EAL, restores saved state and the config's ports, launches the PMD lcores
 * and then runs the control thread (this, the main lcore) until SIGTERM or SIGINT:
 * JSON-RPC, RCU reclamation, link state, batched state saves. Stop is orderly: pending
 * changes saved, PMDs stopped, ports closed, sockets removed, exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_version.h>

#include "backends/backends.h"
#include "config.h"
#include "control/capture.h"
#include "control/control.h"
#include "control/metrics.h"
#include "control/metrics_http.h"
#include "control/rpc_pmd_perf.h"
#include "control/rpc_switch.h"
#include "control/state.h"
#include "control/startup.h"
#include "control/state_sections.h"
#include "control/telemetry.h"
#include "core/change.h"
#include "core/clock.h"
#include "core/rcu.h"
#include "datapath/pipeline.h"
#include "datapath/pmd.h"
#include "flow/flow_table.h"
#include "flow/rpc_flow.h"
#include "l2/bind.h"
#include "l2/l2.h"
#include "l2/rpc_network.h"
#include "neigh/neigh.h"
#include "neigh/neigh_dp.h"
#include "neigh/rpc_neigh.h"
#include "port/backend.h"
#include "port/port.h"
#include "port/rpc_port.h"
#include "tunnel/rpc_tunnel.h"

#define DEFAULT_CONFIG SYSCONFDIR "/podswitch/podswitchd.json"
#define LINK_POLL_S 0.2
#define PSW_RUN_DIR "/run/podswitch"

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: podswitchd [--config FILE ...] [--socket PATH] [--file-prefix PREFIX]\n"
		"                  [--state-dir DIR] [--check-config] [--help] [--version]\n"
		"\n"
		"  --config FILE        JSON config (default %s; built-in defaults if absent);\n"
		"                       again: merged over the ones before (a node's own file)\n"
		"  --socket PATH        control socket (overrides control_socket)\n"
		"  --file-prefix PREFIX DPDK file prefix (overrides eal.file_prefix)\n"
		"  --state-dir DIR      saved state directory (overrides state_dir)\n"
		"  --check-config       parse the config, report errors, exit\n",
		DEFAULT_CONFIG);
}

/* A live server answers on the socket: refuse rather than steal it. */
static int
socket_in_use(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 0;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

/* One instance per control socket and per DPDK file prefix. EAL's own lock does not
 * exist with --in-memory, so podswitchd holds flock()ed lock files of its own for its
 * lifetime (released by the kernel even on SIGKILL). Returns the fd, or -1 with the
 * holder's pid in *holder (0 if the lock could not be made at all). */
static int
take_lock(const char *path, pid_t *holder)
{
	char buf[32];
	ssize_t n;
	int fd;

	*holder = 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		*holder = (pid_t)atoi(buf);
		if (*holder == 0)
			*holder = -1;
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		close(fd);
		return -1;
	}
	return fd;
}

static char prefix_lock[PSW_PATH_MAX + 64];

/* The control socket has its own lock (control.c); this one guards the file prefix. */
static int
take_prefix_lock(void)
{
	pid_t holder;
	int fd;

	mkdir(PSW_RUN_DIR, 0755);
	snprintf(prefix_lock, sizeof(prefix_lock), PSW_RUN_DIR "/prefix-%s.lock",
		 psw_conf.file_prefix);
	fd = take_lock(prefix_lock, &holder);
	if (fd >= 0)
		return fd;
	if (holder != 0)
		fprintf(stderr, "podswitchd: DPDK file prefix \"%s\" is in use by process %d; "
			"refusing to start (use --file-prefix)\n", psw_conf.file_prefix, (int)holder);
	else
		fprintf(stderr, "podswitchd: cannot create %s: %s\n", prefix_lock, strerror(errno));
	return -1;
}

static void
release_prefix_lock(int fd)
{
	unlink(prefix_lock);
	close(fd);
}

/* mkdir -p of the directory that will hold path. */
static int
mkdir_parent(const char *path)
{
	char dir[PSW_PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

static int
eal_init(const char *argv0)
{
	char *args[PSW_EAL_ARGS_MAX + 16];
	char mem[16], main_lcore[16];
	int n = 0;

	snprintf(mem, sizeof(mem), "%u", psw_conf.memory_mb);
	snprintf(main_lcore, sizeof(main_lcore), "%d", psw_conf.main_lcore);
	args[n++] = (char *)argv0;
	/* --lcores, not -l: the same for a plain list, and it also maps lcores onto CPUs
	 * ("0,1@1,2@1": two PMDs sharing CPU 1 on a small machine). */
	args[n++] = "--lcores";
	args[n++] = psw_conf.lcores;
	args[n++] = "--main-lcore";
	args[n++] = main_lcore;
	args[n++] = "-m";
	args[n++] = mem;
	args[n++] = "--file-prefix";
	args[n++] = psw_conf.file_prefix;
	args[n++] = "--proc-type=primary";
	for (unsigned i = 0; i < psw_conf.n_eal_args; i++)
		args[n++] = psw_conf.eal_args[i];
	args[n] = NULL;
	return rte_eal_init(n, args);
}

static int
check_lcores(void)
{
	for (unsigned i = 0; i < psw_conf.n_pmd_cpus; i++) {
		unsigned l = psw_conf.pmd_cpus[i];

		if (l >= RTE_MAX_LCORE || !rte_lcore_is_enabled(l) || l == rte_get_main_lcore()) {
			fprintf(stderr, "podswitchd: pmd_cpus: lcore %u is not a worker lcore of "
				"eal.lcores \"%s\"\n", l, psw_conf.lcores);
			return -1;
		}
	}
	return 0;
}

static void
set_log_level(void)
{
	uint32_t level = RTE_LOG_INFO;

	if (strcmp(psw_conf.log_level, "error") == 0)
		level = RTE_LOG_ERR;
	else if (strcmp(psw_conf.log_level, "warning") == 0)
		level = RTE_LOG_WARNING;
	else if (strcmp(psw_conf.log_level, "debug") == 0)
		level = RTE_LOG_DEBUG;
	rte_log_set_global_level(level);
}

/* The config's "networks" (network.add params, or just names), before the ports that
 * join them. Networks already restored from the state file are kept as they are. */
static int
apply_config_networks(void)
{
	struct psw_rpc_error e;
	size_t i;
	json_t *n;

	json_array_foreach(psw_conf.networks, i, n) {
		json_t *name = json_is_string(n) ? n : json_object_get(n, "name");
		json_t *p, *r;

		if (json_is_string(name) && psw_l2_network_id(json_string_value(name)))
			continue;
		p = json_is_string(n) ? json_pack("{sO}", "name", n) : json_incref(n);
		r = psw_rpc_network_add(p, &e);
		json_decref(p);
		if (r == NULL) {
			fprintf(stderr, "podswitchd: config networks[%zu]: %s\n", i, e.message);
			return -1;
		}
		json_decref(r);
	}
	return 0;
}

/* The config's ports, in two passes: first every port (minus its output), then the
 * outputs, since a port may name one defined after it. Ports already restored from the
 * state file are kept as they are. */
static int
apply_config_ports(void)
{
	struct psw_rpc_error err;
	size_t i;
	json_t *p;

	json_array_foreach(psw_conf.ports, i, p) {
		json_t *params, *res, *name = json_object_get(p, "name");

		if (json_is_string(name) && psw_rpc_port_exists(json_string_value(name)))
			continue;
		params = json_deep_copy(p);
		if (json_is_object(params))
			json_object_del(params, "output");
		res = psw_rpc_port_add(params, &err);
		json_decref(params);
		if (res == NULL) {
			fprintf(stderr, "podswitchd: config ports[%zu]: %s\n", i, err.message);
			return -1;
		}
		json_decref(res);
	}
	json_array_foreach(psw_conf.ports, i, p) {
		json_t *out = json_object_get(p, "output"), *params, *res;

		if (out == NULL)
			continue;
		params = json_pack("{s:O,s:O}", "name", json_object_get(p, "name"), "output", out);
		res = psw_rpc_port_set(params, &err);
		json_decref(params);
		if (res == NULL) {
			fprintf(stderr, "podswitchd: config ports[%zu]: %s\n", i, err.message);
			return -1;
		}
		json_decref(res);
	}
	return 0;
}

/* Saved state first (it is what the switch was told at runtime), then what the config
 * file adds: its networks and ports when not already there by name, and its rules only on
 * a first start (no state file), so a rule deleted at runtime stays deleted. From here on
 * every change is saved (batched by the control loop: psw_state_tick). */
static int
restore_and_apply_config(void)
{
	bool first_start = access(psw_state_path(), F_OK) != 0;
	char err[PSW_RPC_MSG_MAX];

	if (psw_state_sections_register(psw_conf.control_socket) != 0 ||
	    psw_state_restore(err, sizeof(err)) != 0) {
		fprintf(stderr, "podswitchd: state: %s\n", err);
		return -1;
	}
	if (apply_config_networks() != 0)
		return -1;
	if (apply_config_ports() != 0)
		return -1;
	if (psw_conf.uplink != NULL && psw_underlay == NULL) {
		struct psw_rpc_error e;
		json_t *r = psw_rpc_uplink_set(psw_conf.uplink, &e);

		if (r == NULL) {
			fprintf(stderr, "podswitchd: config uplink: %s\n", e.message);
			return -1;
		}
		json_decref(r);
	}
	if (first_start && psw_rpc_flow_add_config(psw_conf.flows, err, sizeof(err)) != 0) {
		fprintf(stderr, "podswitchd: config flows: %s\n", err);
		return -1;
	}
	psw_change_set_hook(psw_state_note_change);
	return psw_state_save() == 0 ? 0 : -1;
}

static void
control_loop(struct psw_control *ctl)
{
	double next_links = 0;

	while (!stop_signal) {
		double now;

		psw_control_poll(ctl, 10);
		psw_rcu_reclaim();
		psw_l2_learn_drain();
		psw_l2_bind_drain(psw_clock_s());
		psw_neigh_poll(psw_clock_mono_s());
		psw_backend_poll_events();
		psw_metrics_tick();
		psw_capture_tick();
		psw_state_tick();
		now = psw_clock_mono_s();
		if (now >= next_links) {
			psw_port_poll_links();
			next_links = now + LINK_POLL_S;
		}
	}
}

/* What switch.info tells of the configuration podswitchd started with. */
static json_t *
start_info(void)
{
	json_t *cpus = json_array();

	for (unsigned i = 0; i < psw_conf.n_pmd_cpus; i++)
		json_array_append_new(cpus, json_integer(psw_conf.pmd_cpus[i]));
	return json_pack("{s:s,s:s,s:s,s:o}", "control_socket", psw_conf.control_socket,
			 "state_dir", psw_conf.state_dir, "file_prefix", psw_conf.file_prefix,
			 "pmd_cpus", cpus);
}

/* The /metrics address as bound ("127.0.0.1:41234"), for switch.info; "" when off. */
static char metrics_bound[80];

/* The /metrics endpoint listens from just after EAL init (a busy address stops the start
 * before anything is restored); it answers 503 until start_monitoring. */
static int
start_metrics_http(void)
{
	char err[512];

	if (psw_conf.metrics_listen[0] == '\0')
		return 0;
	if (psw_metrics_http_start(psw_conf.metrics_listen, metrics_bound, sizeof(metrics_bound),
				   err, sizeof(err)) != 0) {
		fprintf(stderr, "podswitchd: %s\n", err);
		return -1;
	}
	return 0;
}

/* Metrics, DPDK telemetry and capture (README.md "Monitoring"): readers on other threads
 * from here on. */
static void
start_monitoring(struct psw_control *ctl)
{
	json_t *info;

	psw_metrics_init(ctl);
	psw_capture_init();
	if (psw_telemetry_init() != 0)
		RTE_LOG(WARNING, USER1, "podswitchd: DPDK telemetry is off: no /podswitch/* "
			"commands\n");
	if (metrics_bound[0] == '\0')
		return;
	info = start_info();
	json_object_set_new(info, "metrics", json_string(metrics_bound));
	psw_rpc_switch_set_info(info);
	RTE_LOG(INFO, USER1, "podswitchd: metrics on http://%s/metrics\n", metrics_bound);
}

/* Ports go through port.del's path so back ends remove their sockets (a pod's tap stays
 * in its pod: psw_backends_stopping); the state file is not touched: it still describes
 * the switch to restore. */
static void
remove_all_ports(void)
{
	psw_backends_stopping();
	psw_change_set_hook(NULL);
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		struct psw_rpc_error err;
		json_t *params, *res;

		if (!psw_ports[i].used)
			continue;
		params = json_pack("{s:s}", "name", psw_ports[i].name);
		res = psw_rpc_port_del(params, &err);
		json_decref(params);
		json_decref(res);
	}
	psw_port_del_all();
	psw_rpc_port_fini();
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"socket", required_argument, NULL, 's'},
		{"file-prefix", required_argument, NULL, 'p'},
		{"state-dir", required_argument, NULL, 'd'},
		{"check-config", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *configs[PSW_CONFIG_FILES_MAX], *sock = NULL, *prefix = NULL, *state_dir = NULL;
	unsigned n_configs = 0;
	struct psw_control *ctl = NULL;
	struct sigaction sa;
	bool check_only = false;
	char err[512];
	int c, rc = 1, lock_fd;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (n_configs == PSW_CONFIG_FILES_MAX) {
				fprintf(stderr, "podswitchd: at most %d --config files\n",
					PSW_CONFIG_FILES_MAX);
				return 2;
			}
			configs[n_configs++] = optarg;
			break;
		case 's': sock = optarg; break;
		case 'p': prefix = optarg; break;
		case 'd': state_dir = optarg; break;
		case 'C': check_only = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("podswitchd %s (%s)\n", PODSWITCH_VERSION, rte_version()); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "podswitchd: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}

	psw_config_defaults(&psw_conf);
	if (n_configs == 0 && access(DEFAULT_CONFIG, R_OK) == 0)
		configs[n_configs++] = DEFAULT_CONFIG;
	/* A node's own file, merged last where it exists (a DaemonSet mounts it from the
	 * node: what differs per node in a cluster, README.md "Install on a cluster"). */
	if (getenv("PODSWITCH_NODE_CONFIG") != NULL && *getenv("PODSWITCH_NODE_CONFIG") != '\0' &&
	    access(getenv("PODSWITCH_NODE_CONFIG"), R_OK) == 0 && n_configs < PSW_CONFIG_FILES_MAX)
		configs[n_configs++] = getenv("PODSWITCH_NODE_CONFIG");
	if (n_configs > 0 && psw_config_load_files(&psw_conf, configs, n_configs, err,
						   sizeof(err)) != 0) {
		fprintf(stderr, "podswitchd: config: %s\n", err);
		return 2;
	}
	if (sock != NULL)
		snprintf(psw_conf.control_socket, sizeof(psw_conf.control_socket), "%s", sock);
	if (prefix != NULL)
		snprintf(psw_conf.file_prefix, sizeof(psw_conf.file_prefix), "%s", prefix);
	if (state_dir != NULL)
		snprintf(psw_conf.state_dir, sizeof(psw_conf.state_dir), "%s", state_dir);
	if (check_only) {
		printf("podswitchd: config %s%s: ok\n", n_configs ? configs[0] : "(defaults)",
		       n_configs > 1 ? " and more" : "");
		psw_config_free(&psw_conf);
		return 0;
	}

	if (socket_in_use(psw_conf.control_socket)) {
		fprintf(stderr, "podswitchd: another podswitchd is serving on %s; refusing to start\n",
			psw_conf.control_socket);
		return 1;
	}
	if (mkdir_parent(psw_conf.control_socket) != 0) {
		fprintf(stderr, "podswitchd: cannot create the directory of %s: %s\n",
			psw_conf.control_socket, strerror(errno));
		return 1;
	}
	lock_fd = take_prefix_lock();
	if (lock_fd < 0)
		return 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (eal_init(argv[0]) < 0) {
		fprintf(stderr, "podswitchd: EAL init failed: %s\n", rte_strerror(rte_errno));
		release_prefix_lock(lock_fd);
		return 1;
	}
	set_log_level();
	if (check_lcores() != 0 || start_metrics_http() != 0)
		goto out_eal;
	psw_neigh_answer_rate = psw_conf.arp_answer_rate;
	if (psw_rcu_init(psw_conf.n_pmd_cpus) != 0 ||
	    psw_pmd_init(psw_conf.pmd_cpus, psw_conf.n_pmd_cpus, psw_conf.pmd_idle_sleep_us) != 0 ||
	    psw_port_init(psw_conf.n_pmd_cpus, psw_conf.mbufs, 256) != 0) {
		fprintf(stderr, "podswitchd: cannot allocate switch memory (eal.memory_mb %u, "
			"mbufs %u): %s\n", psw_conf.memory_mb, psw_conf.mbufs, rte_strerror(rte_errno));
		goto out_eal;
	}
	if (psw_backends_init(psw_conf.socket_dir) != 0) {
		fprintf(stderr, "podswitchd: socket_dir %s: cannot use it\n", psw_conf.socket_dir);
		goto out_eal;
	}
	if (psw_startup_tables(psw_conf.flow_cache_entries, psw_conf.mac_aging_s,
			       psw_conf.mac_limit_per_port, err, sizeof(err)) != 0) {
		fprintf(stderr, "podswitchd: %s\n", err);
		goto out_eal;
	}
	if (psw_state_open(psw_conf.state_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "podswitchd: state_dir: %s\n", err);
		goto out_eal;
	}
	ctl = psw_control_open(psw_conf.control_socket, psw_conf.control_socket_mode,
			       err, sizeof(err));
	if (ctl == NULL) {
		fprintf(stderr, "podswitchd: control socket: %s\n", err);
		goto out_pmd;
	}
	psw_control_register(ctl, psw_rpc_port_methods);
	psw_control_register(ctl, psw_rpc_switch_methods);
	psw_control_register(ctl, psw_rpc_flow_methods);
	psw_control_register(ctl, psw_rpc_network_methods);
	psw_control_register(ctl, psw_rpc_tunnel_methods);
	psw_control_register(ctl, psw_rpc_neigh_methods);
	psw_control_register(ctl, psw_rpc_state_methods);
	psw_control_register(ctl, psw_rpc_pmd_perf_methods);
	psw_control_register(ctl, psw_rpc_capture_methods);
	psw_rpc_switch_set_control(ctl);
	psw_rpc_switch_set_info(start_info());
	psw_clock_mark_start();

	if (restore_and_apply_config() != 0)
		goto out_ports;
	if (psw_pmd_start() != 0) {
		fprintf(stderr, "podswitchd: cannot launch PMD lcores\n");
		goto out_ports;
	}
	start_monitoring(ctl);
	RTE_LOG(INFO, USER1, "podswitchd %s: %u ports, %u PMDs, control socket %s\n",
		PODSWITCH_VERSION, psw_port_count(), psw_n_pmds, psw_conf.control_socket);

	control_loop(ctl);
	psw_state_flush();
	RTE_LOG(INFO, USER1, "podswitchd: signal %d, stopping\n", (int)stop_signal);
	rc = 0;
	psw_capture_fini();
	psw_metrics_http_stop();
	psw_metrics_fini();
	psw_pmd_stop();
out_ports:
	remove_all_ports();
	psw_control_close(ctl);
	psw_rpc_switch_set_info(NULL);
out_pmd:
	psw_startup_tables_fini();
	psw_state_close();
	psw_pmd_fini();
	psw_port_fini();
	psw_rcu_fini();
out_eal:
	psw_metrics_http_stop();
	psw_config_free(&psw_conf);
	rte_eal_cleanup();
	release_prefix_lock(lock_fd);
	return rc;
}
