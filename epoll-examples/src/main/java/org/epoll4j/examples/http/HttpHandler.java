package org.epoll4j.examples.http;

import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The HTTP/1.1 protocol on one reactor: parses every complete request a read brought (pipelining), answers them in
 * order into one buffer sent once per read, keeps at most a partial head per connection, and closes after the
 * errors that leave the stream's framing in doubt (400, 413, 431, 501, 505). Loop-thread only; one per reactor.
 */
final class HttpHandler implements ConnectionHandler, ChunkedDecoder.Sink {
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
    private static final int DONE = 0;
    private static final int ECHOING = 1;
    private static final int FAILED = 2;
    private static final int ABORTED = 3;

    private final HttpSettings settings;
    private final ResponseWriter writer = new ResponseWriter();
    private final Request request = new Request();
    private byte[] in = new byte[64 * 1024];

    long connections;
    long requests;
    long errors;
    private int largestHeaderBuffer;
    /** Set by respond(): an {@code Expect: 100-continue} body the target does not take; the connection closes. */
    private boolean refusedBody;
    /** Where {@link #data} sends decoded chunks: the connection echoing them, or null to discard. */
    private Connection echoTo;
    /** The head the access log line is about (null outside request()). */
    private byte[] logHead;
    /** This reactor's cache of file lookups (made on the first file request). */
    private FileCache fileCache;
    /** The request's Range, read against the file (reused). */
    private final ByteRanges ranges = new ByteRanges();

    HttpHandler(HttpSettings settings) {
        this.settings = settings;
    }

    @Override
    public void onOpen(Connection c) {
        connections++;
        ConnectionState s = new ConnectionState(this, c, settings);
        c.attach(s);
        s.start();
    }

    @Override
    public void onData(Connection c, ByteBuffer data) {
        ConnectionState s = (ConnectionState) c.attachment();
        if (s.phase >= ConnectionState.DRAINING) {
            data.position(data.limit()); // closing: the rest of the stream is not read as requests
            return;
        }
        int n = data.remaining();
        if (n > in.length) {
            in = new byte[n];
        }
        data.get(in, 0, n);
        writer.tick();
        s.lastActive = System.nanoTime();
        process(s, c, in, 0, n);
        writer.flush(c);
        s.writtenAtActive = c.bytesWritten();
        s.afterBatch();
        if (settings.accessLog() != null) {
            settings.accessLog().flush();
        }
        if (c.isOpen() && !c.isWritable()) {
            c.pauseReading(); // the client does not read its responses: stop reading its requests
        }
    }

    @Override
    public void onWritabilityChanged(Connection c, boolean writable) {
        if (writable) {
            c.resumeReading();
        }
    }

    @Override
    public void onClose(Connection c, Throwable cause) {
        Object s = c.attachment();
        if (s instanceof ConnectionState state) {
            state.closed();
        }
    }

