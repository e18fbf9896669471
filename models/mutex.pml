/* sp_mutex_t's lock word (PLAN decision 3; src/mutex.c and src/internal.h
 * of the core branch): owner id | W ("threads may sleep on the word") | D
 * ("deferred condition wake-ups pending"), lock = CAS 0 -> self with a
 * bounded spin and a futex slow path, unlock = CAS self -> 0 with a slow
 * path (a flag is set) that takes the wake list, exchanges the word to 0,
 * wakes one sleeper if W was set, and posts the list. See models/README.md.
 *
 * Processes: NWK workers, each making ROUNDS rounds: lock (untimed, timed,
 * or trylock, chosen nondeterministically); if it got the mutex, maybe
 * "signal an emulated condition" (defer a wake-up: set D if the list was
 * empty, make the list non-empty), then unlock. And one owner, which once
 * every worker has returned from its last lock (ghost `last`) locks,
 * unlocks, destroys and frees the mutex (sp_mutex_destroy: CAS 0 -> self).
 *
 * The word is encoded as in the C code: owner * 4 + D * 2 + W, owner = pid
 * + 1 (a nonzero multiple of 4 in the C code). The wake list is abstracted
 * to one ghost bit `wake` (non-empty or not): the condition model
 * (cond_sema.pml) checks what is on it.
 *
 * Properties:
 *  - mutual exclusion (ghost `holders`);
 *  - D is set exactly while the list is non-empty, and both are clear when
 *    the word is released and when a thread takes the mutex;
 *  - no touch of the mutex (word, wake_, cond_waiters_) after the exchange
 *    that released it, except the futex wake call (freed is set by the
 *    owner's free; every access asserts !freed);
 *  - destroy after the last unlock finds the word 0;
 *  - no lost wakeup: every process terminates (a thread asleep on a free
 *    word is an invalid end state).
 *
 * futex_wait(word, v) atomically compares the whole word with v and sleeps;
 * it returns when woken, when the word differs, spuriously (at most SPUR
 * times per thread), or, for a timed wait, at the deadline. With ABSORB
 * (the letter of src/platform.h: "SP_TIMEDOUT only once the deadline has
 * passed") a timed wait may also report SP_TIMEDOUT after a wake picked
 * it; without it (Linux futex(2): a woken waiter returns 0 "whatever"), a
 * SP_TIMEDOUT return means no wake picked it.
 *
 * The timed-out lock makes one last fetch-or of W and, if the word is free,
 * one CAS to self | W (src/mutex.c since core's e5edacd; sp_lock_'s timeout
 * path does the same), so the model holds under ABSORB too (see
 * models/README.md, "Findings", 2).
 *
 * Variants (each must be REJECTED):
 *  BROKEN_NO_WAITER_BIT     a sleeper does not set W: the unlock's fast CAS
 *                           succeeds and wakes nobody
 *  BROKEN_WOKEN_NO_W        a thread that takes the word in the sleep loop
 *                           stores self without W (forgets the others)
 *  BROKEN_LIST_AFTER_XCHG   the slow unlock reads wake_ after the exchange
 *  BROKEN_NO_TIMEOUT_RETRY  (with ABSORB) a timed-out lock returns at once,
 *                           losing a wake it absorbed: the bug the model
 *                           found in core's first version */

#ifndef NWK
#define NWK 2
#endif
#ifndef ROUNDS
#define ROUNDS 2
#endif
#ifndef SPUR
#define SPUR 1
#endif
#ifndef SPIN
#define SPIN 1 /* spin rounds modelled (the C code: up to SP_SPIN_ROUNDS_) */
#endif
#define NT (NWK + 1) /* workers are pids 0..NWK-1, the owner is pid NWK */

#define W 1
#define D 2
#define OWNER(v) ((v) / 4)
#define SELF ((_pid + 1) * 4)

#define OK 0
#define TIMEDOUT 1
#define BUSY 2

#ifdef BROKEN_LIST_AFTER_XCHG
#define LISTCHECK(e) skip /* the variant must fail on the use after free */
#else
#define LISTCHECK(e) assert(e)
#endif

byte word;  /* the lock word */
bit wake;   /* m->wake_ != NULL (ghost abstraction of the list) */
bit freed;
bit sleeping[NT];

/* Ghosts. */
byte holders;
byte last;

inline live() {
  assert(!freed)
}

inline got_it() {
  holders++;
  assert(holders == 1);
  LISTCHECK(!(word & D) && !wake)
}

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

inline futex_wait(v, rc, timed, spur) {
  atomic {
    live();
    if
    :: word == v -> sleeping[_pid] = 1
    :: else -> skip
    fi
  }
  if
  :: atomic { !sleeping[_pid] -> rc = OK }
  :: atomic { timed && sleeping[_pid] -> sleeping[_pid] = 0; rc = TIMEDOUT }
#ifdef ABSORB
  :: atomic { timed && !sleeping[_pid] -> rc = TIMEDOUT }
#endif
  :: atomic { spur > 0 && sleeping[_pid] -> sleeping[_pid] = 0; spur--; rc = OK }
  fi
}

