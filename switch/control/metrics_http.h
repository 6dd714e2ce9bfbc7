/*
 * metrics_http.h: the Prometheus endpoint (metrics_http.c): GET /metrics on the address
 * of the config's "metrics": {"listen": "ADDR:PORT"} (off when absent), served by
 * libmicrohttpd on a thread of its own; the page is made by metrics_prom.c from
 * metrics.c's readers. Other paths answer 404, other methods 405.
 */
#ifndef PSW_CONTROL_METRICS_HTTP_H
#define PSW_CONTROL_METRICS_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#include "control/metrics_fmt.h"

/* "127.0.0.1:9100", "[::1]:9100", "0.0.0.0:9100" (numeric addresses; port 0: any free
 * one) into *ss. 0, or -1 with err naming the key `key`. */
int psw_metrics_parse_listen(const char *s, const char *key, struct sockaddr_storage *ss,
			     socklen_t *len, char *err, size_t errlen);

/* Control thread: listen on `listen` (as parsed above) and serve. 0, or -1 with err.
 * The bound address ("127.0.0.1:41234") goes to bound. */
int psw_metrics_http_start(const char *listen, char *bound, size_t boundlen, char *err,
			   size_t errlen);
/* Control thread: stop serving (waits for a scrape in progress). */
void psw_metrics_http_stop(void);

/* The page (metrics_prom.c): 0, or -1 when podswitchd is stopping or out of memory. */
int psw_metrics_render_prom(struct psw_text *t);

#endif
