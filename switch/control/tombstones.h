/*
 * tombstones.h: pod attachments the CNI plugin deleted while podswitchd was down, so that
 * a restart does not bring their ports back (tombstones.c). Control thread, at start.
 */
#ifndef PSW_CONTROL_TOMBSTONES_H
#define PSW_CONTROL_TOMBSTONES_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* The directory of tombstones for the podswitchd serving control_socket:
 * "<control_socket>.deleted" (the CNI plugin derives the same from its "socket"). */
int psw_tombstones_dir(const char *control_socket, char *out, size_t len);

/* Read the tombstones now in dir (before the state file is replayed). 0 or -errno (a
 * missing directory is none). */
int psw_tombstones_load(const char *dir);

/* Is the port whose saved port.add params are `port` an attachment a tombstone names
 * (external_ids cni.container_id and cni.ifname)? Then true, with why. */
bool psw_tombstones_match(json_t *port, char *why, size_t len);

/* After the replay: remove every tombstone loaded (honoured or not: each was written
 * while this switch was down, and the switch now knows what it has), and forget them. */
void psw_tombstones_done(void);

#endif