/* sp_mutex_lock / sp_mutex_timedlock / sp_mutex_trylock; kind 0 untimed,
 * 1 timed, 2 try. */
inline lock(kind, rc, v, i, spur) {
  atomic {
    live();
    if
    :: word == 0 -> word = SELF; got_it(); rc = OK
    :: else -> rc = BUSY
    fi
  }
  if
  :: rc == OK || kind == 2 -> skip
  :: else ->
    /* sp_word_lock_slow_: the bounded spin */
    i = 0;
    do
    :: i < SPIN ->
      i++;
      atomic { live(); v = word }
      if
      :: OWNER(v) == 0 ->
        atomic {
          live();
          if
          :: word == v -> word = SELF | (v & W); got_it(); rc = OK
          :: else -> skip
          fi
        }
        if
        :: rc == OK -> break
        :: else -> skip
        fi
      :: OWNER(v) != 0 && (v & W) -> break
      :: else -> skip
      fi
    :: break /* the rounds ran out */
    od;
    /* the sleep loop */
    do
    :: rc == OK -> break
    :: else ->
#ifndef BROKEN_NO_WAITER_BIT
      atomic { live(); v = word | W; word = word | W }
#else
      atomic { live(); v = word }
#endif
      if
      :: OWNER(v) == 0 ->
        atomic {
          live();
          if
#ifndef BROKEN_WOKEN_NO_W
          :: word == v -> word = SELF | W; got_it(); rc = OK
#else
          :: word == v -> word = SELF; got_it(); rc = OK
#endif
          :: else -> skip
          fi
        }
      :: else ->
        futex_wait(v, rc, kind, spur);
        if
        :: rc == TIMEDOUT ->
#ifndef BROKEN_NO_TIMEOUT_RETRY
          /* like sp_lock's: one last try that keeps W set, so a wake this
           * thread may have absorbed is passed on */
          atomic { live(); v = word | W; word = word | W }
          if
          :: OWNER(v) == 0 ->
            atomic {
              live();
              if
              :: word == v -> word = SELF | W; got_it(); rc = OK
              :: else -> skip
              fi
            }
          :: else -> skip
          fi;
#endif
          break
        :: else -> rc = BUSY
        fi
      fi
    od
  fi;
  i = 0; v = 0
}

/* The holder signals an emulated condition: sp_defer_. */
inline defer() {
  atomic {
    live();
    if
    :: !wake -> word = word | D
    :: else -> skip
    fi;
    wake = 1
  }
}

inline unlock(v, wl) {
  atomic { live(); assert(holders == 1 && OWNER(word) == _pid + 1) }
  atomic {
    live();
    if
    :: word == SELF -> holders--; word = 0; v = 0; wl = 2 /* fast CAS */
    :: else -> skip
    fi
  }
  if
  :: wl == 2 -> skip
  :: else ->
    /* sp_mutex_unlock_slow_ */
#ifndef BROKEN_LIST_AFTER_XCHG
    atomic { live(); wl = wake; wake = 0 }
#endif
    atomic {
      live();
      LISTCHECK(!wake); /* the list is taken before the word is released */
      holders--;
      v = word;
      word = 0
    }
#ifdef BROKEN_LIST_AFTER_XCHG
    atomic { live(); wl = wake; wake = 0 }
#endif
    LISTCHECK(((v & D) != 0) == wl); /* D flagged exactly the taken list */
    if
    :: v & W -> futex_wake1()
    :: else -> skip
    fi
    /* ... then sp_cond_wake_deferred_(list): touches only the waiters */
  fi;
  v = 0; wl = 0
}

active [NWK] proctype worker() {
  byte k, kind, rc, v, i, wl;
  byte spur = SPUR;
  for (k : 1 .. ROUNDS) {
    if
    :: kind = 0
    :: kind = 1
    :: kind = 2
    fi;
    lock(kind, rc, v, i, spur);
    if
    :: k == ROUNDS -> last++
    :: else -> skip
    fi;
    if
    :: rc == OK ->
      if
      :: defer()
      :: skip
      fi;
      unlock(v, wl)
    :: else -> skip
    fi
  }
}

active proctype owner() {
  byte kind = 0, rc, v, i, wl;
  byte spur = SPUR;
  last == NWK;
  lock(kind, rc, v, i, spur);
  assert(rc == OK);
  unlock(v, wl);
  /* sp_mutex_destroy: CAS 0 -> self must succeed, then the memory is freed */
  atomic { live(); assert(word == 0); freed = 1 }
}
