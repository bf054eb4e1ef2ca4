/* main_lib_locked — main_lib with every library call under the library's lock. */
#define LOCKED 1
#include "main_lib.c"
