#include "common/block_recycler.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace omadm {

namespace block_recycler {

namespace {

// Size classes 32, 64, ... 4096 bytes (header included); at most
// k_keep_per_class blocks of each kept, so a thread holds at most some
// 256 KiB of them.
constexpr unsigned k_classes = 8;
constexpr size_t k_smallest = 32;
constexpr unsigned k_keep_per_class = 32;

// Before every block: its class (k_classes: not a kept size, C heap) and
// the recycler it came from (a block freed on another thread goes back to
// the C heap).  16 bytes keep the payload aligned like malloc's.
struct alignas(16) header {
    unsigned size_class;
    const void *owner;
};

struct free_block {
    free_block *next;
};

class recycler {
public:
    ~recycler()
    {
        for (auto &head : free_) {
            while (head) {
                free_block *b = head;
                head = b->next;
                std::free(b);
            }
        }
        alive_ = false;
    }

    header *take(unsigned c)
    {
        free_block *b = free_[c];
        if (!b) return nullptr;
        free_[c] = b->next;
        kept_[c]--;
        return reinterpret_cast<header *>(b);
    }

    // False when the block is not ours to keep.
    bool keep(header *h)
    {
        unsigned c = h->size_class;
        if (!alive_ || h->owner != this || c >= k_classes
            || kept_[c] >= k_keep_per_class) {
            return false;
        }
        auto *b = reinterpret_cast<free_block *>(h);
        b->next = free_[c];
        free_[c] = b;
        kept_[c]++;
        return true;
    }

    bool alive() const { return alive_; }

private:
    free_block *free_[k_classes] = {};
    unsigned kept_[k_classes] = {};
    bool alive_ = true;
};

thread_local recycler t_recycler;

size_t class_bytes(unsigned c)
{
    return k_smallest << c;
}

unsigned class_of(size_t total)
{
    unsigned c = 0;
    while (c < k_classes && class_bytes(c) < total) c++;
    return c;  // k_classes: too large to keep
}

// The payload bytes of a kept-size block.
size_t capacity(const header *h)
{
    return class_bytes(h->size_class) - sizeof(header);
}

}  // namespace

void outlive_what_follows()
{
    (void) t_recycler.alive();
}

void *allocate(size_t n)
{
    if (n > SIZE_MAX - sizeof(header)) return nullptr;
    size_t total = n + sizeof(header);
    unsigned c = class_of(total);
    recycler &r = t_recycler;
    header *h = c < k_classes && r.alive() ? r.take(c) : nullptr;
    if (!h) {
        h = static_cast<header *>(
            std::malloc(c < k_classes ? class_bytes(c) : total));
        if (!h) return nullptr;
    }
    h->size_class = c;
    h->owner = &r;
    return h + 1;
}

void release(void *p)
{
    if (!p) return;
    header *h = static_cast<header *>(p) - 1;
    if (!t_recycler.keep(h)) std::free(h);
}

void *reallocate(void *p, size_t n)
{
    if (!p) return allocate(n);
    header *h = static_cast<header *>(p) - 1;
    if (h->size_class < k_classes && n <= capacity(h)) return p;
    if (h->size_class >= k_classes) {
        // a heap block stays one: realloc keeps its bytes
        if (n > SIZE_MAX - sizeof(header)) return nullptr;
        auto *g = static_cast<header *>(std::realloc(h, n + sizeof(header)));
        return g ? g + 1 : nullptr;
    }
    void *q = allocate(n);
    if (!q) return nullptr;
    std::memcpy(q, p, capacity(h));
    release(p);
    return q;
}

}  // namespace block_recycler

}  // namespace omadm
