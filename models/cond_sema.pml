/* The emulated condition (src/cond_sema.c) together with the mutex's deferred
 * wake list (src/internal.h: sp_mutex_unlock_ and sp_cond_wake_deferred_).
 * See models/README.md for the abstraction and why it is faithful.
 *
 * Processes: NW waiters, each making ITER waits (lock M; maybe signal; if
 * !done, wait with a deadline or without, chosen nondeterministically;
 * unlock M), and one signaller making NSIG operations (each a signal or a broadcast, chosen
 * nondeterministically) and then a closing "done = 1; broadcast".
 *
 * Waiter nodes (struct sp_waiter_, on the waiter's stack) are slots 0..NW-1,
 * one per waiter thread, reused by its successive waits as the stack reuses
 * the address. freed[n] is set when sp_cond_backend_wait_ returns and cleared
 * by the next wait's sp_sema_init_; every access of a node's fields or of its
 * semaphore asserts that it is not freed.
 *
 * Properties (each an assertion; end states: every process must terminate):
 *  - no lost wakeup: a signal made while a thread is in a wait and not yet
 *    chosen chooses a thread (the queue is not empty), a broadcast chooses
 *    every such thread, and no thread blocks forever (invalid end state);
 *  - no stolen wakeup: a signal chooses only a thread that was waiting when
 *    it was made, the longest waiting one (FIFO), and a post reaches only the
 *    wait that was chosen, once (posted[] ghost);
 *  - accounting: a wait returns OK iff it was chosen, TIMEDOUT iff not;
 *  - deferral: a chosen waiter is posted by the release of M that follows
 *    its choice, made by the thread that chose it (so the woken thread does
 *    not find M still held by its signaller);
 *  - each semaphore's count stays in {0,1} and is 0 when destroyed;
 *  - no touch of a node after its owner may have returned (freed[]).
 *
 * Variants (cpp defines, each must be REJECTED by the checker):
 *  BROKEN_ENQUEUE_AFTER_UNLOCK  the waiter enqueues itself after releasing M
 *  BROKEN_SKIP_LATE_P           a waiter chosen after its deadline returns OK
 *                               without consuming the post that is on its way
 *  BROKEN_POST_BEFORE_NEXT      the releaser reads w->next after posting w
 *  BROKEN_UNLOCK_BEFORE_TAKE    the unlock releases M and only then takes the
 *                               wake list, so it may post a later holder's
 *                               choices while that holder still holds M
 *  BROKEN_NO_DEFERRED_BIT       (core) sp_defer_ does not set D: the fast
 *                               unlock never posts the chosen waiters
 *
 * The default models the core branch (commit 7b553db and its working tree):
 * "deferred wake-ups pending" is the D bit of the mutex's lock word, set
 * by sp_defer_ when the list was empty; D makes the unlock's fast CAS fail,
 * and the slow unlock takes the list while it still holds M, then releases
 * the word (clearing D). -DMAIN_UNLOCK models main (ae73380): the unlock
 * reads and clears m->wake_ under the native mutex, then unlocks it. The
 * waiting bit W and the sleeping on the word are the mutex model's
 * (mutex.pml); here M is an atomic lock. */

#ifndef NW
#define NW 2
#endif
#ifndef ITER
#define ITER 2
#endif
#ifndef WSIG
#define WSIG 1 /* waiters may signal (once each) */
#endif
#ifndef NSIG
#define NSIG 2
#endif

#define NIL 255
#define OK 0
#define TIMEDOUT 1
#define CHOSEN_LATE 2

/* The mutex M: owner (pid + 1), 0 when free; wake = m->wake_ (list head). */
byte M;
byte wake = NIL;
bit deferred; /* core: the lock word's SP_LW_DEFERRED_ bit (D) */

#ifdef BROKEN_NO_DEFERRED_BIT
#define LISTCHECK(e) skip /* the variant must fail on the lost wakeup */
#else
#define LISTCHECK(e) assert(e)
#endif

/* The condition's queue and the waiter nodes. */
byte head = NIL;
byte tail = NIL;
byte nxt[NW];
byte prv[NW];
bit queued[NW];
byte sema[NW];
bit freed[NW] = 1; /* 1: not allocated (no wait in progress) */

