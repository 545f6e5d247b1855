package org.epoll4j.examples.http;

import java.nio.charset.StandardCharsets;

/**
 * HTTP dates (RFC 9110 5.6.7): formatted as IMF-fixdate ({@code Sun, 06 Nov 1994 08:49:37 GMT}), parsed in all three
 * forms, into and from byte arrays without allocating (no java.time on the request path).
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
     * Parses an HTTP-date in any of the three forms a recipient must accept (RFC 9110 5.6.7): IMF-fixdate
     * ({@code Sun, 06 Nov 1994 08:49:37 GMT}), the obsolete RFC 850 form ({@code Sunday, 06-Nov-94 08:49:37 GMT},
     * a two-digit year more than 50 years ahead meaning the previous century) and asctime
     * ({@code Sun Nov  6 08:49:37 1994}). The day name is not checked against the date.
     *
     * @param a    the bytes
     * @param from the first byte
     * @param to   one past the last byte
     * @return seconds since the epoch, or -1 if the bytes are none of the three forms
     */
    static long parse(byte[] a, int from, int to) {
        int n = to - from;
        if (n == LENGTH && a[from + 3] == ',') {
            return imfFixdate(a, from);
        }
        if (n == 24 && a[from + 3] == ' ') {
            return asctime(a, from);
        }
        int comma = -1;
        for (int i = from; i < to && i < from + 10; i++) {
            if (a[i] == ',') {
                comma = i;
                break;
            }
        }
        if (comma > from && to - comma == 24) {
            return rfc850(a, comma + 1);
        }
        return -1;
    }

    private static long imfFixdate(byte[] a, int from) {
        if (a[from + 4] != ' ' || a[from + 7] != ' ' || a[from + 11] != ' ' || a[from + 16] != ' '
                || !gmt(a, from + 25)) {
            return -1;
        }
        return civil(digits(a, from + 12, 4), month(a, from + 8), digits(a, from + 5, 2), a, from + 17);
    }

    /** {@code , 06-Nov-94 08:49:37 GMT} from the comma's next byte (a space). */
    private static long rfc850(byte[] a, int at) {
        if (a[at] != ' ' || a[at + 3] != '-' || a[at + 7] != '-' || a[at + 10] != ' ' || !gmt(a, at + 19)) {
            return -1;
        }
        int yy = digits(a, at + 8, 2);
        if (yy < 0) {
            return -1;
        }
        long nowYear = 1970 + System.currentTimeMillis() / 31_556_952_000L;
        int year = 2000 + yy;
        while (year > nowYear + 50) {
            year -= 100;
        }
        return civil(year, month(a, at + 4), digits(a, at + 1, 2), a, at + 11);
    }

    /** {@code Sun Nov  6 08:49:37 1994}: the day is space-padded. */
    private static long asctime(byte[] a, int from) {
        if (a[from + 7] != ' ' || a[from + 10] != ' ' || a[from + 19] != ' ') {
            return -1;
        }
        int day = a[from + 8] == ' ' ? digits(a, from + 9, 1) : digits(a, from + 8, 2);
        return civil(digits(a, from + 20, 4), month(a, from + 4), day, a, from + 11);
    }

    private static boolean gmt(byte[] a, int at) {
        return a[at] == ' ' && a[at + 1] == 'G' && a[at + 2] == 'M' && a[at + 3] == 'T';
    }

    private static int month(byte[] a, int at) {
        for (int m = 0; m < 12; m++) {
            if (a[at] == MONTHS[m * 3] && a[at + 1] == MONTHS[m * 3 + 1] && a[at + 2] == MONTHS[m * 3 + 2]) {
                return m + 1;
            }
        }
        return -1;
    }

    /** Seconds since the epoch of a civil date and an {@code HH:MM:SS} at {@code time}; -1 if out of range. */
    private static long civil(int year, int month, int day, byte[] a, int time) {
        if (a[time + 2] != ':' || a[time + 5] != ':') {
            return -1;
        }
        int hour = digits(a, time, 2);
        int minute = digits(a, time + 3, 2);
        int second = digits(a, time + 6, 2);
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
