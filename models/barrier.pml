/* sp_barrier_t (src/barrier.c, the qb branch): arrivals under the mutex
 * mu_, the release word word_ = releases << 2 | SLEEPERS | HOLD that the
 * waiters sleep on, the publication by the last arriver after its unlock
 * (one CAS adding a release and clearing SLEEPERS, then a wake of all if
 * SLEEPERS was set), the leave counter out_ that sp_barrier_destroy waits
 * on, breaking by a timed-out waiter (HOLD), and the futex as
 * src/platform.h states it: spurious returns, a timeout at any moment, and
 * a timeout reported for a wait that a wake picked.
 *
 * T threads each wait ROUNDS times on a barrier for P parties (T a
 * multiple of P; with T > P, ROUNDS 1, so that no thread is left without
 * partners): with T >= 2P two generations are released at once and their
 * last arrivers may publish in either order (the release count's additions
 * commute), and threads arrive for a generation while the previous one is
 * still leaving (no drain gate). Thread 0 destroys the barrier as soon as
 * its last wait returned and every other thread has made its last arrival
 * (they may still be inside: waiting, leaving, or publishing), retrying
 * while destroy says SP_EPERM, and frees it. With TIMED every wait has a
 * deadline that may pass at any moment.
 *
 * Properties: a wait returns SP_OK only for a generation that P threads
 * entered, with an index given once in that generation, after the action
 * ran once for it; no thread sleeps forever (invalid end state: with
 * ROUNDS waits per thread and T a multiple of P every generation fills or
 * breaks); nothing but a futex wake call touches the barrier after its
 * free (TOUCH). Sequentially consistent (models/README.md). Not modelled:
 * sp_barrier_reset and the gate (RESETTING), abort from another thread or
 * from the action (a timeout breaks the same way), the adaptive spin (a
 * spin is a sequence of the loads the loop makes anyway), the argument
 * checks. */

#ifndef P
#define P 2
#endif
#ifndef T
#define T 2
#endif
#ifndef ROUNDS
#define ROUNDS 2
#endif
#ifndef SPUR
#define SPUR 1 /* spurious futex returns per thread */
#endif
#define NG 8    /* generations tracked by the ghosts (>= T*ROUNDS/P + 1) */
#define CMOD 64 /* the release count, modulo (the C code: 2^30) */

#define FILLING 0
#define RESETTING 1
#define BROKEN 2

#define R_OK 0
#define R_TIMEDOUT 2
#define R_BROKEN 3

/* ---- the barrier ---- */
byte mu = 0;            /* mutex: 0 free, else holder + 1 */
byte count = 0;         /* under mu */
byte state = FILLING;   /* under mu */
byte gen = 0;           /* logical releases, under mu */
byte wcnt = 0;          /* word_: release count (mod CMOD) */
bit wsleep = 0;         /* word_: SLEEPERS */
bit whold = 0;          /* word_: HOLD */
byte out = 0;           /* out_: released waiters still inside */
bit destroying = 0;     /* out_'s DESTROYING bit */
bit freed = 0;          /* ghost: the memory was freed */

/* ---- the futex (one address, word_; out_'s own for the destroyer) ---- */
bit asleep[T];
bit woken[T];
byte spur[T];
bit dsleep = 0; bit dwoken = 0;

/* ---- ghosts ---- */
byte arrivals[NG];      /* threads that entered generation g */
byte idxseen[NG];       /* bit i: index i returned with SP_OK in g */
byte actions[NG];       /* the action's runs in g */
bit lastarr[T];         /* a thread made its last arrival */
byte finished = 0;

#define WORD (wcnt * 4 + wsleep * 2 + whold)
#define TOUCH assert(!freed)
/* Has a word value's count reached target? (signed distance mod CMOD) */
#define RELEASED(c, tgt) (((c) - (tgt) + CMOD) % CMOD < CMOD / 2)

inline lock() {
  atomic { mu == 0 -> TOUCH; mu = me + 1 }
}
inline unlock() {
  atomic { TOUCH; mu = 0 }
}
inline wake_all() { /* reads no memory: allowed after the free */
  atomic {
    j = 0;
    do
    :: j < T -> if :: asleep[j] -> asleep[j] = 0; woken[j] = 1 :: else fi; j++
    :: else -> break
    od
  }
}
/* futex_wait(&word_, v, deadline) -> to (1: reported SP_TIMEDOUT) */
inline futex_wait(v, timed) {
  to = 0;
  atomic {
    TOUCH;
    if
    :: (WORD != v) -> skip
    :: else -> asleep[me] = 1
    fi
  }
  if
  :: atomic { woken[me] -> woken[me] = 0 }
#ifdef TIMED
     if :: timed -> to = 1 :: skip fi /* a wake absorbed as it timed out */
#endif
  :: atomic { asleep[me] && spur[me] < SPUR -> asleep[me] = 0; spur[me]++ }
#ifdef TIMED
  :: atomic { asleep[me] && timed -> asleep[me] = 0; to = 1 }
#endif
  :: atomic { !asleep[me] && !woken[me] -> skip } /* value differed */
  fi
}

inline do_break() { /* mu held */
  state = BROKEN; whold = 1
}

inline leave_broken() { /* mu held; releases it */
  count--;
  wk = 0;
  if
  :: count == 0 && state == RESETTING -> state = FILLING; whold = 0; wk = 1
  :: else
  fi;
  unlock();
  if :: wk -> wake_all() :: else fi
}