/* Ghost state for the properties. */
bit waiting[NW]; /* in a wait, not yet chosen, not timed out under M */
byte nwaiting;
bit chosen[NW];  /* chosen by a signal/broadcast in this wait */
bit posted[NW];  /* its semaphore was posted in this wait */
byte chooser[NW]; /* pid of the thread whose signal/broadcast chose it */
byte ticket[NW]; /* order in which the waits began (FIFO check) */
byte nticket;
bit done;
byte finished;

inline live(n) {
  assert(!freed[n])
}

inline lock() {
  atomic { M == 0 -> M = _pid + 1 }
}

/* The releaser's walk of the taken list (sp_cond_wake_deferred_). */
inline post_list(w, nx) {
  do
  :: w != NIL ->
#ifndef BROKEN_POST_BEFORE_NEXT
    atomic { live(w); nx = nxt[w] }
#endif
    /* sp_sema_v_: sem_post's one atomic update of the count; its futex wake
     * reads no user memory. */
    atomic {
      live(w);
      assert(chosen[w] && !posted[w]); /* only a chosen wait, and once */
      assert(chooser[w] == _pid);      /* by its chooser's release of M */
      posted[w] = 1;
      sema[w]++;
      assert(sema[w] <= 1)
    }
#ifdef BROKEN_POST_BEFORE_NEXT
    atomic { live(w); nx = nxt[w] }
#endif
    w = nx
  :: else -> break
  od
}

/* sp_mutex_unlock_ (M held): take the wake list while M is still held,
 * release M, post the list. */
inline unlock(w, nx) {
#if defined(BROKEN_UNLOCK_BEFORE_TAKE)
  atomic { assert(M == _pid + 1); M = 0; deferred = 0 }
  atomic { w = wake; wake = NIL }
#elif defined(MAIN_UNLOCK)
  /* main: owner_ = 0; wake = m->wake_; m->wake_ = NULL under the native
   * mutex, native unlock */
  atomic { assert(M == _pid + 1); w = wake; wake = NIL; M = 0 }
#else
  /* core: the fast CAS self -> 0 succeeds only if no flag is set; else
   * sp_mutex_unlock_slow_ reads (and clears) wake_ while M is still held
   * and exchanges the word to 0, which clears D. */
  if
  :: atomic {
       !deferred ->
       assert(M == _pid + 1);
       LISTCHECK(wake == NIL); /* D clear: the list is empty */
       w = NIL;
       M = 0
     }
  :: atomic {
       deferred ->
       w = wake;
       if
       :: w != NIL -> wake = NIL
       :: else -> skip
       fi
     }
     atomic { assert(M == _pid + 1); M = 0; deferred = 0 }
  fi;
#endif
  post_list(w, nx)
}

inline enqueue(n) {
  live(n);
  nxt[n] = NIL;
  prv[n] = tail;
  if
  :: tail != NIL -> live(tail); nxt[tail] = n
  :: else -> head = n
  fi;
  tail = n;
  queued[n] = 1
}

inline dequeue(n) {
  live(n);
  if
  :: prv[n] != NIL -> live(prv[n]); nxt[prv[n]] = nxt[n]
  :: else -> head = nxt[n]
  fi;
  if
  :: nxt[n] != NIL -> live(nxt[n]); prv[nxt[n]] = prv[n]
  :: else -> tail = prv[n]
  fi;
  queued[n] = 0
}

/* sp_defer_: put the chain first..last on M's wake list (M held); core:
 * if the list was empty, set D in M's lock word (fetch-or). */
inline defer(first, last) {
#if !defined(MAIN_UNLOCK) && !defined(BROKEN_NO_DEFERRED_BIT)
  if
  :: wake == NIL -> deferred = 1
  :: else -> skip
  fi;
#endif
  live(last);
  nxt[last] = wake;
  wake = first
}

/* The ghost side of choosing node n: it must be a waiting thread. */
inline choose(n) {
  assert(waiting[n]);
  waiting[n] = 0;
  nwaiting--;
  chosen[n] = 1;
  chooser[n] = _pid
}

/* sp_cond_backend_signal_ (caller holds M). */
inline signal(w, i) {
  atomic {
    assert(M == _pid + 1);
    w = head;
    if
    :: w != NIL ->
      /* FIFO: the chosen wait began before every other waiting one. */
      i = 0;
      do
      :: i < NW -> assert(!waiting[i] || ticket[w] <= ticket[i]); i++
      :: else -> break
      od;
      dequeue(w);
      choose(w);
      defer(w, w)
    :: else -> assert(nwaiting == 0) /* no lost wakeup */
    fi;
    w = NIL; i = 0
  }
}

