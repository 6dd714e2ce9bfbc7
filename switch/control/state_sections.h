/* state_sections.h: register the state file's sections (control thread, once). */
#ifndef PSW_STATE_SECTIONS_H
#define PSW_STATE_SECTIONS_H

int psw_state_sections_register(void);

#endif
