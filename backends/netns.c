/*
 * netns.c: run the control thread inside a pod's network namespace for a moment. memif
 * serves a pod through an abstract socket, and abstract socket names live per network
 * namespace: the listening socket must be created inside the pod's namespace (then no
 * mount is shared with the pod). memif.c enters the namespace around rte_dev_probe() and
 * leaves right after; the socket keeps its namespace when the thread returns.
 *
 * Control thread (main lcore) only. setns(CLONE_NEWNET) changes only the calling thread,
 * so PMD lcores and DPDK's service threads are never affected.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/backend_lib.h"

int
psw_netns_check(const char *key, const char *path, struct psw_rpc_error *err)
{
	struct stat st;

	if (path[0] != '/' || strlen(path) >= 4096)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.%s: must be an absolute path", key);
	if (stat(path, &st) < 0)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "options.%s: %s: %s", key,
				       path, strerror(errno));
	return 0;
}

int
psw_netns_enter(const char *path, int *saved_fd, struct psw_rpc_error *err)
{
	int self, target;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return psw_backend_err(err, PSW_RPC_FAILED, "open own network namespace: %s",
				       strerror(errno));
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "options.netns: %s: %s", path,
				strerror(errno));
		goto fail;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				"options.netns: %s: not a network namespace (%s)", path,
				strerror(errno));
		close(target);
		goto fail;
	}
	close(target);
	*saved_fd = self;
	return 0;
fail:
	close(self);
	return -1;
}

int
psw_netns_leave(int saved_fd)
{
	int rc = setns(saved_fd, CLONE_NEWNET);
	int e = errno;

	close(saved_fd);
	return rc < 0 ? -e : 0;
}
