/*
 * racewatch.h — what target programs include to talk to racewatch.
 *
 * Nothing here costs anything when the program runs without the tracer.
 * The marking macros of the kernel (READ_ONCE, WRITE_ONCE, data_race,
 * ASSERT_EXCLUSIVE_*) arrive with the marking work (issue 3).
 */
#ifndef RACEWATCH_H
#define RACEWATCH_H

#endif
