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
final class HttpHandler implements ConnectionHandler {
    private static final byte[] PLAINTEXT = ascii("/plaintext");
    private static final byte[] ECHO = ascii("/echo");
    private static final byte[] ROOT = ascii("/");
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
        process(s, c, in, 0, n);
        writer.flush(c);
        s.afterBatch();
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
                        fail(s, c, 431, false);
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
                    fail(s, c, 431, false);
                } else {
                    s.append(a, p, end - p);
                }
                return;
            }
            if (e - p > max) {
                fail(s, c, 431, false);
                return;
            }
            int start = p;
            p = e;
            if (!request(s, c, a, start, e)) {
                return;
            }
        }
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
        boolean headOnly = r.method == Request.HEAD;
        if (status == 0 && r.transferEncoding) {
            status = 501; // chunked request bodies are not supported; the body's length is unknown: close
        }
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
        int conn = !keep ? ResponseWriter.CLOSE : r.minor == 0 ? ResponseWriter.KEEP_ALIVE : ResponseWriter.PERSISTENT;
        if (r.expectContinue && length > 0 && r.minor == 1) {
            writer.sendContinue(c);
        }
        int outcome = respond(c, r, a, conn);
        if (outcome == FAILED) {
            fail(s, c, 400, headOnly);
            return false;
        }
        if (outcome == ABORTED) {
            return false;
        }
        s.bodyRemaining = length;
        s.echoBody = outcome == ECHOING;
        s.closeAfterBody = !keep;
        if (!keep && (outcome != ECHOING || length == 0)) {
            drain(s, c);
            return false;
        }
        return true;
    }

    /** Routes a well-formed request and writes its response head (and body unless it comes from the stream). */
    private int respond(Connection c, Request r, byte[] a, int conn) {
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
        if (equals(pa, ps, pe, PLAINTEXT)) {
            if (!getOrHead) {
                return notAllowed(c, headOnly, GET_HEAD, conn);
            }
            hello(c, headOnly, conn);
            return DONE;
        }
        if (equals(pa, ps, pe, ECHO)) {
            if (r.method != Request.POST) {
                return notAllowed(c, headOnly, "POST", conn);
            }
            writer.head(c, 200, "application/octet-stream", Math.max(0, r.contentLength), -1, null, conn);
            return ECHOING;
        }
        if (!getOrHead) {
            return notAllowed(c, headOnly, GET_HEAD, conn);
        }
        StaticFiles files = settings.files();
        boolean root = equals(pa, ps, pe, ROOT);
        if (files == null) {
            if (root) {
                hello(c, headOnly, conn);
            } else {
                writer.error(c, 404, headOnly, null, conn);
            }
            return DONE;
        }
        StaticFiles.Found f = files.lookup(pa, ps, pe);
        if (root && f.status() == 404) {
            hello(c, headOnly, conn); // no index.html in the root: "/" stays Hello, World!
            return DONE;
        }
        if (f.status() == 400) {
            return FAILED;
        }
        if (f.status() != 200) {
            writer.error(c, f.status(), headOnly, null, conn);
            return DONE;
        }
        if (r.ifModifiedSinceStart >= 0) {
            long since = HttpDates.parse(a, r.ifModifiedSinceStart, r.ifModifiedSinceEnd);
            if (since >= 0 && f.lastModifiedSecond() <= since) {
                writer.head(c, 304, null, -1, f.lastModifiedSecond(), null, conn);
                return DONE;
            }
        }
        writer.head(c, 200, f.contentType(), f.size(), f.lastModifiedSecond(), null, conn);
        if (!headOnly && f.size() > 0) {
            writer.flush(c); // the head goes first: sendFile queues behind it, in order
            try {
                c.sendFile(f.path(), 0, f.size());
            } catch (IOException e) {
                c.abort(); // the head promised a body we cannot send: the client must see a broken response
                return ABORTED;
            }
        }
        return DONE;
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
        drain(s, c);
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
