package org.epoll4j.examples.resp;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A binary-safe key: a range of bytes compared by content. Keys stored in the keyspace own their array; one mutable
 * probe per handler is re-pointed at a request's bytes to look keys up without copying them. Comparable, so that a
 * {@link java.util.HashMap} bucket flooded with colliding keys turns into a tree (O(log n)) instead of a list.
 */
final class Bytes implements Comparable<Bytes> {
    private byte[] a;
    private int off;
    private int len;
    private int hash;
    /** Where a set keeps this member in its dense array ({@link ByteSet}). */
    int slot;

    private Bytes(byte[] a, int off, int len) {
        set(a, off, len);
    }

    /** A key that owns a copy of {@code a[off, off + len)}. */
    static Bytes copyOf(byte[] a, int off, int len) {
        return new Bytes(Arrays.copyOfRange(a, off, off + len), 0, len);
    }

    /** A key over {@code a} itself (the caller gives up the array). */
    static Bytes wrap(byte[] a) {
        return new Bytes(a, 0, a.length);
    }

    /** A key over ASCII text (tests, constants). */
    static Bytes of(String ascii) {
        return wrap(ascii.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** A probe to re-point with {@link #set}; never store it. */
    static Bytes probe() {
        return new Bytes(new byte[0], 0, 0);
    }

    /** Re-points this probe at {@code a[off, off + len)}. */
    Bytes set(byte[] a, int off, int len) {
        this.a = a;
        this.off = off;
        this.len = len;
        int h = 1;
        for (int i = off, end = off + len; i < end; i++) {
            h = 31 * h + a[i];
        }
        this.hash = h;
        return this;
    }

    /** An owning copy of this (possibly probe) key. */
    Bytes copy() {
        return copyOf(a, off, len);
    }

    /** The key's bytes (a fresh array). */
    byte[] toArray() {
        return Arrays.copyOfRange(a, off, off + len);
    }

    int length() {
        return len;
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Bytes)) {
            return false;
        }
        Bytes b = (Bytes) o;
        return hash == b.hash && Arrays.equals(a, off, off + len, b.a, b.off, b.off + b.len);
    }

    @Override
    public int compareTo(Bytes b) {
        return Arrays.compareUnsigned(a, off, off + len, b.a, b.off, b.off + b.len);
    }

    @Override
    public String toString() {
        return new String(a, off, len, StandardCharsets.ISO_8859_1);
    }
}
