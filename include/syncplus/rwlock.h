/* libsyncplus: sp_rwlock_t, a reader-writer lock with timeouts.
 *
 * What pthread_rwlock_t, SRWLOCK's shared mode, GRWLock and uv_rwlock_t
 * offer: any number of threads may hold the lock for reading at once, or
 * one thread for writing, with Python-style timeouts on both (0 tries once,
 * SP_FOREVER waits without limit) and _until variants on an absolute
 * sp_now_ns() deadline. Memory: whatever a writer wrote before its unlock
 * is visible to every later holder, reader or writer; whatever a reader
 * read was written before its lock by the last writer.
 *
 * Policy: phase-fair. A reader that finds a writer holding the lock, or
 * waiting for it, waits; when the writer unlocks, every reader that waited
 * gets the lock at once (a reader phase), before any writer. A writer that
 * finds readers holding the lock waits for them only: new readers wait
 * behind it. So neither side starves: a waiting writer gets the lock after
 * the readers present when it arrived (and at most one reader phase) have
 * left, and a waiting reader gets it at the next writer's unlock. Writers
 * among themselves are not ordered (as with sp_mutex_t): while writers keep
 * the lock busy, which of them goes next is up to the OS.
 *
 * Rules checked per thread (the lock knows who holds it):
 *  - a thread may take the read lock again while it holds it (it is
 *    counted; unlock as many times). Such a nested read lock never waits,
 *    even when a writer waits (no deadlock with a waiting writer);
 *  - a thread that holds the read lock and asks for the write lock
 *    ("upgrade") gets SP_EPERM at once, instead of the deadlock two such
 *    readers would cause; unlock the read lock first;
 *  - a thread that holds the write lock and asks for it, or for the read
 *    lock, gets SP_EPERM;
 *  - sp_rwlock_unlock() releases what the calling thread holds: the write
 *    lock, or one level of its read lock; SP_EPERM if it holds neither.
 * The lock is owned by threads: the thread that locked must unlock.
 *
 * Design: one 64-bit word holding the readers, the writer, and the counts
 * of waiting readers and writers; readers sleep on one half of it, writers
 * on the other (futex, WaitOnAddress). An uncontended read lock or unlock
 * is a look-up in a small per-thread table of held read locks plus one
 * compare-and-swap; an uncontended write lock or unlock one
 * compare-and-swap. The per-thread table holds four locks without
 * allocating; a thread that holds read locks on more rwlocks at once
 * allocates (SP_ENOMEM if that fails).
 *
 * Static initialisation: a zero-filled sp_rwlock_t, or SP_RWLOCK_INIT, is
 * an unlocked rwlock ready to use.
 *
 * Lifetime: an rwlock may be destroyed, and its memory freed, as soon as
 * the last thread that used it has returned, including the thread that
 * unlocked it last: an unlock touches nothing once another thread can take
 * the lock, but for the wake-up call on the word's address.
 *
 * A thread must unlock what it locked before it exits: a lock held by a
 * thread that ended stays held.
 *
 * Errors: every function returns SP_EINVAL for a NULL or destroyed rwlock
 * (or memory that is not one), changing nothing. The rwlock needs no OS
 * resources: only the per-thread table's growth can fail (SP_ENOMEM).
 *
 * Thread-safety: all functions are thread-safe except init and destroy,
 * which must not run concurrently with any other use of the same rwlock.
 *
 * Usage:
 *     if (sp_rwlock_rdlock(&l, SP_FOREVER) == SP_OK) {
 *       ... read the shared data ...
 *       sp_rwlock_unlock(&l);
 *     }
 *     if (sp_rwlock_wrlock(&l, 50 * SP_NS_PER_MS) == SP_OK) {
 *       ... change the shared data ...
 *       sp_rwlock_unlock(&l);
 *     } else { ... SP_TIMEDOUT: readers or a writer kept it ... } */
#ifndef SYNCPLUS_RWLOCK_H
#define SYNCPLUS_RWLOCK_H

#include "syncplus/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__cplusplus)
#define SP_ALIGN8_ alignas(8)
#else
#define SP_ALIGN8_ _Alignas(8)
#endif

