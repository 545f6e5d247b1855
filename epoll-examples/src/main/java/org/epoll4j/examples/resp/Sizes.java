package org.epoll4j.examples.resp;

/**
 * Estimates of the heap bytes a key and its value hold, for --maxmemory and INFO: object headers and map nodes
 * included roughly, so the estimate tracks the heap within a small factor.
 */
final class Sizes {
    private static final long ENTRY = 96; // map node, entry, key object and array headers
    private static final long ELEMENT = 64; // per member of a collection: node, key object, array header

    private Sizes() {
    }

    static long of(Keyspace.Entry e) {
        Object v = e.value;
        long n = ENTRY + e.key.length();
        if (v instanceof byte[]) {
            return n + ((byte[]) v).length;
        }
        if (v instanceof ByteList) {
            ByteList l = (ByteList) v;
            return n + l.bytes() + 24L * l.size();
        }
        if (v instanceof ByteSet) {
            ByteSet s = (ByteSet) v;
            return n + s.bytes() + ELEMENT * s.size();
        }
        if (v instanceof ByteZSet) {
            ByteZSet z = (ByteZSet) v;
            return n + z.bytes() + 2 * ELEMENT * z.size();
        }
        if (v instanceof ByteHash) {
            ByteHash h = (ByteHash) v;
            return n + h.bytes() + ELEMENT * h.size();
        }
        return n;
    }
}
