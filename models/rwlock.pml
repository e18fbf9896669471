/* sp_rwlock_t (src/rwlock.c): the phase-fair word, readers sleeping on its
 * low half and writers on its high half, with the pattern "workers lock
 * and unlock; the owner then takes the write lock, unlocks, destroys and
 * frees". See models/README.md.
 *
 * Processes: NRD readers and NWR writers, making ROUNDS and WROUNDS lock
 * calls each (untimed, timed or try, chosen nondeterministically) and, if
 * the call got the lock, an unlock; and one owner, which, once every
 * worker has returned from its last lock call (ghost `last`), write-locks
 * without a deadline, unlocks, destroys (the word must be idle but for
 * PHASE) and frees.
 *
 * The word's fields are separate variables here, changed together in one
 * atomic step (the C code's 64-bit CAS; a CAS that fails only retries with
 * the new value, so "check the current word and update it" is one step):
 *   low half  R (readers holding), WLOCK, WPEND (== NW > 0), PHASE
 *   high half WBUSY (== WLOCK || R > 0), NW (writers waiting), RS (readers
 *             waiting)
 * futex_wait(half, v) compares that half with v and sleeps in one step.
 * A timed futex wait may report SP_TIMEDOUT although a wake picked it
 * (src/platform.h allows it; Wine does it): -DNO_ABSORB forbids it.
 *
 * Properties:
 *  - exclusion: no writer with another writer or a reader (ghosts);
 *  - the invariants I1..I3 of src/rwlock.c after every step;
 *  - a registered reader decides right: it returns SP_OK on seeing PHASE
 *    flipped exactly when a grant counted it in R (ghost `granted`), and
 *    leaves RS (timeout) or moves itself to R only when it was not granted;
 *  - phase-fairness: no reader enters by itself while a writer is
 *    registered (NW > 0) or holds the lock; a writer's unlock grants every
 *    registered reader;
 *  - nothing but the futex wake touches the lock after an unlock's release
 *    (ghost `freed`, set when the owner frees it);
 *  - no lost wakeup: every process must reach its end (a thread asleep on
 *    a lock it could take is an invalid end state).
 *
 * Variants (each must be REJECTED):
 *  BROKEN_GRANT_ON_LEAVE    the last waiting writer's timeout grants the
 *                           readers (R += RS, flip PHASE) while R > 0: the
 *                           first version of the code; PHASE can then flip
 *                           twice under a granted reader that has not yet
 *                           looked, which then decides wrong
 *  BROKEN_LEAVE_NO_WAKE     the last waiting writer leaves without waking
 *                           the readers that waited behind it
 *  BROKEN_TIMEOUT_LEAVES    a writer that times out leaves even when the
 *                           lock is free (so an absorbed wake is lost)
 *  BROKEN_READ_UNLOCK_LOAD  the last reader's unlock reads NW after its
 *                           release to decide the wake */

#ifndef NRD
#define NRD 2
#endif
#ifndef NWR
#define NWR 1
#endif
#ifndef ROUNDS
#define ROUNDS 1 /* lock calls per reader */
#endif
#ifndef WROUNDS
#define WROUNDS ROUNDS /* lock calls per writer */
#endif
#ifndef SPUR
#define SPUR 1
#endif
#define NWK (NRD + NWR) /* readers: pids 0..NRD-1; writers: NRD..NWK-1 */
#define NT (NWK + 1)    /* the owner is pid NWK */

#define OK 0
#define TIMEDOUT 1
#define BUSY 2

/* The word. */
byte R, NW, RS;
bit WLOCK, WPEND, PHASE, WBUSY;
bit freed;
bit slo[NT]; /* asleep on the low half */
bit shi[NT]; /* asleep on the high half */

/* Ghosts. */
byte rin, win;    /* readers, writers inside */
byte last;        /* workers that returned from their last lock call */
bit registered[NT], granted[NT];

#define LO (R + 8 * WLOCK + 16 * WPEND + 32 * PHASE)
#define HI (WBUSY + 2 * NW + 16 * RS)

inline live() {
  assert(!freed)
}

inline inv() {
  assert(!WLOCK || R == 0);
  assert(WBUSY == (WLOCK || R > 0));
  assert(WPEND == (NW > 0));
  assert(R + RS <= NRD);
  assert(win <= 1 && (win == 0 || rin == 0))
}

inline wake_all_lo() {
  atomic {
    slo[0] = 0; slo[1] = 0;
#if NT > 2
    slo[2] = 0;
#endif
#if NT > 3
    slo[3] = 0;
#endif
#if NT > 4
    slo[4] = 0;
#endif
  }
}

