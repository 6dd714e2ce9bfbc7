/*
 * backends.h: the pod port types podswitch serves (vhost-user, memif, tap), for main.c.
 * Control thread.
 */
#ifndef PSW_BACKENDS_BACKENDS_H
#define PSW_BACKENDS_BACKENDS_H

/* Register every back end with the port layer (port/backend.h) and set the directory of
 * default socket paths (the config's socket_dir). 0 or -errno. */
int psw_backends_init(const char *socket_dir);

/* podswitchd is stopping (main.c, before it closes every port): ports are closed, not
 * deleted. Back ends keep what a pod must keep across the restart: a pod's tap stays in
 * the pod with its addresses and routes, and the next start re-attaches to it (tap.c). */
void psw_backends_stopping(void);

#endif
