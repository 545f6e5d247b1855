package org.epoll4j.examples.resp;

/** Decimal integers exactly as Redis's {@code string2ll} reads them: no sign but '-', no leading zeros or spaces. */
final class Numbers {
    private Numbers() {
    }

    /** Whether {@code a[off, off + len)} is a 64-bit integer. */
    static boolean isLong(byte[] a, int off, int len) {
        if (len == 0 || len > 20) {
            return false;
        }
        int i = off;
        int end = off + len;
        boolean negative = a[i] == '-';
        if (negative) {
            i++;
            if (i == end) {
                return false;
            }
        }
        if (a[i] == '0') {
            return i + 1 == end && !negative;
        }
        long v = 0;
        for (; i < end; i++) {
            int d = a[i] - '0';
            if (d < 0 || d > 9) {
                return false;
            }
            // accumulate negatively: Long.MIN_VALUE has no positive counterpart
            if (v < (Long.MIN_VALUE + d) / 10) {
                return false;
            }
            v = v * 10 - d;
        }
        return negative || v != Long.MIN_VALUE;
    }

    /** The value of an integer {@link #isLong} accepted. */
    static long parseLong(byte[] a, int off, int len) {
        int i = off;
        int end = off + len;
        boolean negative = a[i] == '-';
        if (negative) {
            i++;
        }
        long v = 0;
        for (; i < end; i++) {
            v = v * 10 - (a[i] - '0');
        }
        return negative ? v : -v;
    }

    /** {@code v} in decimal ASCII. */
    static byte[] toBytes(long v) {
        return Long.toString(v).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
