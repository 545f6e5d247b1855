package org.epoll4j.examples.resp;

import java.util.Arrays;
import java.util.HashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A Redis set: members in a hash map for membership and in a dense array (each member knows its slot), so a random
 * member (SPOP, SRANDMEMBER) costs O(1) and a removal moves the last member into the hole.
 */
final class ByteSet {
    private final HashMap<Bytes, Bytes> map = new HashMap<>();
    private Bytes[] dense = new Bytes[4];
    private int size;
    private long bytes;

    int size() {
        return size;
    }

    /** The members' bytes (memory estimate). */
    long bytes() {
        return bytes;
    }

    boolean contains(Bytes m) {
        return map.containsKey(m);
    }

    /** Adds {@code m} (a probe is copied); true if it was not a member. */
    boolean add(Bytes m) {
        if (map.containsKey(m)) {
            return false;
        }
        Bytes own = m.copy();
        map.put(own, own);
        if (size == dense.length) {
            dense = Arrays.copyOf(dense, size * 2);
        }
        own.slot = size;
        dense[size++] = own;
        bytes += own.length();
        return true;
    }

    /** Removes {@code m}; true if it was a member. */
    boolean remove(Bytes m) {
        Bytes own = map.remove(m);
        if (own == null) {
            return false;
        }
        Bytes last = dense[--size];
        dense[own.slot] = last;
        last.slot = own.slot;
        dense[size] = null;
        bytes -= own.length();
        if (size == 0 && dense.length > 64) {
            dense = new Bytes[4];
        }
        return true;
    }

    /** The member at {@code i} (0 to size - 1). */
    Bytes at(int i) {
        return dense[i];
    }

    /** A random member; the set must not be empty. */
    Bytes random() {
        return dense[ThreadLocalRandom.current().nextInt(size)];
    }
}
