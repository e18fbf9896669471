/* A worker pool in the style of Python's threading + queue modules: the
 * README's "more examples", built and run by ctest (example/workers).
 * Producers put jobs on a bounded queue, workers take them, a semaphore
 * caps how many run a "slow" step at once, an rlock guards a shared tally
 * (re-entered by a helper), an event tells everyone to stop, and a barrier
 * lines the workers up before they start. The threads are libsyncplus's
 * portable ones (sp_thread_t), so it runs on POSIX and Windows alike. */
#include <stdint.h>
#include <stdio.h>
#include <syncplus.h>

#define WORKERS 4
#define JOBS    1000

static sp_queue_t jobs;       /* queue.Queue(maxsize=16) */
static sp_sem_t slow_slots;   /* threading.BoundedSemaphore(2) */
static sp_rlock_t tally_lock; /* threading.RLock() */
static sp_event_t stop;       /* threading.Event() */
static sp_barrier_t start;    /* threading.Barrier(WORKERS + 1) */
static long tally;

static void add_to_tally(long v) {
  if (sp_rlock_acquire(&tally_lock, SP_FOREVER) != SP_OK) /* re-entered */
    return;
  tally += v;
  sp_rlock_release(&tally_lock);
}

static void *worker(void *arg) {
  (void)arg;
  if (sp_barrier_wait(&start, SP_FOREVER, NULL) != SP_OK)
    return NULL;
  while (!sp_event_is_set(&stop)) {
    void *item;
    int rc = sp_queue_get(&jobs, &item, 10 * SP_NS_PER_MS);
    if (rc == SP_TIMEDOUT)
      continue; /* look at the stop event again */
    if (rc != SP_OK)
      break;
    long job = (long)(intptr_t)item;
    if (job % 10 == 0) { /* a slow step: at most two at a time */
      if (sp_sem_acquire(&slow_slots, SP_FOREVER) == SP_OK)
        sp_sem_release(&slow_slots, 1);
    }
    if (sp_rlock_acquire(&tally_lock, SP_FOREVER) != SP_OK)
      break;
    add_to_tally(job);
    sp_rlock_release(&tally_lock);
    sp_queue_task_done(&jobs);
  }
  return NULL;
}

int main(void) {
  sp_thread_t t[WORKERS];
  if (sp_queue_init(&jobs, 16) != SP_OK ||
      sp_sem_init(&slow_slots, 2, 2) != SP_OK ||
      sp_rlock_init(&tally_lock) != SP_OK || sp_event_init(&stop) != SP_OK ||
      sp_barrier_init(&start, WORKERS + 1, NULL, NULL) != SP_OK)
    return 1;
  for (int i = 0; i < WORKERS; i++)
    if (sp_thread_start(&t[i], worker, NULL) != SP_OK)
      return 1;
  if (sp_barrier_wait(&start, SP_FOREVER, NULL) != SP_OK) /* all ready */
    return 1;
  for (long j = 1; j <= JOBS; j++)
    if (sp_queue_put(&jobs, (void *)(intptr_t)j, SP_FOREVER) != SP_OK)
      return 1; /* put waits while the queue is full */
  if (sp_queue_join(&jobs, SP_FOREVER) != SP_OK) /* every job task_done */
    return 1;
  sp_event_set(&stop);
  for (int i = 0; i < WORKERS; i++)
    if (sp_thread_join(&t[i], NULL) != SP_OK)
      return 1;
  long expect = (long)JOBS * (JOBS + 1) / 2;
  printf("tally %ld (expected %ld)\n", tally, expect);
  sp_barrier_destroy(&start);
  sp_event_destroy(&stop);
  sp_rlock_destroy(&tally_lock);
  sp_sem_destroy(&slow_slots);
  sp_queue_destroy(&jobs);
  return tally == expect ? 0 : 1;
}