/* sp_cond_backend_broadcast_ (caller holds M). */
inline broadcast(w, first, last) {
  atomic {
    assert(M == _pid + 1);
    first = head;
    last = tail;
    if
    :: first != NIL ->
      head = NIL;
      tail = NIL;
      w = first;
      do
      :: w != NIL -> live(w); queued[w] = 0; choose(w); w = nxt[w]
      :: else -> break
      od;
      defer(first, last)
    :: else -> skip
    fi;
    assert(nwaiting == 0); /* every waiting thread was chosen */
    w = NIL; first = NIL; last = NIL
  }
}

active [NW] proctype waiter() {
  byte n = _pid; /* waiters are pids 0..NW-1: node n is this thread's */
  byte i, rc, w, nx;
  bit timed, signalled;

  for (i : 1 .. ITER) {
    lock();
    /* A waiter may signal too (once), so that a wait's own release of M
     * posts other waiters. */
    if
    :: WSIG && !signalled -> signalled = 1; signal(w, nx)
    :: skip
    fi;
    if
    :: done -> skip
    :: else ->
      /* sp_cond_backend_wait_: sp_sema_init_, enqueue (under M). */
      atomic {
        freed[n] = 0; sema[n] = 0; chosen[n] = 0; posted[n] = 0;
        waiting[n] = 1; nwaiting++;
        ticket[n] = nticket; nticket++;
#ifndef BROKEN_ENQUEUE_AFTER_UNLOCK
        enqueue(n)
#endif
      }
      unlock(w, nx);
#ifdef BROKEN_ENQUEUE_AFTER_UNLOCK
      atomic { enqueue(n) }
#endif
      /* sp_sema_p_(&w.sema, deadline): a deadline may pass at any time, even
       * as a post lands (sem_clockwait's ETIMEDOUT racing sem_post). */
      if
      :: timed = 1
      :: timed = 0
      fi;
      if
      :: atomic { live(n); sema[n] > 0 -> sema[n]--; rc = OK }
      :: timed -> rc = TIMEDOUT
      fi;
      lock();
      if
      :: rc != OK ->
        atomic {
          live(n);
          if
          :: queued[n] ->
            dequeue(n);
            assert(!chosen[n] && waiting[n]);
            waiting[n] = 0;
            nwaiting--
          :: else -> assert(chosen[n]); rc = CHOSEN_LATE
          fi
        }
        if
        :: rc == CHOSEN_LATE ->
#ifndef BROKEN_SKIP_LATE_P
          /* sp_sema_p_(&w.sema, SP_NEVER_), still holding M */
          atomic { live(n); sema[n] > 0 -> sema[n]-- };
#endif
          rc = OK
        :: else -> skip
        fi
      :: else -> skip
      fi;
      /* sp_sema_destroy_, then the return frees the node. */
      atomic {
        live(n);
        assert(sema[n] == 0);
        assert((rc == OK) == chosen[n]); /* OK iff chosen */
        freed[n] = 1;
        rc = OK; timed = 0
      }
    fi;
    /* ... or signal after its wait, before releasing M. */
    if
    :: WSIG && !signalled -> signalled = 1; signal(w, nx)
    :: skip
    fi;
    unlock(w, nx)
  }
  finished++
}

active proctype signaller() {
  byte k, w, nx, i, first, last;
  for (k : 1 .. NSIG) {
    lock();
    if
    :: signal(w, i)
    :: broadcast(w, first, last)
    fi;
    unlock(w, nx)
  }
  lock();
  done = 1;
  broadcast(w, first, last);
  unlock(w, nx);
  finished++
}

/* Once everybody has returned: nothing is left queued, chosen-but-unposted
 * or posted-but-unconsumed. */
active proctype final() {
  byte i;
  finished == NW + 1;
  assert(wake == NIL && head == NIL && tail == NIL && nwaiting == 0);
  for (i : 0 .. NW - 1) {
    assert(sema[i] == 0 && !queued[i] && freed[i]);
    assert(chosen[i] == posted[i])
  }
}
