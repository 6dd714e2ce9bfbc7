/*
 * client.c: the blocking client of podswitchd's control socket, linked into podswitchctl
 * and the CNI plugin (never into podswitchd). Connects to the Unix socket, sends one
 * JSON-RPC request line and reads lines until the reply with the same id arrives, all
 * under one deadline so a stuck switch cannot hang a kubelet's CNI call.
 *
 * The socket is non-blocking and every wait goes through poll() with what is left of the
 * timeout. A connection that failed once (timeout, hang-up, garbage) is marked broken: a
 * late reply to a timed-out request must never be taken for the answer to the next one.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

/* Replies can be far larger than requests (flow.list of 100,000 rules). */
#define REPLY_LINE_MAX (256u << 20)
#define DEFAULT_TIMEOUT_MS 30000

struct psw_client {
	int fd;
	int timeout_ms;
	bool broken;
	json_int_t next_id;
	struct psw_linebuf in;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(long long deadline)
{
	long long d = deadline - now_ms();
	return d < 0 ? 0 : (int)d;
}

struct psw_client *psw_client_connect(const char *path, int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct psw_client *c;
	long long deadline;
	int fd;

	path = psw_proto_socket_path(path);
	if (timeout_ms <= 0)
		timeout_ms = DEFAULT_TIMEOUT_MS;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "cannot connect to %s: socket path longer than %zu bytes",
			 path, sizeof(sa.sun_path) - 1);
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sa.sun_path, path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to %s: socket: %s", path, strerror(errno));
		return NULL;
	}
	/* A Unix connect never returns EINPROGRESS; EAGAIN means the server's backlog is
	 * full (it is busy or flooded): retry until the deadline. */
	deadline = now_ms() + timeout_ms;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if ((e == EAGAIN || e == EINTR) && left_ms(deadline) > 0) {
			poll(NULL, 0, 10);
			continue;
		}
		snprintf(err, errlen, "cannot connect to %s: %s%s", path,
			 e == EAGAIN ? "server busy (connect timed out)" : strerror(e),
			 e == ENOENT || e == ECONNREFUSED ? " (is podswitchd running?)" : "");
		close(fd);
		errno = e;
		return NULL;
	}

	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "cannot connect to %s: out of memory", path);
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	c->next_id = 1;
	snprintf(c->path, sizeof(c->path), "%s", path);
	psw_linebuf_init(&c->in, REPLY_LINE_MAX);
	return c;
}

static json_t *fail(struct psw_client *c, struct psw_rpc_error *err, const char *fmt, const char *arg)
{
	char msg[PSW_RPC_MSG_MAX - 128];
	c->broken = true;
	err->code = PSW_RPC_INTERNAL_ERROR;
	snprintf(msg, sizeof(msg), fmt, arg);
	snprintf(err->message, sizeof(err->message), "%s (socket %s)", msg, c->path);
	return NULL;
}

static int send_all(struct psw_client *c, const char *buf, size_t len, long long deadline)
{
	while (len > 0) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		struct pollfd p = {.fd = c->fd, .events = POLLOUT};
		int left = left_ms(deadline);
		if (left == 0 || poll(&p, 1, left) == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Next line from the server, waiting until the deadline. 1, or -errno (-ECONNRESET on EOF). */
static int recv_line(struct psw_client *c, char **line, size_t *len, long long deadline)
{
	char chunk[65536];

	for (;;) {
		int rc = psw_linebuf_next(&c->in, line, len);
		if (rc != 0)
			return rc;
		ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);
		if (n > 0) {
			rc = psw_linebuf_append(&c->in, chunk, (size_t)n);
			if (rc < 0)
				return rc;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int left = left_ms(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return -errno;
	}
}

json_t *psw_client_call(struct psw_client *c, const char *method, json_t *params,
			struct psw_rpc_error *err)
{
	long long deadline = now_ms() + c->timeout_ms;
	json_int_t id = c->next_id++;
	json_t *req;
	char *out, *line;
	size_t outlen, len;
	int rc;

	err->code = 0;
	err->message[0] = '\0';
	if (c->broken) {
		json_decref(params);
		return fail(c, err, "%s", "connection to podswitchd is no longer usable");
	}
	req = psw_proto_request(method, params, id);
	json_decref(params);
	out = req ? psw_proto_dump_line(req, &outlen) : NULL;
	json_decref(req);
	if (!out)
		return fail(c, err, "cannot build request %s: out of memory", method);

	if (outlen > PSW_LINE_MAX + 1) {
		free(out); /* nothing was sent: the connection is still good */
		err->code = PSW_RPC_TOO_LARGE;
		snprintf(err->message, sizeof(err->message),
			 "request %s is %zu bytes, over the limit of %u", method, outlen - 1,
			 PSW_LINE_MAX);
		return NULL;
	}
	rc = send_all(c, out, outlen, deadline);
	free(out);
	if (rc == -ETIMEDOUT)
		return fail(c, err, "timed out sending %s to podswitchd", method);
	if (rc == -EPIPE || rc == -ECONNRESET) {
		/* The server may have said why before it hung up (too many clients). */
		c->broken = true;
		if (recv_line(c, &line, &len, now_ms() + 100) == 1)
			return psw_proto_parse_response(line, len, id, err);
		return fail(c, err, "podswitchd closed the connection before %s was sent", method);
	}
	if (rc < 0)
		return fail(c, err, "cannot send request: %s", strerror(-rc));

	rc = recv_line(c, &line, &len, deadline);
	if (rc == -ETIMEDOUT)
		return fail(c, err, "no reply from podswitchd to %s before the timeout", method);
	if (rc == -ECONNRESET || rc == -EPIPE)
		return fail(c, err, "podswitchd closed the connection without answering %s", method);
	if (rc == -EMSGSIZE)
		return fail(c, err, "reply to %s is over the size limit", method);
	if (rc < 0)
		return fail(c, err, "cannot read reply: %s", strerror(-rc));

	return psw_proto_parse_response(line, len, id, err);
}

const char *psw_client_path(const struct psw_client *c)
{
	return c->path;
}

void psw_client_close(struct psw_client *c)
{
	if (!c)
		return;
	close(c->fd);
	psw_linebuf_free(&c->in);
	free(c);
}
