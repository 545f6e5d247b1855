package org.epoll4j.examples.http;

import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The HTTP/1.1 protocol on one reactor: parses every complete request a read brought (pipelining), answers them in
 * order into one buffer sent once per read, keeps at most a partial head per connection, and closes after the
 * errors that leave the stream's framing in doubt (400, 413, 431, 501, 505). Loop-thread only; one per reactor.
 */
final class HttpHandler implements ConnectionHandler, ChunkedDecoder.Sink {
    /** The prefix of the built-in routes, so that they never hide a file of --root. */
    static final String BUILTIN = Router.BUILTIN;

    private final HttpSettings settings;
    private final ResponseWriter writer = new ResponseWriter(64 * 1024, true);
    private final Router router;
    private final Request request = new Request();
    private byte[] in = new byte[64 * 1024];

    long connections;
    long requests;
    long errors;
    private int largestHeaderBuffer;
    /** Where {@link #data} sends decoded chunks: the connection echoing them, or null to discard. */
    private ResponseWriter.Sink echoTo;
    /** The head the access log line is about (null outside request()). */
    private byte[] logHead;

    HttpHandler(HttpSettings settings) {
        this.settings = settings;
        this.router = new Router(settings, writer);
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
        writer.flush(s);
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
                echoTo = s.echoBody ? s : null;
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
                    writer.chunk(s, a, 0, 0);
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
                    writer.body(s, a, p, take);
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
        return Router.indexOf(a, (byte) '\n', from, Math.min(to, from + settings.maxHeaderBytes())) < 0 ? 414 : 431;
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
            router.refusedBody = false;
            int outcome = router.respond(s, r, a, conn, bodyComing);
            if (outcome == Router.FAILED) {
                fail(s, c, 400, headOnly);
                return false;
            }
            if (outcome == Router.ABORTED) {
                return false;
            }
            log(s);
            if (router.refusedBody) {
                drain(s, c); // answered without 100 Continue: the client need not send the body; we close
                return false;
            }
            s.echoBody = outcome == Router.ECHOING;
            s.closeAfterBody = !keep;
            if (r.chunked) {
                s.startChunked(settings.maxBodyBytes(), settings.maxHeaderBytes());
            } else {
                s.bodyRemaining = length;
            }
            if (!keep && (outcome != Router.ECHOING || !bodyComing)) {
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
            writer.flush(s);
            s.phase = ConnectionState.CLOSING;
            c.abort();
        } else {
            drain(s, c);
        }
    }


    /** Answers {@code status} with {@code Connection: close} and closes after it. */
    private void fail(ConnectionState s, Connection c, int status, boolean headOnly) {
        errors++;
        writer.error(s, status, headOnly, null, ResponseWriter.CLOSE);
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
        writer.flush(s);
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

}
