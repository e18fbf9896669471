/* The layout of sp_rwlock_t's word (src/rwlock.c has the algorithm). A
 * header of its own so that tests/test_rwlock.c can watch waiters register
 * (events, not sleeps) when it checks the lock's policy. */
#ifndef SP_RWLOCK_WORD_H_
#define SP_RWLOCK_WORD_H_

#include <stdint.h>

#define SP_RW_R_ONE_    ((uint64_t)1)
#define SP_RW_R_MAX_    ((uint64_t)0xFFFFF)
#define SP_RW_WLOCK_    ((uint64_t)1 << 20)
#define SP_RW_WPEND_    ((uint64_t)1 << 21)
#define SP_RW_PHASE_    ((uint64_t)1 << 22)
#define SP_RW_WBUSY_    ((uint64_t)1 << 32)
#define SP_RW_NW_SHIFT_ 33
#define SP_RW_NW_ONE_   ((uint64_t)1 << SP_RW_NW_SHIFT_)
#define SP_RW_NW_MAX_   ((uint64_t)0xFFF)
#define SP_RW_RS_SHIFT_ 45
#define SP_RW_RS_ONE_   ((uint64_t)1 << SP_RW_RS_SHIFT_)
#define SP_RW_RS_MAX_   ((uint64_t)0x7FFFF)

#define SP_RW_R_(w)  ((w)&SP_RW_R_MAX_)
#define SP_RW_NW_(w) (((w) >> SP_RW_NW_SHIFT_) & SP_RW_NW_MAX_)
#define SP_RW_RS_(w) ((w) >> SP_RW_RS_SHIFT_)

#endif
