package org.epoll4j.examples.http;

/**
 * Finds and parses HTTP/1.1 request heads (RFC 9112) in byte arrays, strictly: anything a lenient parser might read
 * differently from a proxy in front of it (bare LF or CR, obs-fold, whitespace before a colon, several or invalid
 * Content-Lengths, Content-Length with Transfer-Encoding) is rejected, so requests cannot be smuggled past it.
 */
final class RequestParser {
    /** {@link #findEnd} found a LF without its CR. */
    static final int BARE_LF = -2;
    /** {@link #findEnd} needs more bytes. */
    static final int INCOMPLETE = -1;

    private static final boolean[] TOKEN = new boolean[128];

    static {
        for (char c = '0'; c <= '9'; c++) {
            TOKEN[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            TOKEN[c] = true;
            TOKEN[c - 32] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TOKEN[c] = true;
        }
    }

    private RequestParser() {
    }

    /**
     * Looks for the blank line that ends a head.
     *
     * @param a       the bytes
     * @param from    where the head starts
     * @param scanAt  where to resume looking (bytes before it were already looked at and are still in place)
     * @param to      one past the last byte available
     * @return the offset one past the head's final CRLF, {@link #INCOMPLETE}, or {@link #BARE_LF}
     */
    static int findEnd(byte[] a, int from, int scanAt, int to) {
        for (int i = Math.max(from, scanAt); i < to; i++) {
            if (a[i] != '\n') {
                continue;
            }
            if (i == from || a[i - 1] != '\r') {
                return BARE_LF;
            }
            if (i - from >= 3 && a[i - 2] == '\n') {
                return i + 1; // a[i - 3] is '\r': every earlier LF was checked for its CR
            }
        }
        return INCOMPLETE;
    }

    /**
     * Parses the head in {@code a[from, end)}, which ends with CRLF CRLF (as {@link #findEnd} found it).
     *
     * @param a    the bytes
     * @param from the first byte of the request line
     * @param end  one past the final CRLF
     * @param r    filled in
     * @return 0 if the head is acceptable, else the status to answer with (400, 413, 501, 505)
     */
    static int parse(byte[] a, int from, int end, Request r) {
        r.reset();
        int p = from;
        // request-line = method SP request-target SP HTTP-version CRLF
        int ms = p;
        while (isToken(a[p])) {
            p++;
        }
        if (p == ms || a[p] != ' ') {
            return 400;
        }
        r.method = method(a, ms, p);
        int ts = ++p;
        while (a[p] > 0x20 && a[p] != 0x7f) { // visible ASCII; negative bytes (non-ASCII) stop it too
            p++;
        }
        if (p == ts || a[p] != ' ') {
            return 400;
        }
        r.targetStart = ts;
        r.targetEnd = p;
        p++;
        if (end - p < 10 || a[p] != 'H' || a[p + 1] != 'T' || a[p + 2] != 'T' || a[p + 3] != 'P' || a[p + 4] != '/'
                || !isDigit(a[p + 5]) || a[p + 6] != '.' || !isDigit(a[p + 7]) || a[p + 8] != '\r'
                || a[p + 9] != '\n') {
            return 400;
        }
        if (a[p + 5] != '1') {
            return 505; // HTTP/0.x, 2.0, 3 ...: a major version we do not speak over this framing
        }
        r.minor = a[p + 7] == '0' ? 0 : 1; // HTTP/1.2 and up: served as the highest 1.x we do (RFC 9110 6.2)
        r.lineStart = from;
        r.lineEnd = p + 8;
        p += 10;
        // *( field-line CRLF ) CRLF
        while (true) {
            if (a[p] == '\r') {
                if (a[p + 1] == '\n' && p + 2 == end) {
                    break;
                }
                return 400;
            }
            if (a[p] == ' ' || a[p] == '\t') {
                return 400; // obs-fold: a line continuation proxies disagree about
            }
            int ns = p;
            while (isToken(a[p])) {
                p++;
            }
            if (p == ns || a[p] != ':') {
                return 400; // empty name, a non-token byte, or whitespace before the colon
            }
            int ne = p++;
            while (a[p] == ' ' || a[p] == '\t') {
                p++;
            }
            int vs = p;
            while (a[p] != '\r') {
                byte c = a[p];
                if ((c < 0x20 && c >= 0 && c != '\t') || c == 0x7f) {
                    return 400; // control bytes, NUL included
                }
                p++;
            }
            if (a[p + 1] != '\n') {
                return 400; // bare CR
            }
            int ve = p;
            while (ve > vs && (a[ve - 1] == ' ' || a[ve - 1] == '\t')) {
                ve--;
            }
            int status = field(r, a, ns, ne, vs, ve);
            if (status != 0) {
                return status;
            }
            p += 2;
        }
        if (r.transferEncoding && r.contentLength >= 0) {
            return 400; // the classic smuggling pair: which one frames the body depends on who reads it
        }
        if (r.transferEncoding) {
            if (r.minor == 0 || r.chunkedNotFinal || !r.chunked) {
                return 400; // RFC 9112 6.1: unknown body length (and 1.0 framing is faulty with it): close
            }
            if (r.otherCoding) {
                return 501; // chunked last, but a coding we do not decode (gzip, chunked)
            }
        }
        if (r.hostHeaders > 1 || (r.minor == 1 && r.hostHeaders == 0)) {
            return 400; // RFC 9112 3.2: exactly one Host in HTTP/1.1
        }
        return 0;
    }

    private static int field(Request r, byte[] a, int ns, int ne, int vs, int ve) {
        switch (ne - ns) {
            case 4:
                if (nameIs(a, ns, "host")) {
                    r.hostHeaders++;
                    return validHost(a, vs, ve) ? 0 : 400;
                }
                return 0;
            case 5:
                if (nameIs(a, ns, "range")) {
                    r.rangeStart = r.rangeStart == -1 ? vs : -2;
                    r.rangeEnd = ve;
                }
                return 0;
            case 8:
                if (nameIs(a, ns, "if-range")) {
                    r.ifRangeStart = vs;
                    r.ifRangeEnd = ve;
                }
                return 0;
            case 13:
                if (nameIs(a, ns, "if-none-match")) {
                    r.ifNoneMatchStart = r.ifNoneMatchStart == -1 ? vs : -2;
                    r.ifNoneMatchEnd = ve;
                }
                return 0;
            case 15:
                if (nameIs(a, ns, "accept-encoding")) {
                    r.acceptEncodingStart = vs;
                    r.acceptEncodingEnd = ve;
                }
                return 0;
            case 6:
                if (nameIs(a, ns, "expect")) {
                    if (equalsIgnoreCase(a, vs, ve, "100-continue")) {
                        r.expectContinue = true;
                    } else {
                        r.expectOther = true;
                    }
                }
                return 0;
            case 10:
                if (nameIs(a, ns, "connection")) {
                    connection(r, a, vs, ve);
                }
                return 0;
            case 14:
                return nameIs(a, ns, "content-length") ? contentLength(r, a, vs, ve) : 0;
            case 17:
                if (nameIs(a, ns, "transfer-encoding")) {
                    r.transferEncoding = true;
                    transferCodings(r, a, vs, ve);
                } else if (nameIs(a, ns, "if-modified-since")) {
                    r.ifModifiedSinceStart = vs;
                    r.ifModifiedSinceEnd = ve;
                }
                return 0;
            default:
                return 0;
        }
    }

    private static int contentLength(Request r, byte[] a, int vs, int ve) {
        if (vs == ve) {
            return 400;
        }
        long v = 0;
        for (int i = vs; i < ve; i++) {
            if (!isDigit(a[i])) {
                return 400; // signs, spaces, commas ("5, 5") and hex are all invalid
            }
            if (i - vs >= 18) {
                return 413; // a valid number, but far above any body limit (and long's range)
            }
            v = v * 10 + (a[i] - '0');
        }
        if (r.contentLength >= 0 && r.contentLength != v) {
            return 400;
        }
        r.contentLength = v;
        return 0;
    }

    /**
     * Reads a Transfer-Encoding list (several fields add up): records whether chunked is the last coding and
     * appears once, and whether any other coding appears. Parameters ({@code ;q=...}) are ignored.
     */
    private static void transferCodings(Request r, byte[] a, int vs, int ve) {
        int i = vs;
        while (i < ve) {
            int s = i;
            while (i < ve && a[i] != ',') {
                i++;
            }
            int e = i;
            for (int k = s; k < e; k++) {
                if (a[k] == ';') {
                    e = k;
                    break;
                }
            }
            while (s < e && (a[s] == ' ' || a[s] == '\t')) {
                s++;
            }
            while (e > s && (a[e - 1] == ' ' || a[e - 1] == '\t')) {
                e--;
            }
            if (s < e) {
                if (equalsIgnoreCase(a, s, e, "chunked")) {
                    if (r.chunked) {
                        r.chunkedNotFinal = true; // applied twice
                    }
                    r.chunked = true;
                } else {
                    if (r.chunked) {
                        r.chunkedNotFinal = true; // something after chunked
                    }
                    r.otherCoding = true;
                }
            }
            i++;
        }
    }

    /**
     * Whether a Host value is {@code uri-host [":" port]} (RFC 9112 3.2, RFC 3986 3.2.2): an empty value, an IP
     * literal in brackets, or reg-name characters (unreserved, sub-delims, percent-escapes), then an optional port.
     */
    static boolean validHost(byte[] a, int vs, int ve) {
        int i = vs;
        if (i < ve && a[i] == '[') {
            while (i < ve && a[i] != ']') {
                byte c = a[i];
                if (!(isHex(c) || c == ':' || c == '.' || c == '[' || c == 'v' || c == 'V')) {
                    return false;
                }
                i++;
            }
            if (i == ve) {
                return false;
            }
            i++;
        } else {
            while (i < ve && a[i] != ':') {
                byte c = a[i];
                if (c == '%') {
                    if (i + 2 >= ve || !isHex(a[i + 1]) || !isHex(a[i + 2])) {
                        return false;
                    }
                    i += 3;
                    continue;
                }
                boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c)
                        || "-._~!$&'()*+,;=".indexOf(c) >= 0;
                if (!ok) {
                    return false;
                }
                i++;
            }
        }
        if (i == ve) {
            return true;
        }
        if (a[i] != ':' || ve - i - 1 > 5) {
            return false;
        }
        for (int k = i + 1; k < ve; k++) {
            if (!isDigit(a[k])) {
                return false;
            }
        }
        return true;
    }

