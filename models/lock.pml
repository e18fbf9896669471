/* sp_lock_t's acquire and release (src/lock.c), in the futex design of
 * PLAN decision 4 (default) or in today's main design (-DMAIN_RELEASE),
 * with the pattern "a worker releases; the owner acquires, destroys and
 * frees the object". See models/README.md.
 *
 * Processes: NWK workers, each making ROUNDS rounds of acquire (untimed,
 * timed or try, chosen nondeterministically) and, if it got the lock,
 * release; and one owner, which, once every worker has returned from its
 * last acquire (the ghost counter `last`: a worker still in its final
 * release counts), acquires without a deadline, destroys and frees.
 *
 * The default is the core branch's src/lock.c (fast CAS 0 -> 1; slow path:
 * waiters_++, a bounded spin of CAS 0 -> 1 that stops on seeing 2, then
 * "while (xchg(state, 2) != 0) futex_wait(state, 2)", and after a timeout
 * one last exchange to 2; waiters_--; release: exchange to 0, futex wake if
 * the old value was 2; destroy: SP_EPERM if waiters_, else store state_ 0).
 *
 * Properties:
 *  - mutual exclusion: at most one holder (ghost `holders`);
 *  - no touch of the object after the release made it available;
 *  - destroy finds no waiter (waiters == 0) once every other thread has
 *    returned or is in its final release;
 *  - no lost wakeup: no thread sleeps forever (every process must reach its
 *    end: a thread asleep on a free lock is an invalid end state).
 *
 * futex_wait(addr, 2) atomically compares the word and, if it is 2, puts the
 * thread to sleep on it; it returns when a futex_wake picks it, when its
 * deadline passes (timed waits only), or spuriously (at most SPUR times per
 * thread). futex_wake(addr, 1) wakes one sleeper, any of them. A timed wait
 * may report SP_TIMEDOUT although a wake picked it (the letter of
 * src/platform.h's contract; -DNO_ABSORB forbids it, as Linux does).
 *
 * Variants (each must be REJECTED):
 *  BROKEN_RELEASE_LOAD_STORE  release reads the word, then stores 0 (not one
 *                             exchange): a waiter that sets 2 in between
 *                             sleeps forever on a free lock
 *  BROKEN_RELEASE_READS_WAITERS  release exchanges to 0, then reads the
 *                             waiter count to decide whether to wake
 *  BROKEN_WOKEN_CAS           a woken waiter takes the lock with CAS 0->1
 *                             instead of exchanging 2 (forgets the others)
 *  MAIN_RELEASE               today's main: exchange to 0, then lock mu_ and
 *                             signal cv_ (the use after destroy of issue 11) */

#ifndef NWK
#define NWK 2
#endif
#ifndef ROUNDS
#define ROUNDS 1
#endif
#ifndef SPUR
#define SPUR 1
#endif
#define NT (NWK + 1) /* workers are pids 0..NWK-1, the owner is pid NWK */

#ifndef SPIN
#define SPIN 1 /* spin rounds modelled (the C code: up to SP_LOCK_SPIN_ROUNDS_, 7) */
#endif

#define OK 0
#define TIMEDOUT 1
#define BUSY 2

byte state;   /* the lock word: 0 free, 1 held, 2 held and maybe waited on */
byte waiters; /* threads in the slow path (destroy's SP_EPERM) */
bit freed;
bit sleeping[NT]; /* asleep in futex_wait on &state */

/* Ghosts. */
byte holders;
byte last; /* workers that returned from their last acquire */

#ifdef MAIN_RELEASE
byte mu;      /* l->mu_: owner pid + 1, 0 free */
bit cvq[NT];  /* queued on l->cv_ */
#endif

inline live() {
  assert(!freed)
}

inline got_it() {
  holders++;
  assert(holders == 1)
}

