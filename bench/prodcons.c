/*
 * prodcons — race-free and realistic: two producers and two consumers pass
 * items through a bounded queue guarded by one mutex and two condition
 * variables.  The watched field `q.count` is read and written only with
 * q.lock held, so no tool may report it.  Each item costs some real work on
 * both sides (a few microseconds of hashing), as in a server pipeline.
 *
 * Watch with `-w q.count`.  Prints a deterministic checksum (the sum over
 * items does not depend on which consumer took which item).
 *
 * Usage: prodcons [ITEMS [WORK]]   items per producer (default 40000),
 *        hash rounds per item on each side (default 2000)
 */
#include "bench.h"

#include <pthread.h>
#include <stdint.h>

#define QSIZE 64
#define NPROD 2
#define NCONS 2

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t not_empty;
	pthread_cond_t not_full;
	uint64_t buf[QSIZE];
	unsigned head, tail;
	long count;		/* items in buf; protected by lock */
	long open_producers;	/* protected by lock */
};

struct queue q = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.not_empty = PTHREAD_COND_INITIALIZER,
	.not_full = PTHREAD_COND_INITIALIZER,
	.open_producers = NPROD,
};

static long items, work;
static uint64_t sums[NCONS];

static uint64_t mix(uint64_t x)
{
	for (long i = 0; i < work; i++) {
		x ^= x >> 33;
		x *= 0xff51afd7ed558ccdull;
		x ^= x >> 29;
	}
	return x;
}

__attribute__((noinline)) static void put(uint64_t v)
{
	pthread_mutex_lock(&q.lock);
	while (q.count == QSIZE)
		pthread_cond_wait(&q.not_full, &q.lock);
	q.buf[q.tail] = v;
	q.tail = (q.tail + 1) % QSIZE;
	q.count++;
	pthread_cond_signal(&q.not_empty);
	pthread_mutex_unlock(&q.lock);
}

/* Returns 0 when every producer is done and the queue is empty. */
__attribute__((noinline)) static int get(uint64_t *v)
{
	pthread_mutex_lock(&q.lock);
	while (q.count == 0 && q.open_producers > 0)
		pthread_cond_wait(&q.not_empty, &q.lock);
	if (q.count == 0) {
		pthread_mutex_unlock(&q.lock);
		return 0;
	}
	*v = q.buf[q.head];
	q.head = (q.head + 1) % QSIZE;
	q.count--;
	pthread_cond_signal(&q.not_full);
	pthread_mutex_unlock(&q.lock);
	return 1;
}

static void *producer(void *arg)
{
	uint64_t id = (uint64_t)(uintptr_t)arg;

	for (long i = 0; i < items; i++)
		put(mix(id * 1000003u + (uint64_t)i));
	pthread_mutex_lock(&q.lock);
	q.open_producers--;
	pthread_cond_broadcast(&q.not_empty);
	pthread_mutex_unlock(&q.lock);
	return NULL;
}

static void *consumer(void *arg)
{
	uint64_t *sum = arg, v;

	while (get(&v))
		*sum += mix(v);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t p[NPROD], c[NCONS];
	uint64_t total = 0;

	items = bench_arg(argc, argv, 1, 40000);
	work = bench_arg(argc, argv, 2, 2000);
	bench_pin();
	for (int i = 0; i < NCONS; i++)
		pthread_create(&c[i], NULL, consumer, &sums[i]);
	for (int i = 0; i < NPROD; i++)
		pthread_create(&p[i], NULL, producer, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < NPROD; i++)
		pthread_join(p[i], NULL);
	for (int i = 0; i < NCONS; i++)
		pthread_join(c[i], NULL);
	for (int i = 0; i < NCONS; i++)
		total += sums[i];
	printf("prodcons: %d x %ld items, checksum %016llx\n", NPROD, items, (unsigned long long)total);
	return 0;
}
