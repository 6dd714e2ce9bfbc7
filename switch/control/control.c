/*
 * control.c: podswitchd's JSON-RPC 2.0 server (transport and dispatch only). Runs on the
 * control thread (main lcore), never on a PMD; the packet path does not know it exists.
 * Control path: podswitchctl.c -> protocol.c -> control.c -> rpc_<noun>.c -> room.
 *
 * One epoll set holds the listening socket and every client, all non-blocking and
 * level-triggered. Each client has an input line buffer (ctl/protocol.c) and an output
 * buffer; requests on one connection are answered in order because a line is handled to
 * completion before the next is read. Nothing a client does can block the loop: reads and
 * writes never wait, a request line over PSW_LINE_MAX is refused and the connection
 * closed, a client that lets more than PSW_CONTROL_OUT_MAX of replies pile up is
 * dropped, clients over PSW_CONTROL_MAX_CLIENTS are accepted and closed at once, and when
 * the process runs out of descriptors a spare one is sacrificed to accept-and-close, so
 * the listener never spins on EMFILE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/control.h"
#include "ctl/protocol.h"

#define READ_CHUNK        65536
/* Reads per client per poll round: a chatty client cannot starve the others. */
#define READS_PER_ROUND   4
#define ACCEPTS_PER_ROUND 64
#define EVENTS_PER_ROUND  64
#define SUN_PATH_MAX      sizeof(((struct sockaddr_un *)0)->sun_path)

struct client {
	int fd;
	uint32_t events;     /* mask registered with epoll */
	bool read_closed;    /* EOF seen or reading stopped */
	bool closing;        /* close once the output is flushed */
	bool dead;           /* close now */
	struct psw_linebuf in;
	char *out;
	size_t out_off, out_len, out_cap;
	struct client *prev, *next;
};

struct psw_control {
	int epfd;
	int lfd;
	int lock_fd;
	int spare_fd;        /* /dev/null, given up to accept-and-close on EMFILE */
	bool listen_paused;  /* listener out of epoll: no descriptor left at all */
	struct client *clients;
	unsigned n_tables;
	const struct psw_rpc_method *tables[PSW_CONTROL_MAX_TABLES];
	struct psw_control_stats st;
	char path[SUN_PATH_MAX];
	char lock_path[SUN_PATH_MAX + 8];
};

static const char too_many_clients[] =
	"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32004,"
	"\"message\":\"too many control connections; try again later\"}}\n";

/* ---- clients ---------------------------------------------------------------------- */

static void client_free(struct psw_control *c, struct client *cl)
{
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	psw_linebuf_free(&cl->in);
	free(cl->out);
	free(cl);
	c->st.clients--;
	if (c->listen_paused) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->lfd, &ev) == 0)
			c->listen_paused = false;
	}
}

static size_t out_pending(const struct client *cl)
{
	return cl->out_len - cl->out_off;
}

static void update_events(struct psw_control *c, struct client *cl)
{
	uint32_t ev = (cl->read_closed ? 0 : EPOLLIN) | (out_pending(cl) ? EPOLLOUT : 0);
	if (ev == cl->events)
		return;
	struct epoll_event e = {.events = ev, .data.ptr = cl};
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, cl->fd, &e) < 0)
		cl->dead = true;
	else
		cl->events = ev;
}

/* Write what the socket takes now; the rest waits for EPOLLOUT. */
static void flush(struct client *cl)
{
	while (out_pending(cl)) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, out_pending(cl),
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			cl->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		cl->dead = true; /* EPIPE, ECONNRESET: the reader is gone */
		return;
	}
	cl->out_off = cl->out_len = 0;
	if (cl->out_cap > READ_CHUNK) { /* give back the memory of a big reply */
		free(cl->out);
		cl->out = NULL;
		cl->out_cap = 0;
	}
	if (cl->closing)
		cl->dead = true;
}

static void queue_line(struct psw_control *c, struct client *cl, const char *line, size_t len)
{
	if (out_pending(cl) > PSW_CONTROL_OUT_MAX) {
		c->st.dropped++;
		cl->dead = true; /* not reading its replies: a slow or dead client */
		return;
	}
	if (cl->out_off > 0 && cl->out_off == cl->out_len)
		cl->out_off = cl->out_len = 0;
	if (cl->out_cap - cl->out_len < len) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;
		while (cap - cl->out_len < len)
			cap *= 2;
		char *nb = realloc(cl->out, cap);
		if (!nb) {
			c->st.dropped++;
			cl->dead = true;
			return;
		}
		cl->out = nb;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, line, len);
	cl->out_len += len;
}

static void queue_msg(struct psw_control *c, struct client *cl, json_t *msg)
{
	size_t len;
	char *line = psw_proto_dump_line(msg, &len);

	json_decref(msg);
	if (!line) {
		c->st.dropped++;
		cl->dead = true;
		return;
	}
	queue_line(c, cl, line, len);
	free(line);
}

