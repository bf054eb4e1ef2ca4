/* heap_list_locked — heap_list with the walk under the list's mutex: race-free. */
#define HEAP_LOCKED 1
#include "heap_list.c"
