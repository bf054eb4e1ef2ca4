/* dlmain_locked — dlmain with every plugin call under the plugin's lock. */
#define LOCKED 1
#include "dlmain.c"