/* futex_wake(&state, 1): may run on a freed address. */
inline futex_wake1() {
  atomic {
    if
    :: sleeping[0] -> sleeping[0] = 0
    :: sleeping[1] -> sleeping[1] = 0
#if NT > 2
    :: sleeping[2] -> sleeping[2] = 0
#endif
#if NT > 3
    :: sleeping[3] -> sleeping[3] = 0
#endif
    :: else -> skip
    fi
  }
}

/* rc = futex_wait(&state, 2, deadline): SP_OK when woken, when the word was
 * not 2, or spuriously; SP_TIMEDOUT once the deadline passed. */
inline futex_wait2(rc, timed, spur) {
  atomic {
    live();
    if
    :: state == 2 -> sleeping[_pid] = 1
    :: else -> skip
    fi
  }
  if
  :: atomic { !sleeping[_pid] -> rc = OK }
  :: atomic { timed && sleeping[_pid] -> sleeping[_pid] = 0; rc = TIMEDOUT }
#ifndef NO_ABSORB
  :: atomic { timed && !sleeping[_pid] -> rc = TIMEDOUT } /* woken as it timed out */
#endif
  :: atomic { spur > 0 && sleeping[_pid] -> sleeping[_pid] = 0; spur--; rc = OK }
  fi
}

#ifndef MAIN_RELEASE
/* ---- PLAN decision 4: the futex lock ---- */

/* sp_lock_acquire: kind 0 untimed, 1 timed, 2 try (timeout 0). */
inline acquire(rc, kind, spur, old, i) {
  atomic {
    live();
    if
    :: state == 0 -> state = 1; got_it(); rc = OK
    :: else -> rc = BUSY
    fi
  }
  if
  :: rc == OK || kind == 2 -> skip
  :: else ->
    atomic { live(); waiters++ }
    /* sp_lock_slow_: the bounded spin (any number of rounds up to SPIN) */
    i = 0;
    do
    :: i < SPIN ->
      i++;
      atomic { live(); old = state }
      if
      :: old == 0 ->
        atomic {
          live();
          if
          :: state == 0 -> state = 1; got_it(); rc = OK
          :: else -> skip
          fi
        }
        if
        :: rc == OK -> break
        :: else -> skip
        fi
      :: old == 2 -> break
      :: else -> skip
      fi
    :: break
    od;
    /* while (xchg(state, 2) != 0) if (futex_wait(.., 2, ..) == TIMEDOUT)
     *   return xchg(state, 2) == 0 ? OK : TIMEDOUT; */
    do
    :: rc == OK -> break
    :: else ->
      atomic { live(); old = state; state = 2; if :: old == 0 -> got_it(); rc = OK :: else -> skip fi }
      if
      :: rc == OK -> break
      :: else -> skip
      fi;
      futex_wait2(rc, kind, spur);
      if
      :: rc == TIMEDOUT ->
        atomic { live(); old = state; state = 2; if :: old == 0 -> got_it(); rc = OK :: else -> skip fi };
        break
      :: else -> rc = BUSY
      fi;
#ifdef BROKEN_WOKEN_CAS
      atomic { live(); if :: state == 0 -> state = 1; got_it(); rc = OK :: else -> skip fi };
#endif
      skip
    od;
    atomic { live(); waiters-- }
  fi;
  i = 0
}

inline release(old, w) {
#ifdef BROKEN_RELEASE_LOAD_STORE
  atomic { live(); old = state }
  atomic { live(); assert(holders == 1); holders--; state = 0 }
#else
  atomic { live(); assert(holders == 1); holders--; old = state; state = 0 }
#endif
#ifdef BROKEN_RELEASE_READS_WAITERS
  atomic { live(); w = waiters }
  if
  :: w > 0 -> futex_wake1()
  :: else -> skip
  fi
#else
  if
  :: old == 2 -> futex_wake1()
  :: else -> skip
  fi
#endif
}