/* ---- dispatch --------------------------------------------------------------------- */

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:  return "an object";
	case JSON_ARRAY:   return "an array";
	case JSON_STRING:  return "a string";
	case JSON_INTEGER:
	case JSON_REAL:    return "a number";
	case JSON_TRUE:
	case JSON_FALSE:   return "a boolean";
	case JSON_NULL:    return "null";
	}
	return "?";
}

static psw_rpc_handler lookup(const struct psw_control *c, const char *name)
{
	for (unsigned t = 0; t < c->n_tables; t++)
		for (const struct psw_rpc_method *m = c->tables[t]; m->name; m++)
			if (strcmp(m->name, name) == 0)
				return m->handler;
	return NULL;
}

__attribute__((format(printf, 4, 5)))
static json_t *error_reply(struct psw_control *c, json_t *id, int code, const char *fmt, ...)
{
	char msg[PSW_RPC_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->st.errors++;
	return psw_proto_error(id, code, msg);
}

/* One request object: its reply, or NULL for a notification. Invalid requests are
 * answered even without an id (with id null), as JSON-RPC 2.0 asks. */
static json_t *handle_request(struct psw_control *c, json_t *req)
{
	struct psw_rpc_error err = {0};
	const char *key, *name;
	json_t *v, *id, *method, *params, *result;
	psw_rpc_handler fn;

	c->st.requests++;
	if (!json_is_object(req))
		return error_reply(c, NULL, PSW_RPC_INVALID_REQUEST,
				   "a request must be a JSON object, got %s", json_kind(req));
	id = json_object_get(req, "id");
	if (id && !json_is_string(id) && !json_is_integer(id) && !json_is_null(id))
		return error_reply(c, NULL, PSW_RPC_INVALID_REQUEST,
				   "'id' must be a string, an integer or null, got %s",
				   json_kind(id));
	json_object_foreach(req, key, v) {
		if (strcmp(key, "jsonrpc") && strcmp(key, "method") && strcmp(key, "params") &&
		    strcmp(key, "id"))
			return error_reply(c, id, PSW_RPC_INVALID_REQUEST,
					   "unknown member '%s' in request (allowed: jsonrpc, "
					   "method, params, id)", key);
	}
	v = json_object_get(req, "jsonrpc");
	if (!v)
		return error_reply(c, id, PSW_RPC_INVALID_REQUEST,
				   "missing \"jsonrpc\": \"2.0\" in request");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0)
		return error_reply(c, id, PSW_RPC_INVALID_REQUEST,
				   "'jsonrpc' must be the string \"2.0\"");
	method = json_object_get(req, "method");
	if (!method)
		return error_reply(c, id, PSW_RPC_INVALID_REQUEST, "missing 'method' in request");
	if (!json_is_string(method))
		return error_reply(c, id, PSW_RPC_INVALID_REQUEST,
				   "'method' must be a string, got %s", json_kind(method));
	params = json_object_get(req, "params");
	if (params && !json_is_object(params))
		return error_reply(c, id, PSW_RPC_INVALID_REQUEST,
				   "'params' must be an object of named parameters, got %s",
				   json_kind(params));

	/* From here on the request is well formed: a notification gets no reply, not
	 * even an error (JSON-RPC 2.0, section 4.1). */
	name = json_string_value(method);
	fn = lookup(c, name);
	if (!fn && !id)
		return NULL;
	if (!fn)
		return error_reply(c, id, PSW_RPC_METHOD_NOT_FOUND, "unknown method '%s'", name);

	if (params)
		json_incref(params);
	else
		params = json_object();
	result = fn(params, &err);
	json_decref(params);

	if (!id) { /* notification: done, whatever the outcome */
		json_decref(result);
		return NULL;
	}
	if (result)
		return psw_proto_result(id, result);
	if (err.code == 0)
		return error_reply(c, id, PSW_RPC_INTERNAL_ERROR,
				   "method '%s' failed without saying why", name);
	c->st.errors++;
	return psw_proto_error(id, err.code, err.message);
}