    private static boolean isHex(byte c) {
        return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static void connection(Request r, byte[] a, int vs, int ve) {
        int i = vs;
        while (i < ve) {
            int s = i;
            while (i < ve && a[i] != ',') {
                i++;
            }
            int e = i;
            while (s < e && (a[s] == ' ' || a[s] == '\t')) {
                s++;
            }
            while (e > s && (a[e - 1] == ' ' || a[e - 1] == '\t')) {
                e--;
            }
            if (equalsIgnoreCase(a, s, e, "close")) {
                r.connectionClose = true;
            } else if (equalsIgnoreCase(a, s, e, "keep-alive")) {
                r.connectionKeepAlive = true;
            }
            i++;
        }
    }

    private static int method(byte[] a, int s, int e) {
        int n = e - s;
        if (n == 3 && a[s] == 'G' && a[s + 1] == 'E' && a[s + 2] == 'T') {
            return Request.GET;
        }
        if (n == 4 && a[s] == 'H' && a[s + 1] == 'E' && a[s + 2] == 'A' && a[s + 3] == 'D') {
            return Request.HEAD;
        }
        if (n == 4 && a[s] == 'P' && a[s + 1] == 'O' && a[s + 2] == 'S' && a[s + 3] == 'T') {
            return Request.POST;
        }
        return Request.OTHER;
    }

    /** Compares a header name, whose length the caller checked, with a lower-case constant. */
    private static boolean nameIs(byte[] a, int s, String lower) {
        for (int i = 0; i < lower.length(); i++) {
            if ((a[s + i] | 0x20) != lower.charAt(i)) { // names are tokens: '|0x20' only folds letters ('-' is 0x2d)
                return false;
            }
        }
        return true;
    }

    static boolean equalsIgnoreCase(byte[] a, int s, int e, String lower) {
        if (e - s != lower.length()) {
            return false;
        }
        for (int i = 0; i < lower.length(); i++) {
            int c = a[s + i];
            if (c >= 'A' && c <= 'Z') {
                c += 32;
            }
            if (c != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    static boolean isToken(byte b) {
        return b >= 0 && TOKEN[b];
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }
}