inline wake_one_hi() {
  atomic {
    if
    :: shi[0] -> shi[0] = 0
    :: shi[1] -> shi[1] = 0
#if NT > 2
    :: shi[2] -> shi[2] = 0
#endif
#if NT > 3
    :: shi[3] -> shi[3] = 0
#endif
#if NT > 4
    :: shi[4] -> shi[4] = 0
#endif
    :: else -> skip
    fi
  }
}

/* rc = futex_wait(half, v, deadline): SP_OK when woken, when the half is
 * not v, or spuriously; SP_TIMEDOUT once the deadline passed. */
inline fwait_lo(rc, v, timed, spur) {
  atomic {
    live();
    if
    :: LO == v -> slo[_pid] = 1
    :: else -> skip
    fi
  }
  if
  :: atomic { !slo[_pid] -> rc = OK }
  :: atomic { timed && slo[_pid] -> slo[_pid] = 0; rc = TIMEDOUT }
#ifndef NO_ABSORB
  :: atomic { timed && !slo[_pid] -> rc = TIMEDOUT } /* woken as it timed out */
#endif
  :: atomic { spur > 0 && slo[_pid] -> slo[_pid] = 0; spur--; rc = OK }
  fi
}

inline fwait_hi(rc, v, timed, spur) {
  atomic {
    live();
    if
    :: HI == v -> shi[_pid] = 1
    :: else -> skip
    fi
  }
  if
  :: atomic { !shi[_pid] -> rc = OK }
  :: atomic { timed && shi[_pid] -> shi[_pid] = 0; rc = TIMEDOUT }
#ifndef NO_ABSORB
  :: atomic { timed && !shi[_pid] -> rc = TIMEDOUT } /* woken as it timed out */
#endif
  :: atomic { spur > 0 && shi[_pid] -> shi[_pid] = 0; spur--; rc = OK }
  fi
}

/* A reader gets the lock by its own CAS: only while no writer holds or
 * waits (phase-fairness), never while granted. */
inline reader_in() {
  assert(!WLOCK && !WPEND || registered[_pid]);
  rin++
}

/* sp_rw_rdlock_ + sp_rw_rdlock_slow_; kind 0 untimed, 1 timed, 2 try. */
inline rdlock(rc, kind, spur, v, ph, wrc) {
  rc = BUSY;
  /* fast path, then the unregistered loop (its spin only repeats this) */
  do
  :: atomic {
       live();
       if
       :: !WLOCK && !WPEND -> R++; WBUSY = 1; reader_in(); rc = OK; inv()
       :: else -> skip
       fi
     }
     if
     :: rc == OK -> break
     :: rc != OK && kind == 2 -> break /* SP_BUSY */
     :: rc != OK && kind == 1 -> rc = TIMEDOUT; break /* the deadline passed */
     :: rc != OK && kind != 2 -> skip
     fi;
     /* register: CAS w -> w + RS_ONE, only while blocked */
     atomic {
       live();
       if
       :: WLOCK || WPEND -> RS++; registered[_pid] = 1; ph = PHASE; v = LO;
          rc = 3; inv()
       :: else -> skip
       fi
     }
     if
     :: rc == 3 -> break
     :: else -> skip
     fi
  od;
  if
  :: rc == 3 ->
    do
    :: fwait_lo(wrc, v, kind, spur);
       rc = 3;
       do
       :: atomic {
            live();
            if
            :: PHASE != ph -> assert(granted[_pid]); granted[_pid] = 0;
               registered[_pid] = 0; rin++; rc = OK
            :: else ->
              assert(!granted[_pid]);
              if
              :: !WLOCK && !WPEND -> RS--; R++; WBUSY = 1;
                 reader_in(); registered[_pid] = 0; rc = OK; inv()
              :: else ->
                if
                :: wrc != TIMEDOUT -> v = LO; rc = 4 /* wait again */
                :: else -> RS--; registered[_pid] = 0; rc = TIMEDOUT; inv()
                fi
              fi
            fi
          }
          break
       od;
       if
       :: rc == 4 -> skip
       :: else -> break
       fi
    od
  :: else -> skip
  fi
}

inline rdunlock(nw, r) {
  atomic {
    live();
    assert(rin > 0 && win == 0);
    rin--;
    R--;
    if
    :: R == 0 -> WBUSY = 0
    :: else -> skip
    fi;
    r = R;
    nw = NW;
    inv()
  }
#ifdef BROKEN_READ_UNLOCK_LOAD
  atomic { live(); nw = NW }
#endif
  if
  :: r == 0 && nw > 0 -> wake_one_hi()
  :: else -> skip
  fi
}

