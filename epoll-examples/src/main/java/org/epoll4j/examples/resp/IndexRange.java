package org.epoll4j.examples.resp;

/**
 * An inclusive index range as LRANGE, ZRANGE and BITCOUNT read one: two integer arguments, a negative one counting
 * from the end. Scratch state of a {@link Call}, re-read per request.
 */
final class IndexRange {
    long first;
    long last;

    /** Reads arguments {@code i} and {@code i + 1}; false after replying "not an integer". */
    boolean read(Call x, int i) {
        Args a = x.a;
        if (!a.isLong(i) || !a.isLong(i + 1)) {
            x.notInteger();
            return false;
        }
        first = a.toLong(i);
        last = a.toLong(i + 1);
        return true;
    }

    /** Resolves the range over {@code n} elements: from then on it is {@code first..last}, empty if first > last. */
    IndexRange within(long n) {
        first = first < 0 ? Math.max(0, n + first) : first;
        last = last < 0 ? n + last : Math.min(last, n - 1);
        return this;
    }

    boolean isEmpty() {
        return first > last;
    }

    long size() {
        return isEmpty() ? 0 : last - first + 1;
    }
}