static void handle_line(struct psw_control *c, struct client *cl, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *msg, *reply;
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len) /* blank line: nothing asked */
		return;
	const char *nul = memchr(line, '\0', len);
	if (nul) { /* jansson would report "end of file" here, which misleads */
		c->st.requests++;
		queue_msg(c, cl, error_reply(c, NULL, PSW_RPC_PARSE_ERROR,
					     "invalid JSON: NUL byte at column %zu",
					     (size_t)(nul - line) + 1));
		return;
	}
	msg = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!msg) {
		c->st.requests++;
		queue_msg(c, cl, error_reply(c, NULL, PSW_RPC_PARSE_ERROR,
					     "invalid JSON at column %d: %s", jerr.column,
					     jerr.text));
		return;
	}
	if (!json_is_array(msg)) {
		reply = handle_request(c, msg);
	} else if (json_array_size(msg) == 0) {
		c->st.requests++;
		reply = error_reply(c, NULL, PSW_RPC_INVALID_REQUEST, "empty batch");
	} else {
		json_t *req;
		reply = json_array();
		json_array_foreach(msg, i, req) {
			json_t *r = handle_request(c, req);
			if (r)
				json_array_append_new(reply, r);
		}
		if (json_array_size(reply) == 0) { /* all notifications: no reply at all */
			json_decref(reply);
			reply = NULL;
		}
	}
	json_decref(msg);
	if (reply)
		queue_msg(c, cl, reply);
}

/* ---- I/O events ------------------------------------------------------------------- */

static void too_large(struct psw_control *c, struct client *cl)
{
	c->st.requests++;
	c->st.dropped++;
	queue_msg(c, cl, error_reply(c, NULL, PSW_RPC_TOO_LARGE,
				     "request line over %u bytes; closing the connection",
				     PSW_LINE_MAX));
	cl->read_closed = true;
	cl->closing = true;
}

static void client_read(struct psw_control *c, struct client *cl)
{
	char buf[READ_CHUNK];

	for (int r = 0; r < READS_PER_ROUND && !cl->read_closed && !cl->dead; r++) {
		ssize_t n = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			cl->dead = true;
			return;
		}
		if (n == 0) {
			/* Hung up. Mid-request (half a line): nothing to answer, close now.
			 * Otherwise flush the replies still queued (the peer may only have
			 * shut down its write side), then close. */
			cl->read_closed = true;
			if (psw_linebuf_pending(&cl->in))
				cl->dead = true;
			else
				cl->closing = true;
			return;
		}
		int rc = psw_linebuf_append(&cl->in, buf, (size_t)n);
		if (rc == -EMSGSIZE) {
			too_large(c, cl);
			return;
		}
		if (rc < 0) {
			c->st.dropped++;
			cl->dead = true;
			return;
		}
		char *line;
		size_t len;
		while (!cl->dead && (rc = psw_linebuf_next(&cl->in, &line, &len)) == 1)
			handle_line(c, cl, line, len);
		if (rc == -EMSGSIZE) {
			too_large(c, cl);
			return;
		}
		/* Give back the memory of a big request once it is handled. */
		if (psw_linebuf_pending(&cl->in) == 0 && cl->in.cap > 4 * READ_CHUNK)
			psw_linebuf_free(&cl->in);
	}
}

static void client_event(struct psw_control *c, struct client *cl, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		client_read(c, cl);
	if (!cl->dead)
		flush(cl);
	if (!cl->dead && cl->closing && !out_pending(cl))
		cl->dead = true;
	if (!cl->dead)
		update_events(c, cl);
	if (cl->dead)
		client_free(c, cl);
}

static void refuse(struct psw_control *c, int fd)
{
	/* Best effort: a fresh socket's buffer always takes one short line. */
	ssize_t n = send(fd, too_many_clients, sizeof(too_many_clients) - 1,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)n;
	close(fd);
	c->st.refused++;
}

static void accept_ready(struct psw_control *c)
{
	for (int i = 0; i < ACCEPTS_PER_ROUND; i++) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EMFILE && errno != ENFILE)
				return; /* EAGAIN: backlog drained */
			/* Out of descriptors: the pending connection keeps the listener
			 * readable, so waiting would spin. Give up the spare descriptor to
			 * accept and close it, then take the spare back. */
			if (c->spare_fd < 0) {
				if (epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->lfd, NULL) == 0)
					c->listen_paused = true; /* resumed by client_free */
				return;
			}
			close(c->spare_fd);
			fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				refuse(c, fd);
			c->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			continue;
		}
		if (c->st.clients >= PSW_CONTROL_MAX_CLIENTS) {
			refuse(c, fd);
			continue;
		}
		struct client *cl = calloc(1, sizeof(*cl));
		struct epoll_event ev = {.events = EPOLLIN};
		if (!cl) {
			refuse(c, fd);
			continue;
		}
		cl->fd = fd;
		cl->events = EPOLLIN;
		psw_linebuf_init(&cl->in, PSW_LINE_MAX);
		ev.data.ptr = cl;
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			free(cl);
			refuse(c, fd);
			continue;
		}
		cl->next = c->clients;
		if (c->clients)
			c->clients->prev = cl;
		c->clients = cl;
		c->st.clients++;
		c->st.accepted++;
	}
}