/* take the write lock from a word without WBUSY (reg: counted in NW) */
inline take_write(reg) {
  WLOCK = 1;
  WBUSY = 1;
  if
  :: reg -> NW--; WPEND = (NW > 0)
  :: else -> skip
  fi;
  win++;
  inv()
}

/* sp_rw_wrlock_ + sp_rw_wrlock_slow_; kind 0 untimed, 1 timed, 2 try. */
inline wrlock(rc, kind, spur, v, reg, wrc, wakeR) {
  rc = BUSY;
  reg = 0;
  do
  :: atomic {
       live();
       if
       :: !WBUSY -> take_write(reg); rc = OK
       :: else -> v = HI
       fi
     }
     if
     :: rc == OK -> break
     :: else -> skip
     fi;
     if
     :: !reg ->
       if
       :: kind == 2 -> break /* SP_BUSY */
       :: kind == 1 -> rc = TIMEDOUT; break /* the deadline passed */
       :: kind != 2 -> skip
       fi;
       atomic {
         live();
         if
         :: WBUSY -> NW++; WPEND = 1; reg = 1; inv()
         :: else -> skip
         fi
       }
     :: else ->
       fwait_hi(wrc, v, kind, spur);
       if
       :: wrc == TIMEDOUT ->
         wakeR = 0;
         atomic {
           live();
           if
#ifndef BROKEN_TIMEOUT_LEAVES
           :: !WBUSY -> take_write(reg); rc = OK
#endif
           :: else ->
             NW--;
             WPEND = (NW > 0);
#ifdef BROKEN_GRANT_ON_LEAVE
             if
             :: !WLOCK && !WPEND && RS > 0 ->
               R = R + RS; RS = 0; PHASE = 1 - PHASE;
               granted[0] = registered[0]; granted[1] = registered[1];
#if NRD > 2
               granted[2] = registered[2];
#endif
               wakeR = 1
             :: else -> skip
             fi;
#else
             wakeR = (!WLOCK && !WPEND && RS > 0);
#endif
             rc = TIMEDOUT;
             inv()
           fi
         }
#ifndef BROKEN_LEAVE_NO_WAKE
         if
         :: wakeR -> wake_all_lo()
         :: else -> skip
         fi;
#endif
         break
       :: else -> skip
       fi
     fi
  od
}

inline wrunlock(grant, nw) {
  atomic {
    live();
    assert(win == 1 && rin == 0);
    win--;
    WLOCK = 0;
    nw = NW;
    if
    :: RS > 0 ->
      R = RS; RS = 0; PHASE = 1 - PHASE; grant = 1;
      /* every registered reader is granted */
      granted[0] = registered[0]; granted[1] = registered[1];
#if NRD > 2
      granted[2] = registered[2];
#endif
    :: else -> WBUSY = 0; grant = 0
    fi;
    inv()
  }
  if
  :: grant -> wake_all_lo()
  :: !grant && nw > 0 -> wake_one_hi()
  :: else -> skip
  fi
}

active [NRD] proctype reader() {
  byte k, kind, rc, v, ph, wrc, nw, r;
  byte spur = SPUR;
  for (k : 1 .. ROUNDS) {
    if
    :: kind = 0
    :: kind = 1
    :: kind = 2
    fi;
    rdlock(rc, kind, spur, v, ph, wrc);
    if
    :: k == ROUNDS -> last++
    :: else -> skip
    fi;
    if
    :: rc == OK -> rdunlock(nw, r)
    :: else -> skip
    fi
  }
}

active [NWR] proctype writer() {
  byte k, kind, rc, v, reg, wrc, wakeR, grant, nw;
  byte spur = SPUR;
  for (k : 1 .. WROUNDS) {
    if
    :: kind = 0
    :: kind = 1
    :: kind = 2
    fi;
    wrlock(rc, kind, spur, v, reg, wrc, wakeR);
    if
    :: k == WROUNDS -> last++
    :: else -> skip
    fi;
    if
    :: rc == OK -> wrunlock(grant, nw)
    :: else -> skip
    fi
  }
}

active proctype owner() {
  byte kind = 0, rc, v, reg, wrc, wakeR, grant, nw;
  byte spur = SPUR;
  last == NWK;
  wrlock(rc, kind, spur, v, reg, wrc, wakeR);
  assert(rc == OK);
  wrunlock(grant, nw);
  /* sp_rwlock_destroy: SP_OK only on an idle word (PHASE aside) */
  atomic {
    live();
    assert(R == 0 && !WLOCK && NW == 0 && RS == 0 && !WBUSY && !WPEND);
    freed = 1
  }
}
