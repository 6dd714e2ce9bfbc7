/*
 * rpc_capture.c: capture.start, capture.stop, capture.status (control thread; the
 * sessions are capture.c's). podswitchd writes the file itself, so its path is absolute
 * and seen from podswitchd (in a container: the container's file system).
 *
 *   capture.start {"port", "file", "direction"?: "rx"|"tx"|"both", "count"?, "filter"?,
 *                  "snaplen"?, "duration_s"?, "client_timeout_s"?}  -> the capture
 *   capture.stop {"id"}        -> the capture, finished (its file complete)
 *   capture.status {"id"?}     -> one capture (and its client is still there), or
 *                                 {"captures": [...]}
 */
#include <errno.h>
#include <string.h>

#include "control/capture.h"
#include "datapath/capture_dp.h"
#include "port/port.h"

static const struct psw_rpc_param start_params[] = {
	{"port", PSW_T_STRING, true},
	{"file", PSW_T_STRING, true},
	{"direction", PSW_T_STRING, false},
	{"count", PSW_T_UINT, false},
	{"filter", PSW_T_STRING, false},
	{"snaplen", PSW_T_UINT, false},
	{"duration_s", PSW_T_UINT, false},
	{"client_timeout_s", PSW_T_UINT, false},
	{NULL},
};

static const struct psw_rpc_param id_param[] = {
	{"id", PSW_T_UINT, true},
	{NULL},
};

static const struct psw_rpc_param opt_id_param[] = {
	{"id", PSW_T_UINT, false},
	{NULL},
};

static int
uint_arg(json_t *params, const char *key, uint64_t min, uint64_t max, uint64_t *out,
	 struct psw_rpc_error *err)
{
	json_t *v = json_object_get(params, key);

	if (v == NULL)
		return 0;
	if ((uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "%s: %lld is out of range %llu..%llu",
			    key, (long long)json_integer_value(v), (unsigned long long)min,
			    (unsigned long long)max);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static json_t *
rpc_capture_start(json_t *params, struct psw_rpc_error *err)
{
	const char *port = NULL, *file, *dir = "both";
	struct psw_capture_params p = { .dirs = PSW_CAPTURE_RX | PSW_CAPTURE_TX,
					.snaplen = PSW_CAPTURE_SNAPLEN_MAX };
	const struct psw_port *pp;
	uint64_t snaplen = p.snaplen, dur = 0, timeout = 0;
	char msg[PSW_RPC_MSG_MAX];
	int id;

	if (psw_rpc_check_params(params, start_params, err) != 0)
		return NULL;
	port = json_string_value(json_object_get(params, "port"));
	file = json_string_value(json_object_get(params, "file"));
	pp = psw_port_by_name(port);
	if (pp == NULL) {
		psw_rpc_err(err, PSW_RPC_NOT_FOUND, "port: no port \"%s\"", port);
		return NULL;
	}
	if (file[0] != '/' || strlen(file) >= 256) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "file: \"%s\" must be an absolute path "
			    "(podswitchd writes it) of at most 255 characters", file);
		return NULL;
	}
	if (json_object_get(params, "direction") != NULL)
		dir = json_string_value(json_object_get(params, "direction"));
	if (strcmp(dir, "rx") == 0)
		p.dirs = PSW_CAPTURE_RX;
	else if (strcmp(dir, "tx") == 0)
		p.dirs = PSW_CAPTURE_TX;
	else if (strcmp(dir, "both") != 0) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "direction: \"%s\": use rx, tx or both",
			    dir);
		return NULL;
	}
	if (uint_arg(params, "count", 0, UINT64_MAX >> 1, &p.count, err) != 0 ||
	    uint_arg(params, "snaplen", 64, PSW_CAPTURE_SNAPLEN_MAX, &snaplen, err) != 0 ||
	    uint_arg(params, "duration_s", 0, 86400 * 365, &dur, err) != 0 ||
	    uint_arg(params, "client_timeout_s", 0, 86400, &timeout, err) != 0)
		return NULL;
	p.port = pp->id;
	p.snaplen = (uint32_t)snaplen;
	p.duration_s = (unsigned)dur;
	p.client_timeout_s = (unsigned)timeout;
	p.file = file;
	p.filter = json_string_value(json_object_get(params, "filter"));
	if (p.filter != NULL && strlen(p.filter) >= 256) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "filter: at most 255 characters");
		return NULL;
	}
	id = psw_capture_start(&p, msg, sizeof(msg));
	if (id < 0) {
		psw_rpc_err(err, id == -EINVAL ? PSW_RPC_INVALID_PARAMS : id == -EBUSY ?
			    PSW_RPC_BUSY : PSW_RPC_FAILED, "%s", msg);
		return NULL;
	}
	return psw_capture_json((unsigned)id, true);
}

static json_t *
rpc_capture_stop(json_t *params, struct psw_rpc_error *err)
{
	unsigned id;

	if (psw_rpc_check_params(params, id_param, err) != 0)
		return NULL;
	id = (unsigned)json_integer_value(json_object_get(params, "id"));
	if (psw_capture_stop(id, "stopped") != 0) {
		psw_rpc_err(err, PSW_RPC_NOT_FOUND, "id: no capture %u", id);
		return NULL;
	}
	return psw_capture_json(id, false);
}

static json_t *
rpc_capture_status(json_t *params, struct psw_rpc_error *err)
{
	json_t *v, *o;

	if (psw_rpc_check_params(params, opt_id_param, err) != 0)
		return NULL;
	v = json_object_get(params, "id");
	if (v == NULL)
		return json_pack("{s:o}", "captures", psw_capture_list_json());
	o = psw_capture_json((unsigned)json_integer_value(v), true);
	if (o == NULL)
		psw_rpc_err(err, PSW_RPC_NOT_FOUND, "id: no capture %lld",
			    (long long)json_integer_value(v));
	return o;
}

const struct psw_rpc_method psw_rpc_capture_methods[] = {
	{"capture.start", rpc_capture_start},
	{"capture.stop", rpc_capture_stop},
	{"capture.status", rpc_capture_status},
	{NULL, NULL},
};
