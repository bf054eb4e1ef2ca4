#ifndef RACEWATCH_PROBE_H
#define RACEWATCH_PROBE_H
/* `racewatch probe`: print what this machine supports; exit status 0. */
int probe_main(void);
#endif
