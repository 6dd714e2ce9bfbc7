/*
 * metrics_http.c: the /metrics HTTP server (metrics_http.h). podswitchd makes and binds
 * the listening socket itself (so a bad or busy address is an error at start naming the
 * config key), then hands it to libmicrohttpd, which accepts and answers on its own
 * polling thread: a scrape never runs on the control thread and never blocks it. At most
 * 16 connections, 10 s idle timeout: a slow or hostile client ties up nothing else.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "control/metrics_http.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static struct MHD_Daemon *daemon_;

int
psw_metrics_parse_listen(const char *s, const char *key, struct sockaddr_storage *ss,
			 socklen_t *len, char *err, size_t errlen)
{
	char host[64];
	const char *colon, *h = s;
	size_t hl;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			goto bad;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			goto bad;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno || port < 0 || port > 65535)
		goto bad;
	if (s[0] != '[') {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			goto bad;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			goto bad;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
	}
	return 0;
bad:
	snprintf(err, errlen, "%s: \"%s\" is not ADDRESS:PORT (a numeric IPv4 address, or an "
		 "IPv6 one in brackets, and a port 0..65535)", key, s);
	return -1;
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, char *body, size_t len, bool owned,
      const char *type)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(len, body, owned ? MHD_RESPMEM_MUST_FREE
							      : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
       const char *version, const char *upload_data, size_t *upload_data_size, void **state)
{
	static char not_found[] = "not found: podswitchd serves /metrics\n";
	static char not_allowed[] = "method not allowed: GET /metrics\n";
	static char failed[] = "podswitchd is stopping or out of memory\n";
	struct psw_text t = {0};

	(void)cls;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)state;
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, not_found, strlen(not_found), false,
			     "text/plain");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed, strlen(not_allowed),
			     false, "text/plain");
	if (psw_metrics_render_prom(&t) != 0) {
		psw_text_free(&t);
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, failed, strlen(failed), false,
			     "text/plain");
	}
	return reply(conn, MHD_HTTP_OK, t.buf, t.len, true, CONTENT_TYPE);
}

int
psw_metrics_http_start(const char *listen_on, char *bound, size_t boundlen, char *err,
		       size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len, bl;
	char host[INET6_ADDRSTRLEN];
	int fd, one = 1;

	if (psw_metrics_parse_listen(listen_on, "metrics.listen", &ss, &len, err, errlen) != 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0) {
		snprintf(err, errlen, "metrics.listen: cannot listen on %s: %s", listen_on,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	bl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &bl);
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(bound, boundlen, "%s:%u", host, ntohs(a->sin_port));
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(bound, boundlen, "[%s]:%u", host, ntohs(a->sin6_port));
	}
	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
				   (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				   0, NULL, NULL, handle, NULL,
				   MHD_OPTION_LISTEN_SOCKET, fd,
				   MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
				   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				   MHD_OPTION_END);
	if (daemon_ == NULL) {
		snprintf(err, errlen, "metrics.listen: libmicrohttpd did not start on %s", bound);
		close(fd);
		return -1;
	}
	return 0;
}

void
psw_metrics_http_stop(void)
{
	if (daemon_ != NULL)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
