/* state_sections.h: register the state file's sections (control thread, once). */
#ifndef PSW_STATE_SECTIONS_H
#define PSW_STATE_SECTIONS_H

/* Also reads the tombstones of pod attachments deleted while the podswitchd serving
 * control_socket was down (tombstones.h; NULL: none), for the replay that follows. */
int psw_state_sections_register(const char *control_socket);

#endif
