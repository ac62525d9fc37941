// Small heap blocks kept for reuse on one thread: expat's parser, reset
// between messages, frees its DTD tables and rebuilds them on the next
// message (one malloc per element name); handed this as its memory suite,
// those blocks come back from here instead.
#pragma once

#include <cstddef>

namespace omadm {

namespace block_recycler {

// malloc / realloc / free for the calling thread's recycler.  A block is
// kept when it is small (at most 4 KiB) and its size class has room;
// anything else goes to the C heap.  Blocks may be freed on another
// thread or after the thread's recycler is gone: they go to the C heap.
void *allocate(size_t n);
// Thread-local objects first touched after this call are destroyed before
// the recycler (an owner of blocks must free them while it is alive).
void outlive_what_follows();
void *reallocate(void *p, size_t n);
void release(void *p);

}  // namespace block_recycler

}  // namespace omadm