    private void process(ConnectionState s, Connection c, byte[] a, int p, int end) {
        int max = settings.maxHeaderBytes();
        while (p < end) {
            if (s.inChunked) {
                ChunkedDecoder d = s.chunked;
                echoTo = s.echoBody ? c : null;
                p = d.consume(a, p, end, this);
                if (d.active()) {
                    return; // everything was taken
                }
                s.inChunked = false;
                if (d.error() != 0) {
                    bodyFailed(s, c);
                    return;
                }
                if (s.echoBody) {
                    writer.chunk(c, a, 0, 0);
                }
                if (s.closeAfterBody) {
                    drain(s, c);
                    return;
                }
                continue;
            }
            if (s.bodyRemaining > 0) {
                int take = (int) Math.min(s.bodyRemaining, end - p);
                if (s.echoBody) {
                    writer.body(c, a, p, take);
                }
                s.bodyRemaining -= take;
                p += take;
                if (s.bodyRemaining == 0 && s.closeAfterBody) {
                    drain(s, c);
                    return;
                }
                continue;
            }
            if (s.pendingLength > 0) {
                // Continue the partial head: append what fits under the limit, then look for its end.
                int old = s.pendingLength;
                int take = Math.min(max - old, end - p);
                s.append(a, p, take);
                int e = RequestParser.findEnd(s.pending, 0, old, s.pendingLength);
                if (e == RequestParser.BARE_LF) {
                    fail(s, c, 400, false);
                    return;
                }
                if (e < 0) {
                    if (s.pendingLength >= max) {
                        fail(s, c, tooLarge(s.pending, 0, s.pendingLength), false);
                    }
                    return; // everything was taken
                }
                p += take - (s.pendingLength - e); // bytes after the head are the next request's (or body)
                s.pendingLength = 0;
                if (!request(s, c, s.pending, 0, e)) {
                    return;
                }
                continue;
            }
            int e = RequestParser.findEnd(a, p, p, end);
            if (e == RequestParser.BARE_LF) {
                fail(s, c, 400, false);
                return;
            }
            if (e < 0) {
                if (end - p > max) {
                    fail(s, c, tooLarge(a, p, end), false);
                } else {
                    s.append(a, p, end - p);
                }
                return;
            }
            if (e - p > max) {
                fail(s, c, tooLarge(a, p, e), false);
                return;
            }
            int start = p;
            p = e;
            if (!request(s, c, a, start, e)) {
                return;
            }
        }
    }

    /** A head over the limit: 414 if its request line alone does not fit in it (nginx's rule), else 431. */
    private int tooLarge(byte[] a, int from, int to) {
        while (from + 1 < to && a[from] == '\r' && a[from + 1] == '\n') {
            from += 2;
        }
        return indexOf(a, (byte) '\n', from, Math.min(to, from + settings.maxHeaderBytes())) < 0 ? 414 : 431;
    }

    /** Handles one complete head; false when the connection is done (closing). */
    private boolean request(ConnectionState s, Connection c, byte[] a, int from, int end) {
        while (from + 1 < end && a[from] == '\r' && a[from + 1] == '\n') {
            from += 2; // RFC 9112 2.2: empty lines before a request line are ignored
        }
        if (from == end) {
            return true;
        }
        requests++;
        s.completedInBatch = true;
        Request r = request;
        int status = RequestParser.parse(a, from, end, r);
        logHead = a;
        try {
            boolean headOnly = r.method == Request.HEAD;
            long length = Math.max(0, r.contentLength);
            if (status == 0 && length > settings.maxBodyBytes()) {
                status = 413;
            }
            if (status == 0 && r.expectOther) {
                status = 417;
            }
            if (status != 0) {
                fail(s, c, status, headOnly);
                return false;
            }
            boolean keep = r.keepAlive();
            int conn = !keep ? ResponseWriter.CLOSE
                    : r.minor == 0 ? ResponseWriter.KEEP_ALIVE : ResponseWriter.PERSISTENT;
            boolean bodyComing = length > 0 || r.chunked;
            refusedBody = false;
            int outcome = respond(c, r, a, conn, bodyComing);
            if (outcome == FAILED) {
                fail(s, c, 400, headOnly);
                return false;
            }
            if (outcome == ABORTED) {
                return false;
            }
            log(s);
            if (refusedBody) {
                drain(s, c); // answered without 100 Continue: the client need not send the body; we close
                return false;
            }
            s.echoBody = outcome == ECHOING;
            s.closeAfterBody = !keep;
            if (r.chunked) {
                s.startChunked(settings.maxBodyBytes(), settings.maxHeaderBytes());
            } else {
                s.bodyRemaining = length;
            }
            if (!keep && (outcome != ECHOING || !bodyComing)) {
                drain(s, c);
                return false;
            }
            return true;
        } finally {
            logHead = null;
        }
    }

    /** Chunk data of the current body (ChunkedDecoder's sink): echoed as chunks, or dropped. */
    @Override
    public void data(byte[] a, int off, int len) {
        if (echoTo != null && len > 0) {
            writer.chunk(echoTo, a, off, len);
        }
    }