/* sp_lock_destroy: SP_EPERM if waiters_ != 0, else mark it dead and store
 * state_ 0 (the caller then frees the memory). */
inline destroy(w) {
  atomic { live(); w = waiters; assert(w == 0) }
  atomic { live(); state = 0 }
}

#else
/* ---- today's main: state word + mu_ + cv_ ---- */

inline mu_lock() {
  atomic { live(); mu == 0 -> mu = _pid + 1 }
}
inline mu_unlock() {
  atomic { live(); assert(mu == _pid + 1); mu = 0 }
}

/* sp_cond_wait_until_(&cv_, &mu_, deadline), abstracted: enqueue and release
 * mu_ atomically; return when signalled or (timed) at the deadline. */
inline cv_wait(rc, timed) {
  atomic { live(); assert(mu == _pid + 1); cvq[_pid] = 1; mu = 0 }
  if
  :: atomic { !cvq[_pid] -> rc = OK }
  :: atomic { timed && cvq[_pid] -> live(); cvq[_pid] = 0; rc = TIMEDOUT }
  :: atomic { timed && !cvq[_pid] -> rc = TIMEDOUT } /* signalled as it timed out */
  fi;
  mu_lock()
}

inline cv_signal() {
  atomic {
    live();
    if
    :: cvq[0] -> cvq[0] = 0
    :: cvq[1] -> cvq[1] = 0
#if NT > 2
    :: cvq[2] -> cvq[2] = 0
#endif
#if NT > 3
    :: cvq[3] -> cvq[3] = 0
#endif
    :: else -> skip
    fi
  }
}

inline acquire(rc, kind, spur, old, i) {
  atomic {
    live();
    if
    :: state == 0 -> state = 1; got_it(); rc = OK
    :: else -> rc = BUSY
    fi
  }
  if
  :: rc == OK || kind == 2 -> skip
  :: else ->
    mu_lock();
    atomic { live(); waiters++ }
    do
    :: atomic { live(); old = state; state = 2; if :: old == 0 -> got_it() :: else -> skip fi }
      if
      :: old == 0 -> rc = OK; break
      :: else -> skip
      fi;
      cv_wait(rc, kind);
      if
      :: rc == TIMEDOUT ->
        atomic { live(); old = state; state = 2; if :: old == 0 -> got_it(); rc = OK :: else -> skip fi };
        break
      :: else -> skip
      fi
    od;
    atomic {
      live();
      waiters--;
      if
      :: waiters == 0 && rc == OK && state == 2 -> state = 1
      :: else -> skip
      fi
    }
    mu_unlock()
  fi
}

inline release(old, w) {
  atomic { live(); assert(holders == 1); holders--; old = state; state = 0 }
  if
  :: old == 2 ->
    mu_lock();
    atomic { live(); w = waiters };
    if
    :: w > 0 -> cv_signal()
    :: else -> skip
    fi;
    mu_unlock()
  :: else -> skip
  fi
}

inline destroy(w) {
  mu_lock();
  atomic { live(); w = waiters };
  mu_unlock();
  assert(w == 0)
}
#endif

active [NWK] proctype worker() {
  byte k, kind, rc, old, w, i;
  byte spur = SPUR;
  for (k : 1 .. ROUNDS) {
    if
    :: kind = 0
    :: kind = 1
    :: kind = 2
    fi;
    acquire(rc, kind, spur, old, i);
    if
    :: k == ROUNDS -> last++ /* its last call (a release, if any) follows */
    :: else -> skip
    fi;
    if
    :: rc == OK -> release(old, w)
    :: else -> skip
    fi
  }
}

active proctype owner() {
  byte kind = 0, rc, old, w, i;
  byte spur = SPUR;
  last == NWK;
  acquire(rc, kind, spur, old, i);
  assert(rc == OK);
  destroy(w);
  /* sp_lock_destroy succeeded; the owner frees the memory. */
  atomic { live(); holders--; freed = 1 }
}
