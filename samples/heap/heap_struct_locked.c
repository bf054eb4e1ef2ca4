/* heap_struct_locked — heap_struct with every update under the mutex: race-free. */
#define HEAP_LOCKED 1
#include "heap_struct.c"
