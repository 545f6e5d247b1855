package org.epoll4j.examples.http;

/**
 * Reads the request fields that choose or validate a representation, in place in the head's bytes: If-None-Match
 * entity-tag lists (weak comparison, RFC 9110 8.8.3.2) and Accept-Encoding with q-values (RFC 9110 12.5.3).
 */
final class Negotiation {
    private Negotiation() {
    }

    /**
     * Whether an If-None-Match list names {@code etag} under the weak comparison ({@code W/} is ignored on both
     * sides), or is {@code *}.
     *
     * @param etag the current representation's entity-tag, quoted
     */
    static boolean noneMatchHits(byte[] a, int s, int e, String etag) {
        int i = s;
        while (i < e) {
            byte b = a[i];
            if (b == ' ' || b == '\t' || b == ',') {
                i++;
                continue;
            }
            if (b == '*') {
                return true;
            }
            if (b == 'W' && i + 1 < e && a[i + 1] == '/') {
                i += 2;
            }
            if (i >= e || a[i] != '"') {
                return false; // not an entity-tag list: treated as no match
            }
            int close = i + 1;
            while (close < e && a[close] != '"') {
                close++;
            }
            if (close == e) {
                return false;
            }
            int tagStart = etag.startsWith("W/") ? 2 : 0;
            if (sameBytes(a, i, close + 1, etag.substring(tagStart))) {
                return true;
            }
            i = close + 1;
        }
        return false;
    }

    /** Whether {@code a[s, e)} is exactly {@code text} (ASCII). */
    static boolean sameBytes(byte[] a, int s, int e, String text) {
        if (e - s != text.length()) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (a[s + i] != text.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether an Accept-Encoding value accepts gzip: its own entry ({@code gzip} or {@code x-gzip}) decides by its
     * q-value; without one, {@code *} does; without either, gzip is not acceptable. {@code q=0} refuses.
     */
    static boolean acceptsGzip(byte[] a, int s, int e) {
        int gzip = -1;
        int any = -1;
        int i = s;
        while (i < e) {
            int es = i;
            while (i < e && a[i] != ',') {
                i++;
            }
            int ee = i++;
            int semi = es;
            while (semi < ee && a[semi] != ';') {
                semi++;
            }
            int ns = trimStart(a, es, semi);
            int ne = trimEnd(a, ns, semi);
            int q = semi < ee ? qValue(a, semi + 1, ee) : 1000;
            if (RequestParser.equalsIgnoreCase(a, ns, ne, "gzip") || RequestParser.equalsIgnoreCase(a, ns, ne, "x-gzip")) {
                gzip = Math.max(gzip, q);
            } else if (ne - ns == 1 && a[ns] == '*') {
                any = q;
            }
        }
        return gzip >= 0 ? gzip > 0 : any > 0;
    }

    /** The q parameter among {@code ;}-separated parameters, in thousandths; 1000 without one, 0 if malformed. */
    private static int qValue(byte[] a, int s, int e) {
        int i = s;
        while (i < e) {
            int ps = trimStart(a, i, e);
            int pe = ps;
            while (pe < e && a[pe] != ';') {
                pe++;
            }
            i = pe + 1;
            int end = trimEnd(a, ps, pe);
            if (end - ps >= 2 && (a[ps] | 0x20) == 'q' && a[ps + 1] == '=') {
                return parseQ(a, ps + 2, end);
            }
        }
        return 1000;
    }

    /** {@code qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )}, in thousandths; malformed: 0. */
    private static int parseQ(byte[] a, int s, int e) {
        if (s == e || (a[s] != '0' && a[s] != '1')) {
            return 0;
        }
        int v = (a[s] - '0') * 1000;
        if (s + 1 == e) {
            return v;
        }
        if (a[s + 1] != '.' || e - s - 2 > 3) {
            return 0;
        }
        int scale = 100;
        for (int i = s + 2; i < e; i++, scale /= 10) {
            if (a[i] < '0' || a[i] > '9') {
                return 0;
            }
            v += (a[i] - '0') * scale;
        }
        return Math.min(v, 1000);
    }

    private static int trimStart(byte[] a, int s, int e) {
        while (s < e && (a[s] == ' ' || a[s] == '\t')) {
            s++;
        }
        return s;
    }

    private static int trimEnd(byte[] a, int s, int e) {
        while (e > s && (a[e - 1] == ' ' || a[e - 1] == '\t')) {
            e--;
        }
        return e;
    }
}
