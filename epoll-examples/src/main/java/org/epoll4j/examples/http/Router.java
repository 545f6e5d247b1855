package org.epoll4j.examples.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Routing and responses of one request: the built-in routes, static files (validators, conditionals, ranges,
 * sendfile), errors. Writes through a {@link ResponseWriter} into a {@link ResponseWriter.Sink}, so the callback
 * server ({@link HttpHandler}, one per reactor) and the {@code --blocking} one ({@link BlockingHttp}, one per
 * connection) share it. One thread at a time.
 */
final class Router {
    /** The prefix of the built-in routes, so that they never hide a file of --root. */
    static final String BUILTIN = "/_epoll4j";
    private static final byte[] PLAINTEXT = ascii("/plaintext");
    private static final byte[] ECHO = ascii("/echo");
    private static final byte[] BUILTIN_PLAINTEXT = ascii(BUILTIN + "/plaintext");
    private static final byte[] BUILTIN_ECHO = ascii(BUILTIN + "/echo");
    private static final byte[] ROOT = ascii("/");
    private static final byte[] CRLF = ascii("\r\n");
    private static final String GET_HEAD = "GET, HEAD";
    private static final String[] SCHEMES = {"http://", "https://"};

    // What respond() did: answered; answered with a head whose body is the request's (echo); the target was bad
    // (400); the connection was aborted.
    static final int DONE = 0;
    static final int ECHOING = 1;
    static final int FAILED = 2;
    static final int ABORTED = 3;

    private final HttpSettings settings;
    private final ResponseWriter writer;
    /** Set by respond(): an {@code Expect: 100-continue} body the target does not take; the connection closes. */
    boolean refusedBody;
    /** This router's cache of file lookups (made on the first file request). */
    private FileCache fileCache;
    /** The request's Range, read against the file (reused). */
    private final ByteRanges ranges = new ByteRanges();

    Router(HttpSettings settings, ResponseWriter writer) {
        this.settings = settings;
        this.writer = writer;
    }

    /** Routes a well-formed request and writes its response head (and body unless it comes from the stream). */
    int respond(ResponseWriter.Sink c, Request r, byte[] a, int conn, boolean bodyComing) {
        boolean headOnly = r.method == Request.HEAD;
        boolean getOrHead = r.method == Request.GET || headOnly;
        int ts = r.targetStart;
        int te = r.targetEnd;
        byte[] pa = a;
        int ps = ts;
        if (a[ts] != '/') {
            // absolute-form (RFC 9112 3.2.2): http://authority/path; the authority is not used to pick a root
            int after = schemeEnd(a, ts, te);
            if (after < 0) {
                return FAILED; // authority-form, asterisk-form, or garbage
            }
            ps = indexOf(a, (byte) '/', after, te);
            if (ps < 0) {
                pa = ROOT;
                ps = 0;
                te = 1;
            }
        }
        int pe = indexOf(pa, (byte) '?', ps, te);
        if (pe < 0) {
            pe = te;
        }
        if (indexOf(pa, (byte) '#', ps, te) >= 0) {
            return FAILED; // fragments are never sent to servers
        }
        StaticFiles files = settings.files();
        boolean plain = equals(pa, ps, pe, BUILTIN_PLAINTEXT) || files == null && equals(pa, ps, pe, PLAINTEXT);
        boolean echo = equals(pa, ps, pe, BUILTIN_ECHO) || files == null && equals(pa, ps, pe, ECHO);
        if (bodyComing && r.expectContinue && r.minor == 1) {
            if (echo && r.method == Request.POST) {
                writer.sendContinue(c);
            } else {
                conn = ResponseWriter.CLOSE; // RFC 9110 10.1.1: the final status instead of 100, then close
                refusedBody = true;
            }
        }
        if (plain) {
            if (!getOrHead) {
                return notAllowed(c, headOnly, GET_HEAD, conn);
            }
            hello(c, headOnly, conn);
            return DONE;
        }
        if (echo) {
            if (r.method != Request.POST) {
                return notAllowed(c, headOnly, "POST", conn);
            }
            writer.head(c, 200, "application/octet-stream",
                    r.chunked ? ResponseWriter.CHUNKED : Math.max(0, r.contentLength), -1, null, conn);
            return ECHOING;
        }
        if (!getOrHead) {
            return notAllowed(c, headOnly, GET_HEAD, conn);
        }
        if (files == null) {
            if (equals(pa, ps, pe, ROOT)) {
                hello(c, headOnly, conn);
            } else {
                writer.error(c, 404, headOnly, null, conn);
            }
            return DONE;
        }
        return serveFile(c, r, a, files, pa, ps, pe, te, conn);
    }