/* Embeddable; the fields are private. */
typedef struct sp_rwlock {
  SP_ALIGN8_ uint64_t word_; /* readers, writer, waiters, phase (atomic) */
  uint32_t owner_;           /* the writer's thread id, 0 (atomic) */
  unsigned magic_;           /* 0: zero-filled, valid */
} sp_rwlock_t;

/* A static initializer: an unlocked rwlock (all zero). */
#define SP_RWLOCK_INIT                                                         \
  { 0u, 0u, 0u }

/* Make *l an unlocked rwlock. SP_OK; SP_EINVAL for NULL. Initialising an
 * rwlock that is in use is undefined. */
SP_API SP_NODISCARD int sp_rwlock_init(sp_rwlock_t *l);

/* Destroy *l. SP_OK; SP_EPERM if it is locked (for reading or writing) or
 * a thread waits for it (it stays usable, unchanged). After SP_OK, every
 * function returns SP_EINVAL for *l until it is initialised again. */
SP_API int sp_rwlock_destroy(sp_rwlock_t *l);

/* Take *l for reading, waiting at most timeout_ns (SP_FOREVER: no limit;
 * 0: do not wait). If the calling thread holds the read lock already, its
 * count goes up by one and the call returns SP_OK at once, whatever the
 * timeout. Otherwise it waits while a writer holds the lock or waits for
 * it. SP_OK when taken; SP_BUSY when timeout_ns is 0 and it could not be
 * taken at once; SP_TIMEDOUT when the timeout passed first (never earlier);
 * SP_EINVAL for a timeout below -1; SP_EPERM if the caller holds the write
 * lock, or its read count would overflow (2^32 - 1 nested read locks);
 * SP_ENOMEM if the caller's table of held read locks could not be made
 * (Windows: its first use in a thread allocates it) or grow (the caller
 * holds read locks on four or more other rwlocks). Every SP_OK is matched
 * by one sp_rwlock_unlock(). */
SP_API SP_NODISCARD int sp_rwlock_rdlock(sp_rwlock_t *l, int64_t timeout_ns);

/* Take *l for writing, waiting at most timeout_ns (SP_FOREVER: no limit;
 * 0: do not wait) until no thread holds it. SP_OK when taken; SP_BUSY when
 * timeout_ns is 0 and it is held; SP_TIMEDOUT when the timeout passed first
 * (never earlier; while it waited, new readers waited behind it, and they
 * go on when it gives up); SP_EINVAL for a timeout below -1; SP_EPERM if
 * the caller holds *l already, for writing or for reading (an upgrade:
 * unlock the read lock first, then take the write lock and re-check what
 * was read). */
SP_API SP_NODISCARD int sp_rwlock_wrlock(sp_rwlock_t *l, int64_t timeout_ns);

/* As sp_rwlock_rdlock, with an absolute deadline on sp_now_ns()'s clock
 * (INT64_MAX: no limit), so that several calls can share one deadline.
 * SP_TIMEDOUT (never SP_BUSY) when the deadline passed first (never
 * earlier; a deadline already passed tries once). */
SP_API SP_NODISCARD int sp_rwlock_rdlock_until(sp_rwlock_t *l,
                                               int64_t deadline_ns);

/* As sp_rwlock_wrlock, with an absolute deadline on sp_now_ns()'s clock
 * (INT64_MAX: no limit). SP_TIMEDOUT (never SP_BUSY) when the deadline
 * passed first (never earlier; a deadline already passed tries once). */
SP_API SP_NODISCARD int sp_rwlock_wrlock_until(sp_rwlock_t *l,
                                               int64_t deadline_ns);

/* Release what the calling thread holds of *l: the write lock, or one level
 * of its read lock (the last one lets writers in). Wakes the threads that
 * can go on: on a writer's unlock, every waiting reader, or else one
 * waiting writer; on the last reader's unlock, one waiting writer. SP_OK;
 * SP_EPERM if the calling thread holds neither (nothing changes). */
SP_API int sp_rwlock_unlock(sp_rwlock_t *l);

#ifdef __cplusplus
}
#endif

#endif
