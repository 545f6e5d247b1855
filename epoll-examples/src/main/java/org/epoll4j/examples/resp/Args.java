package org.epoll4j.examples.resp;

import java.util.Arrays;

/**
 * The arguments of one parsed request, as ranges of a byte array (the read buffer, or a decoded inline line): no
 * argument is copied until a command stores it.
 */
final class Args {
    byte[] data;
    int base;
    int argc;
    int[] off = new int[8];
    int[] len = new int[8];

    /** Appends an argument at {@code data[base + offset]}; the arrays grow only as arguments arrive. */
    void add(int offset, int length) {
        if (argc == off.length) {
            off = Arrays.copyOf(off, argc * 2);
            len = Arrays.copyOf(len, argc * 2);
        }
        off[argc] = offset;
        len[argc] = length;
        argc++;
    }

    int offset(int i) {
        return base + off[i];
    }

    int length(int i) {
        return len[i];
    }

    /** A copy of these arguments that owns its bytes (a request queued by MULTI). */
    Args snapshot() {
        Args c = new Args();
        int from = base + off[0];
        int to = base + off[argc - 1] + len[argc - 1];
        int lo = from;
        int hi = to;
        for (int i = 0; i < argc; i++) {
            lo = Math.min(lo, base + off[i]);
            hi = Math.max(hi, base + off[i] + len[i]);
        }
        c.data = Arrays.copyOfRange(data, lo, hi);
        c.base = 0;
        c.argc = argc;
        c.off = new int[argc];
        c.len = Arrays.copyOf(len, argc);
        for (int i = 0; i < argc; i++) {
            c.off[i] = base + off[i] - lo;
        }
        return c;
    }

    /** An owning argument list of the given words (tests, internal calls). */
    static Args of(byte[]... words) {
        Args c = new Args();
        int total = 0;
        for (byte[] w : words) {
            total += w.length;
        }
        c.data = new byte[total];
        int at = 0;
        for (byte[] w : words) {
            System.arraycopy(w, 0, c.data, at, w.length);
            c.add(at, w.length);
            at += w.length;
        }
        return c;
    }

    /** A copy of argument {@code i}. */
    byte[] copy(int i) {
        int o = base + off[i];
        return Arrays.copyOfRange(data, o, o + len[i]);
    }

    /** Points {@code probe} at argument {@code i}. */
    Bytes key(Bytes probe, int i) {
        return probe.set(data, base + off[i], len[i]);
    }

    /** Whether argument {@code i} is {@code lower} (an ASCII lower-case word), ignoring ASCII case. */
    boolean is(int i, String lower) {
        int n = len[i];
        if (n != lower.length()) {
            return false;
        }
        int o = base + off[i];
        for (int k = 0; k < n; k++) {
            int c = data[o + k];
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != lower.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** Whether argument {@code i} is an integer the way Redis's {@code string2ll} accepts one. */
    boolean isLong(int i) {
        return Numbers.isLong(data, base + off[i], len[i]);
    }

    /** Argument {@code i} as a long; call {@link #isLong} first. */
    long toLong(int i) {
        return Numbers.parseLong(data, base + off[i], len[i]);
    }

    /** Argument {@code i} as text, one char per byte (for messages). */
    String text(int i) {
        return new String(data, base + off[i], len[i], java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