    /** A file (or its .gz sibling) with validators, conditionals and ranges; or the lookup's error status. */
    private int serveFile(ResponseWriter.Sink c, Request r, byte[] a, StaticFiles files, byte[] pa, int ps, int pe, int te,
                          int conn) {
        boolean headOnly = r.method == Request.HEAD;
        if (fileCache == null) {
            fileCache = new FileCache(files);
        }
        StaticFiles.Found f = fileCache.lookup(pa, ps, pe);
        if (f.status() == 400) {
            return FAILED;
        }
        if (f.status() == 301) {
            // The path as the client spelled it (still percent-encoded) plus the slash, then the query if any.
            String path = new String(pa, ps, pe - ps, StandardCharsets.ISO_8859_1);
            String query = new String(pa, pe, te - pe, StandardCharsets.ISO_8859_1);
            writer.header("Location", path + "/" + query);
            writer.error(c, 301, headOnly, null, conn);
            return DONE;
        }
        if (f.status() != 200) {
            writer.error(c, f.status(), headOnly, null, conn);
            return DONE;
        }
        boolean gzip = f.gzPath() != null && r.acceptEncodingStart >= 0
                && Negotiation.acceptsGzip(a, r.acceptEncodingStart, r.acceptEncodingEnd);
        String etag = gzip ? f.gzEtag() : f.etag();
        long size = gzip ? f.gzSize() : f.size();
        long lastModified = f.lastModifiedSecond();
        // RFC 9110 13.2.2: If-None-Match first; If-Modified-Since only when If-None-Match is absent.
        boolean notModified;
        if (r.ifNoneMatchStart != -1) {
            notModified = r.ifNoneMatchStart >= 0
                    && Negotiation.noneMatchHits(a, r.ifNoneMatchStart, r.ifNoneMatchEnd, etag);
        } else if (r.ifModifiedSinceStart >= 0) {
            long since = HttpDates.parse(a, r.ifModifiedSinceStart, r.ifModifiedSinceEnd);
            long now = System.currentTimeMillis() / 1000;
            notModified = since >= 0 && since <= now && lastModified <= since; // a future date is ignored
        } else {
            notModified = false;
        }
        writer.header("ETag", etag);
        if (f.gzPath() != null) {
            writer.header("Vary", "Accept-Encoding");
        }
        if (notModified) {
            writer.head(c, 304, null, -1, lastModified, null, conn);
            return DONE;
        }
        long first = 0;
        long count = size;
        int status = 200;
        if (r.method == Request.GET && r.rangeStart >= 0 && ifRangeHolds(a, r, etag, lastModified)) {
            int range = ranges.parse(a, r.rangeStart, r.rangeEnd, size);
            if (range == ByteRanges.UNSATISFIABLE) {
                writer.header("Content-Range", "bytes */" + size);
                writer.error(c, 416, false, null, conn);
                return DONE;
            }
            // Several ranges of a gzip-encoded representation: the whole of it, rather than parts of an encoding.
            if (range == ByteRanges.SATISFIABLE && ranges.count > 1 && !gzip) {
                return serveParts(c, f, size, lastModified, conn);
            }
            if (range == ByteRanges.SATISFIABLE && ranges.count == 1) {
                status = 206;
                first = ranges.first[0];
                count = ranges.length(0);
                writer.header("Content-Range", "bytes " + first + "-" + ranges.last[0] + "/" + size);
            }
        }
        writer.header("Accept-Ranges", "bytes");
        if (gzip) {
            writer.header("Content-Encoding", "gzip");
        }
        writer.head(c, status, f.contentType(), count, lastModified, null, conn);
        byte[] content = gzip ? f.gzContent() : f.content();
        if (!headOnly && count > 0 && content != null) {
            writer.body(c, content, (int) first, (int) count); // a small file: with its head, in the batch's write
            return DONE;
        }
        if (!headOnly && count > 0) {
            try {
                writer.file(c, gzip ? f.gzPath() : f.path(), first, count); // the head, then the file behind it
            } catch (IOException e) {
                c.abort(); // the head promised a body we cannot send: the client must see a broken response
                return ABORTED;
            }
        }
        return DONE;
    }