inline leave_released() {
  assert(arrivals[g % NG] == P);
  assert(actions[g % NG] == 1);
  atomic { assert((idxseen[g % NG] & (1 << idx)) == 0);
           idxseen[g % NG] = idxseen[g % NG] | (1 << idx) }
  atomic {
    TOUCH;
    old = out;
    out--;
#ifndef BROKEN_NO_WAKE_DESTROYER
    if :: destroying && old == 1 -> dwoken = 1 :: else fi
#endif
  }
  rc = R_OK
}

proctype thread(byte me; bit timed) {
  byte r = 0, idx, g, tgt, v, old, j;
  bit to, wk, ok;
  byte rc;
  do
  :: r == ROUNDS -> break
  :: r < ROUNDS ->
    lock();
    /* the gate */
    do
    :: state == RESETTING ->
       v = WORD; unlock(); futex_wait(v, timed); lock();
       if
       :: to && state == RESETTING -> do_break(); unlock(); wake_all();
          rc = R_TIMEDOUT; goto done
       :: else
       fi
    :: else -> break
    od;
    if
    :: state == BROKEN ->
       if :: r == ROUNDS - 1 -> lastarr[me] = 1 :: else fi;
       unlock(); rc = R_BROKEN; goto done
    :: else
    fi;
    idx = count; count++; g = gen;
    arrivals[g % NG]++;
    if :: r == ROUNDS - 1 -> lastarr[me] = 1 :: else fi;
    if
    :: count == P ->
       /* the last arriver */
       actions[g % NG]++;
       gen = g + 1; count = 0;
       out = out + P - 1;
       unlock();
#ifdef BROKEN_STORE_PUBLISH
       atomic { TOUCH; old = wsleep; wcnt = (g + 1) % CMOD; wsleep = 0 };
#else
       atomic { TOUCH; old = wsleep; wcnt = (wcnt + 1) % CMOD; wsleep = 0 };
#endif
       if :: old -> wake_all() :: else fi;
       atomic { assert((idxseen[g % NG] & (1 << idx)) == 0);
                idxseen[g % NG] = idxseen[g % NG] | (1 << idx) }
       rc = R_OK
    :: else ->
       unlock();
       /* await (sp_barrier_await_) */
       tgt = (g + 1) % CMOD;
       do
       :: atomic { TOUCH; v = WORD };
          to = 0;
          if
          :: RELEASED(v / 4, tgt) -> leave_released(); break
          :: else
          fi;
          if
          :: !(v & 1) ->
             if
             :: !(v & 2) ->
#ifdef BROKEN_NO_SLEEPERS
                skip
#else
                atomic { TOUCH;
                  if :: WORD == v -> wsleep = 1; v = v | 2; ok = 1
                     :: else -> ok = 0 fi } ;
                if :: !ok -> goto again :: else fi
#endif
             :: else
             fi;
             futex_wait(v, timed);
             atomic { TOUCH; v = WORD };
             if
             :: RELEASED(v / 4, tgt) -> leave_released(); break
             :: else
             fi;
             if
             :: !to && !(v & 1) -> goto again
             :: else
             fi
          :: else
          fi;
          /* decide under mu */
          lock();
          if
          :: gen != g ->
             unlock();
#ifdef BROKEN_LEAVE_ON_LOGICAL
             leave_released(); break
#else
             /* await the publication, no deadline */
             do
             :: atomic { TOUCH; v = WORD };
                if
                :: RELEASED(v / 4, tgt) -> leave_released(); break
                :: else
                fi;
                atomic { TOUCH;
                  if :: WORD == v -> wsleep = 1; v = v | 2; ok = 1
                     :: else -> ok = 0 fi };
                if :: ok -> futex_wait(v, 0) :: else fi
             od;
             break
#endif
          :: gen == g && state != FILLING ->
             leave_broken(); rc = R_BROKEN; break
          :: gen == g && state == FILLING && to ->
             do_break(); leave_broken(); wake_all();
             rc = R_TIMEDOUT; break
          :: else -> unlock()
          fi;
again:    skip
       od
    fi;
done:
    r++
  od;
  if
  :: me == 0 ->
     /* every other thread made its last arrival */
     atomic {
       j = 1;
       do
       :: j < T && lastarr[j] -> j++
       :: j == T -> break
       od
     }
     /* sp_barrier_destroy: SP_EPERM (retry) while threads wait to fill */
     do
     :: lock();
        if :: count == 0 -> unlock(); break
           :: else -> unlock() fi
     od;
     atomic { TOUCH; destroying = 1 };
     do
     :: atomic { out == 0 -> TOUCH; break }
     :: atomic { out != 0 -> TOUCH; dsleep = 1 };
        atomic { dwoken -> dwoken = 0; dsleep = 0 }
#ifdef BROKEN_NO_OUT_WAIT
     :: break
#endif
     od;
     freed = 1
  :: else
  fi;
  atomic { finished++ }
}

init {
  byte i = 0;
  atomic {
    do
    :: i < T ->
#ifdef TIMED
       if :: run thread(i, 1) :: run thread(i, 0) fi;
#else
       run thread(i, 0);
#endif
       i++
    :: else -> break
    od
  }
}
