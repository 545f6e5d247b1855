package org.epoll4j.examples.http;

import java.nio.charset.StandardCharsets;

/**
 * HTTP dates in the IMF-fixdate form of RFC 9110 ({@code Sun, 06 Nov 1994 08:49:37 GMT}), formatted into and parsed
 * from byte arrays without allocating (no java.time on the request path).
 */
final class HttpDates {
    /** Length of an IMF-fixdate. */
    static final int LENGTH = 29;

    private static final byte[] DAYS = "ThuFriSatSunMonTueWed".getBytes(StandardCharsets.US_ASCII); // day 0: a Thursday
    private static final byte[] MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec".getBytes(StandardCharsets.US_ASCII);

    private HttpDates() {
    }

    /**
     * Writes {@code epochSecond} as an IMF-fixdate into {@code dst} at {@code off} ({@link #LENGTH} bytes).
     *
     * @param epochSecond seconds since 1970-01-01T00:00:00Z, years 0..9999
     * @param dst         the destination
     * @param off         where to start
     */
    static void format(long epochSecond, byte[] dst, int off) {
        long days = Math.floorDiv(epochSecond, 86_400L);
        int secs = (int) Math.floorMod(epochSecond, 86_400L);
        int dow = (int) Math.floorMod(days, 7L);
        // Civil date from a day count (H. Hinnant's algorithm): eras of 400 years, March-based years.
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097L);
        long doe = z - era * 146_097;
        long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        int day = (int) (doy - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        int year = (int) (yoe + era * 400 + (month <= 2 ? 1 : 0));
        System.arraycopy(DAYS, dow * 3, dst, off, 3);
        dst[off + 3] = ',';
        dst[off + 4] = ' ';
        two(dst, off + 5, day);
        dst[off + 7] = ' ';
        System.arraycopy(MONTHS, (month - 1) * 3, dst, off + 8, 3);
        dst[off + 11] = ' ';
        two(dst, off + 12, year / 100);
        two(dst, off + 14, year % 100);
        dst[off + 16] = ' ';
        two(dst, off + 17, secs / 3600);
        dst[off + 19] = ':';
        two(dst, off + 20, secs / 60 % 60);
        dst[off + 22] = ':';
        two(dst, off + 23, secs % 60);
        dst[off + 25] = ' ';
        dst[off + 26] = 'G';
        dst[off + 27] = 'M';
        dst[off + 28] = 'T';
    }

    /** The IMF-fixdate of {@code epochSecond} as a String (tests, logs). */
    static String format(long epochSecond) {
        byte[] b = new byte[LENGTH];
        format(epochSecond, b, 0);
        return new String(b, StandardCharsets.US_ASCII);
    }

    private static void two(byte[] dst, int at, int v) {
        dst[at] = (byte) ('0' + v / 10);
        dst[at + 1] = (byte) ('0' + v % 10);
    }

    /**
     * Parses an IMF-fixdate (the only form a sender may generate; the obsolete RFC 850 and asctime forms are not
     * accepted, so an If-Modified-Since in them is ignored, which is always safe).
     *
     * @param a    the bytes
     * @param from the first byte
     * @param to   one past the last byte
     * @return seconds since the epoch, or -1 if the bytes are not an IMF-fixdate
     */
    static long parse(byte[] a, int from, int to) {
        if (to - from != LENGTH || a[from + 3] != ',' || a[from + 4] != ' ' || a[from + 7] != ' '
                || a[from + 11] != ' ' || a[from + 16] != ' ' || a[from + 19] != ':' || a[from + 22] != ':'
                || a[from + 25] != ' ' || a[from + 26] != 'G' || a[from + 27] != 'M' || a[from + 28] != 'T') {
            return -1;
        }
        int month = -1;
        for (int m = 0; m < 12; m++) {
            if (a[from + 8] == MONTHS[m * 3] && a[from + 9] == MONTHS[m * 3 + 1] && a[from + 10] == MONTHS[m * 3 + 2]) {
                month = m + 1;
                break;
            }
        }
        int day = digits(a, from + 5, 2);
        int year = digits(a, from + 12, 4);
        int hour = digits(a, from + 17, 2);
        int minute = digits(a, from + 20, 2);
        int second = digits(a, from + 23, 2);
        if (month < 0 || day < 1 || day > 31 || year < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59
                || second < 0 || second > 60) {
            return -1;
        }
        // Days from a civil date: the inverse of format's algorithm.
        long y = month <= 2 ? year - 1 : year;
        long era = Math.floorDiv(y, 400L);
        long yoe = y - era * 400;
        long doy = (153L * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        long days = era * 146_097 + doe - 719_468;
        return days * 86_400 + hour * 3600L + minute * 60L + second;
    }

    private static int digits(byte[] a, int at, int n) {
        int v = 0;
        for (int i = at; i < at + n; i++) {
            int d = a[i] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v;
    }
}