    /**
     * A 206 with a {@code multipart/byteranges} body (RFC 9110 14.6): one part per range in {@link #ranges}, each
     * with the file's Content-Type and its own Content-Range. A small file's parts are copied from memory; a large
     * one's are sent with sendFile between the part heads, all queued in order.
     */
    private int serveParts(ResponseWriter.Sink c, StaticFiles.Found f, long size, long lastModified, int conn) {
        String boundary = ByteRanges.boundary();
        String type = f.contentType() != null ? f.contentType() : "application/octet-stream";
        writer.header("Accept-Ranges", "bytes");
        writer.head(c, 206, "multipart/byteranges; boundary=" + boundary,
                ranges.multipartLength(boundary, type, size), lastModified, null, conn);
        byte[] content = f.content();
        for (int i = 0; i < ranges.count; i++) {
            byte[] head = ranges.partHead(i, boundary, type, size);
            writer.body(c, head, 0, head.length);
            if (content != null) {
                writer.body(c, content, (int) ranges.first[i], (int) ranges.length(i));
            } else {
                try {
                    writer.file(c, f.path(), ranges.first[i], ranges.length(i));
                } catch (IOException e) {
                    c.abort();
                    return ABORTED;
                }
            }
            writer.body(c, CRLF, 0, CRLF.length);
        }
        byte[] closing = ByteRanges.closing(boundary);
        writer.body(c, closing, 0, closing.length);
        return DONE;
    }

    /**
     * If-Range (RFC 9110 13.1.5): the Range applies only if the representation is unchanged: an entity-tag must
     * match strongly (a weak one never does), a date must equal Last-Modified.
     */
    private static boolean ifRangeHolds(byte[] a, Request r, String etag, long lastModified) {
        int s = r.ifRangeStart;
        int e = r.ifRangeEnd;
        if (s < 0) {
            return true;
        }
        if (e - s >= 1 && a[s] == '"') {
            return Negotiation.sameBytes(a, s, e, etag);
        }
        if (e - s >= 2 && a[s] == 'W' && a[s + 1] == '/') {
            return false;
        }
        return HttpDates.parse(a, s, e) == lastModified;
    }

    private int notAllowed(ResponseWriter.Sink c, boolean headOnly, String allow, int conn) {
        writer.error(c, 405, headOnly, allow, conn);
        return DONE;
    }

    private void hello(ResponseWriter.Sink c, boolean headOnly, int conn) {
        if (conn == ResponseWriter.PERSISTENT) {
            writer.hello(c, headOnly);
            return;
        }
        writer.head(c, 200, "text/plain", ResponseWriter.HELLO.length, -1, null, conn);
        if (!headOnly) {
            writer.body(c, ResponseWriter.HELLO, 0, ResponseWriter.HELLO.length);
        }
    }

    private static int schemeEnd(byte[] a, int from, int to) {
        for (String scheme : SCHEMES) {
            int n = scheme.length();
            if (to - from >= n && RequestParser.equalsIgnoreCase(a, from, from + n, scheme)) {
                return from + n;
            }
        }
        return -1;
    }

    static int indexOf(byte[] a, byte b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private static boolean equals(byte[] a, int from, int to, byte[] expected) {
        if (to - from != expected.length) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            if (a[from + i] != expected[i]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
