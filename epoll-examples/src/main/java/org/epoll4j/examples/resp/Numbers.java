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

    /** Whether {@code s} is a float as Redis's string2ld reads one (no spaces, not NaN). */
    static double parseDouble(String s) {
        if (s.isEmpty() || Character.isWhitespace(s.charAt(0)) || Character.isWhitespace(s.charAt(s.length() - 1))) {
            return Double.NaN;
        }
        String t = s.toLowerCase(java.util.Locale.ROOT);
        switch (t) {
            case "inf": case "+inf": case "infinity": case "+infinity":
                return Double.POSITIVE_INFINITY;
            case "-inf": case "-infinity":
                return Double.NEGATIVE_INFINITY;
            default:
                break;
        }
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (!(c >= '0' && c <= '9') && c != '.' && c != 'e' && c != '-' && c != '+') {
                return Double.NaN; // Java would accept hex floats, 'd'/'f' suffixes and "NaN"
            }
        }
        try {
            return Double.parseDouble(t);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** {@code d} as INCRBYFLOAT prints it: plain digits, no exponent, no trailing zeros. */
    static String formatDouble(double d) {
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e17) {
            return Long.toString((long) d);
        }
        return new java.math.BigDecimal(Double.toString(d)).stripTrailingZeros().toPlainString();
    }
}
