package org.epoll4j.examples.http;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A {@code Range: bytes=...} value read against a representation of known size (RFC 9110 14.1.2, 14.2): each
 * {@code first-last}, {@code first-} or {@code -suffix} resolved and clamped, unsatisfiable ones left out, then
 * overlapping or adjacent ones coalesced. One range left is a single-part 206; several are a
 * {@code multipart/byteranges} body (RFC 9110 14.6), built here. Reused per request (loop-thread only).
 *
 * <p>Refused, i.e. the Range ignored and the whole representation sent with 200 (RFC 9110 14.2 lets a server ignore
 * Range): a syntax error in any element, a unit other than bytes, or more than {@link #MAX} ranges (many small
 * ranges are a denial-of-service pattern, and a client asking for that many gains little over the whole file).
 */
final class ByteRanges {
    /** The most ranges served as parts; more and the Range is ignored. */
    static final int MAX = 16;
    /** What {@link #parse} found: ignore the Range (200), serve {@link #count} ranges (206), or none is there (416). */
    static final int IGNORE = 200;
    static final int SATISFIABLE = 206;
    static final int UNSATISFIABLE = 416;
    private static final String UNIT = "bytes=";

    /** The resolved ranges, inclusive, in the order they are sent: as asked, or ascending once coalesced. */
    final long[] first = new long[MAX];
    final long[] last = new long[MAX];
    int count;

    /** Reads the Range value {@code a[s, e)} against {@code size} bytes. */
    int parse(byte[] a, int s, int e, long size) {
        count = 0;
        if (e - s <= UNIT.length() || !RequestParser.equalsIgnoreCase(a, s, s + UNIT.length(), UNIT)) {
            return IGNORE;
        }
        int elements = 0;
        for (int at = s + UNIT.length(); at <= e; ) {
            int comma = at;
            while (comma < e && a[comma] != ',') {
                comma++;
            }
            int from = at;
            int to = comma;
            while (from < to && (a[from] == ' ' || a[from] == '\t')) { // OWS around list elements
                from++;
            }
            while (to > from && (a[to - 1] == ' ' || a[to - 1] == '\t')) {
                to--;
            }
            at = comma + 1;
            if (from == to) {
                continue; // an empty list element, which the list syntax allows
            }
            if (++elements > MAX) {
                return IGNORE;
            }
            int dash = indexOf(a, (byte) '-', from, to);
            if (dash < 0) {
                return IGNORE;
            }
            long f = number(a, from, dash);
            long l = number(a, dash + 1, to);
            if (f == -2 || l == -2 || (f == -1 && l == -1) || (f >= 0 && l != -1 && l < f)) {
                return IGNORE; // an invalid range-spec: the whole Range is ignored
            }
            if (f == -1) { // -suffix: the last l bytes
                if (l > 0 && size > 0) {
                    add(Math.max(0, size - l), size - 1);
                }
            } else if (f < size) {
                add(f, l == -1 || l >= size ? size - 1 : l);
            }
        }
        if (elements == 0) {
            return IGNORE;
        }
        if (count == 0) {
            return UNSATISFIABLE;
        }
        coalesce();
        return SATISFIABLE;
    }

    private void add(long f, long l) {
        first[count] = f;
        last[count] = l;
        count++;
    }

    /**
     * Ranges that overlap or touch become one (RFC 9110 14.2 lets a server coalesce them), so no byte is sent twice
     * and a client cannot multiply the file by asking for it over and over. Disjoint ranges keep the order they
     * were asked in (RFC 9110 14.6's SHOULD); once some are coalesced, all are sent in ascending order.
     */
    private void coalesce() {
        boolean disjoint = true;
        for (int i = 0; i < count && disjoint; i++) {
            for (int j = i + 1; j < count && disjoint; j++) {
                disjoint = first[j] > last[i] + 1 || first[i] > last[j] + 1;
            }
        }
        if (disjoint) {
            return;
        }
        for (int i = 1; i < count; i++) { // insertion sort by first byte: at most MAX elements
            long f = first[i];
            long l = last[i];
            int j = i - 1;
            while (j >= 0 && first[j] > f) {
                first[j + 1] = first[j];
                last[j + 1] = last[j];
                j--;
            }
            first[j + 1] = f;
            last[j + 1] = l;
        }
        int n = 0;
        for (int i = 1; i < count; i++) {
            if (first[i] <= last[n] + 1) {
                last[n] = Math.max(last[n], last[i]);
            } else {
                n++;
                first[n] = first[i];
                last[n] = last[i];
            }
        }
        count = n + 1;
    }

    /** Bytes in range {@code i}. */
    long length(int i) {
        return last[i] - first[i] + 1;
    }

    /** A boundary for one multipart body: random, so that it is all but certainly absent from the file's bytes. */
    static String boundary() {
        return "epoll4j-" + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    }

    /**
     * The head of part {@code i}: the delimiter, then the part's Content-Type (the file's) and Content-Range. The
     * part's bytes follow, then {@code CRLF}, which belongs to the next delimiter (RFC 2046 5.1.1).
     */
    byte[] partHead(int i, String boundary, String contentType, long size) {
        return ("--" + boundary + "\r\nContent-Type: " + contentType + "\r\nContent-Range: bytes " + first[i] + "-"
                + last[i] + "/" + size + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** The close delimiter that ends the body. */
    static byte[] closing(String boundary) {
        return ("--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** The whole multipart body's length: every part's head, bytes and CRLF, then the close delimiter. */
    long multipartLength(String boundary, String contentType, long size) {
        long n = closing(boundary).length;
        for (int i = 0; i < count; i++) {
            n += partHead(i, boundary, contentType, size).length + length(i) + 2;
        }
        return n;
    }

    /** Decimal digits in {@code a[s, e)}: -1 if empty, -2 if not digits; saturates at Long.MAX_VALUE. */
    private static long number(byte[] a, int s, int e) {
        if (s == e) {
            return -1;
        }
        long v = 0;
        for (int i = s; i < e; i++) {
            if (a[i] < '0' || a[i] > '9') {
                return -2;
            }
            v = v > (Long.MAX_VALUE - 9) / 10 ? Long.MAX_VALUE : v * 10 + (a[i] - '0');
        }
        return v;
    }

    private static int indexOf(byte[] a, byte b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