    /**
     * A chunked body turned out malformed or too large after its response began: an echo is cut off with a reset
     * (its chunked response lacks the last chunk, so the client sees it incomplete); any other response was
     * complete, and the connection ends with a lingering close.
     */
    private void bodyFailed(ConnectionState s, Connection c) {
        errors++;
        if (s.echoBody) {
            writer.flush(c);
            s.phase = ConnectionState.CLOSING;
            c.abort();
        } else {
            drain(s, c);
        }
    }

    /** Routes a well-formed request and writes its response head (and body unless it comes from the stream). */
    private int respond(Connection c, Request r, byte[] a, int conn, boolean bodyComing) {
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
    private int serveFile(Connection c, Request r, byte[] a, StaticFiles files, byte[] pa, int ps, int pe, int te,
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
            writer.flush(c); // the head goes first: sendFile queues behind it, in order
            try {
                c.sendFile(gzip ? f.gzPath() : f.path(), first, count);
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
    private int serveParts(Connection c, StaticFiles.Found f, long size, long lastModified, int conn) {
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
                writer.flush(c);
                try {
                    c.sendFile(f.path(), ranges.first[i], ranges.length(i));
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

    private int notAllowed(Connection c, boolean headOnly, String allow, int conn) {
        writer.error(c, 405, headOnly, allow, conn);
        return DONE;
    }

    private void hello(Connection c, boolean headOnly, int conn) {
        if (conn == ResponseWriter.PERSISTENT) {
            writer.hello(c, headOnly);
            return;
        }
        writer.head(c, 200, "text/plain", ResponseWriter.HELLO.length, -1, null, conn);
        if (!headOnly) {
            writer.body(c, ResponseWriter.HELLO, 0, ResponseWriter.HELLO.length);
        }
    }

    /** Answers {@code status} with {@code Connection: close} and closes after it. */
    private void fail(ConnectionState s, Connection c, int status, boolean headOnly) {
        errors++;
        writer.error(c, status, headOnly, null, ResponseWriter.CLOSE);
        log(s);
        drain(s, c);
    }

    /** One access-log line for the response just built (when --access-log is on). */
    private void log(ConnectionState s) {
        AccessLog log = settings.accessLog();
        if (log == null) {
            return;
        }
        Request r = request;
        String line = logHead != null && r.lineEnd > r.lineStart
                ? new String(logHead, r.lineStart, r.lineEnd - r.lineStart, StandardCharsets.ISO_8859_1) : null;
        log.log(s.remoteHost(), line, writer.lastStatus, writer.lastLength);
    }

    /**
     * Sends what is built, then half-closes and discards input until the peer's FIN (a lingering close): closing
     * with unread input would make the kernel send a reset that can destroy the response before the client reads
     * it.
     */
    private void drain(ConnectionState s, Connection c) {
        writer.flush(c);
        if (c.isOpen()) {
            s.drain();
        }
    }

    /** The header deadline passed: 408 if part of a head arrived, silence for a connection that sent nothing. */
    void headerTimedOut(ConnectionState s) {
        Connection c = s.connection;
        if (s.pendingLength > 0) {
            writer.tick();
            fail(s, c, 408, false); // lingering: the trickler's next bytes must not reset the 408 away
        } else {
            s.phase = ConnectionState.CLOSING;
            c.close();
        }
    }

    /** A whole idle period passed without a byte either way. */
    void idleTimedOut(ConnectionState s) {
        s.phase = ConnectionState.CLOSING;
        s.connection.close();
    }

    /** The lingering close is over: close, resetting if output is stuck. */
    void lingerEnded(ConnectionState s) {
        s.phase = ConnectionState.CLOSING;
        if (s.connection.queuedBytes() > 0) {
            s.connection.abort();
        } else {
            s.connection.close();
        }
    }

    /** A connection's partial-head buffer grew to {@code capacity} bytes. */
    void noteHeaderBuffer(int capacity) {
        largestHeaderBuffer = Math.max(largestHeaderBuffer, capacity);
    }

    /** The largest partial-head buffer any connection had (tests: bounded by the header limit). */
    int largestHeaderBuffer() {
        return largestHeaderBuffer;
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

    private static int indexOf(byte[] a, byte b, int from, int to) {
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