int psw_control_poll(struct psw_control *c, int timeout_ms)
{
	struct epoll_event evs[EVENTS_PER_ROUND];
	int n = epoll_wait(c->epfd, evs, EVENTS_PER_ROUND, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	/* A client is only ever freed while its own event is handled, and epoll reports
	 * each fd at most once per round, so no later event points at freed memory. */
	for (int i = 0; i < n; i++) {
		if (evs[i].data.ptr == NULL)
			accept_ready(c);
		else
			client_event(c, evs[i].data.ptr, evs[i].events);
	}
	return n;
}

/* ---- set-up ----------------------------------------------------------------------- */

static int mkdir_parents(const char *path)
{
	char dir[SUN_PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(dir, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = saved;
			if (saved == '\0')
				return 0;
		}
	}
}

/* 1 when a server answers on path, 0 when not (stale file), -errno when unknown. */
static int server_alive(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN)
		rc = 1; /* EAGAIN: its backlog is full, but it is there */
	else
		rc = errno == ECONNREFUSED || errno == ENOENT ? 0 : -errno;
	close(fd);
	return rc;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rlim_t want = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

struct psw_control *psw_control_open(const char *path, unsigned mode, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	struct psw_control *c;
	struct stat stb;
	int rc;

	if (!path || !*path) {
		snprintf(err, errlen, "control socket path is empty");
		errno = EINVAL;
		return NULL;
	}
	if (strlen(path) >= SUN_PATH_MAX) {
		snprintf(err, errlen, "control socket path %s is longer than %zu bytes", path,
			 SUN_PATH_MAX - 1);
		errno = ENAMETOOLONG;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	c->epfd = c->lfd = c->lock_fd = c->spare_fd = -1;
	strcpy(c->path, path);
	snprintf(c->lock_path, sizeof(c->lock_path), "%s.lock", path);

	rc = mkdir_parents(path);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create the directory of %s: %s", path, strerror(-rc));
		goto fail;
	}
	/* The lock closes the race of two instances starting together (both would find
	 * no live server, and the second would unlink the first's socket). */
	c->lock_fd = open(c->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->lock_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", c->lock_path, strerror(errno));
		goto fail;
	}
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -EADDRINUSE;
		snprintf(err, errlen, "another podswitchd is serving on %s", path);
		close(c->lock_fd);
		c->lock_fd = -1; /* not ours: do not unlink it */
		goto fail;
	}
	if (lstat(path, &stb) == 0) {
		if (!S_ISSOCK(stb.st_mode)) {
			rc = -EEXIST;
			snprintf(err, errlen, "%s exists and is not a socket; not removing it", path);
			goto fail;
		}
		rc = server_alive(path);
		if (rc == 1) {
			rc = -EADDRINUSE;
			snprintf(err, errlen, "another podswitchd is serving on %s", path);
			goto fail;
		}
		if (rc < 0) {
			snprintf(err, errlen, "cannot probe %s: %s", path, strerror(-rc));
			goto fail;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			rc = -errno;
			snprintf(err, errlen, "cannot remove stale socket %s: %s", path, strerror(errno));
			goto fail;
		}
	}

	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	strcpy(sa.sun_path, path);
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot bind %s: %s", path, strerror(errno));
		goto fail_close;
	}
	if (chmod(path, mode) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot chmod %s to %o: %s", path, mode, strerror(errno));
		goto fail_unlink;
	}
	if (listen(c->lfd, SOMAXCONN) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->lfd, &ev) < 0) {
		rc = -errno;
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto fail_unlink;
	}
	raise_nofile();
	c->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return c;

fail_unlink:
	unlink(path);
fail_close:
	if (c->epfd >= 0)
		close(c->epfd);
	close(c->lfd);
fail:
	if (c->lock_fd >= 0) {
		unlink(c->lock_path);
		close(c->lock_fd);
	}
	free(c);
	errno = -rc;
	return NULL;
}

int psw_control_register(struct psw_control *c, const struct psw_rpc_method *table)
{
	for (const struct psw_rpc_method *m = table; m->name; m++)
		if (lookup(c, m->name))
			return -EEXIST;
	if (c->n_tables >= PSW_CONTROL_MAX_TABLES)
		return -ENOSPC;
	c->tables[c->n_tables++] = table;
	return 0;
}

int psw_control_fd(const struct psw_control *c)
{
	return c->epfd;
}

void psw_control_get_stats(const struct psw_control *c, struct psw_control_stats *st)
{
	*st = c->st;
}

void psw_control_close(struct psw_control *c)
{
	if (!c)
		return;
	while (c->clients)
		client_free(c, c->clients);
	close(c->lfd);
	close(c->epfd);
	if (c->spare_fd >= 0)
		close(c->spare_fd);
	unlink(c->path);
	unlink(c->lock_path);
	close(c->lock_fd);
	free(c);
}
