package org.epoll4j.examples.http;

import org.epoll4j.net.BlockingConnection;
import org.epoll4j.net.ConnectionTimeoutException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The {@code --blocking} HTTP/1.1 server: the protocol of {@link HttpHandler} as straight-line code, one thread per
 * connection (virtual on Java 21+) reading and writing through a {@link BlockingConnection}. It shares the parser
 * ({@link RequestParser}), the routes and responses ({@link Router}, {@link ResponseWriter}) and the chunked decoder
 * with the callback server; only the loop around them differs. The timeouts become read timeouts: the header
 * deadline bounds the wait for a head (from the connect for the first, from its first byte for later ones), the idle
 * timeout the wait between requests, inside a body, and for a client to take a response.
 */
final class BlockingHttp {
    /** {@link #fill}: the wait timed out. */
    private static final int TIMED_OUT = -2;

    final LongAdder connections = new LongAdder();
    final LongAdder requests = new LongAdder();
    final LongAdder errors = new LongAdder();
    /** The largest input buffer a connection had (tests: bounded by the header limit, like the callback server's). */
    final AtomicInteger largestBuffer = new AtomicInteger();
    private final HttpSettings settings;

    BlockingHttp(HttpSettings settings) {
        this.settings = settings;
    }

    /** Serves one connection until it ends (the {@link org.epoll4j.net.BlockingHandler}). */
    void serve(BlockingConnection connection) throws IOException {
        connections.increment();
        try {
            new Exchange(connection).run();
        } catch (UncheckedIOException e) {
            throw e.getCause(); // from the response sink: the client stopped taking responses, or went away
        }
    }

    /** One connection's requests, in order. */
    private final class Exchange implements ResponseWriter.Sink, ChunkedDecoder.Sink {
        private final BlockingConnection c;
        private final ResponseWriter writer = new ResponseWriter(16 * 1024, false);
        private final Router router = new Router(settings, writer);
        private final Request request = new Request();
        private final int max = settings.maxHeaderBytes();
        /** Input: {@code buf[start, end)} is read and not yet consumed. */
        private final byte[] buf;
        private int start;
        private int end;
        private ChunkedDecoder chunked;
        private boolean echoChunks;
        private String remoteHost;

        Exchange(BlockingConnection c) {
            this.c = c;
            this.buf = new byte[max]; // a head must fit whole; bodies stream through it
            largestBuffer.accumulateAndGet(max, Math::max);
            c.writeTimeout(Duration.ofNanos(settings.idleTimeoutNanos())); // a client that stops reading
        }

        void run() throws IOException {
            long headDeadline = System.nanoTime() + settings.headerTimeoutNanos(); // 0: none until a byte comes
            while (true) {
                int seen = 0; // bytes after start already looked at for the head's end
                int e;
                while (true) {
                    e = RequestParser.findEnd(buf, start, start + seen, end);
                    if (e == RequestParser.BARE_LF) {
                        fail(400, false, false);
                        return;
                    }
                    if (e >= 0) {
                        break;
                    }
                    if (end - start >= max) {
                        fail(tooLarge(start, end), false, false);
                        return;
                    }
                    seen = end - start;
                    flushResponses(); // the answers to pipelined requests go before we wait
                    boolean idle = start == end && headDeadline == 0;
                    if (!idle && headDeadline == 0) {
                        headDeadline = System.nanoTime() + settings.headerTimeoutNanos(); // a partial head was left
                    }
                    int n = fill(idle ? settings.idleTimeoutNanos() : headDeadline - System.nanoTime());
                    if (n == TIMED_OUT) {
                        if (end > start) {
                            writer.tick();
                            fail(408, false, false); // lingering: the trickler's next bytes must not reset it
                        }
                        return; // silence: close
                    }
                    if (n < 0) {
                        return; // the client is done (a partial head is dropped)
                    }
                    if (idle) {
                        headDeadline = System.nanoTime() + settings.headerTimeoutNanos();
                    }
                }
                if (e - start > max) {
                    fail(tooLarge(start, e), false, false);
                    return;
                }
                int from = start;
                start = e;
                while (from + 1 < e && buf[from] == '\r' && buf[from + 1] == '\n') {
                    from += 2; // RFC 9112 2.2: empty lines before a request line are ignored
                }
                if (from == e) {
                    continue;
                }
                headDeadline = 0;
                if (!request(from, e)) {
                    return;
                }
            }
        }

        /** One complete head at {@code buf[from, e)} and its body; false when the connection is done. */
        private boolean request(int from, int e) throws IOException {
            requests.increment();
            writer.tick();
            Request r = request;
            int status = RequestParser.parse(buf, from, e, r);
            boolean headOnly = r.method == Request.HEAD;
            long length = Math.max(0, r.contentLength);
            if (status == 0 && length > settings.maxBodyBytes()) {
                status = 413;
            }
            if (status == 0 && r.expectOther) {
                status = 417;
            }
            if (status != 0) {
                fail(status, headOnly, true);
                return false;
            }
            boolean keep = r.keepAlive();
            int conn = !keep ? ResponseWriter.CLOSE
                    : r.minor == 0 ? ResponseWriter.KEEP_ALIVE : ResponseWriter.PERSISTENT;
            boolean bodyComing = length > 0 || r.chunked;
            router.refusedBody = false;
            int outcome = router.respond(this, r, buf, conn, bodyComing);
            if (outcome == Router.FAILED) {
                fail(400, headOnly, true);
                return false;
            }
            if (outcome == Router.ABORTED) {
                return false;
            }
            log(true);
            boolean echo = outcome == Router.ECHOING;
            if (router.refusedBody || !keep && !(echo && bodyComing)) {
                linger(); // answered (a refused body need not be sent: we close); the rest is not read as requests
                return false;
            }
            boolean bodyRead = r.chunked ? chunkedBody(echo) : body(length, echo);
            if (!bodyRead) {
                return false;
            }
            if (!keep) {
                linger();
                return false;
            }
            return true;
        }

        /** Reads (and echoes, or drops) a body of {@code length} bytes; false if the connection ended. */
        private boolean body(long length, boolean echo) throws IOException {
            long remaining = length;
            while (remaining > 0) {
                if (start == end && !more()) {
                    return false;
                }
                int take = (int) Math.min(remaining, end - start);
                if (echo) {
                    writer.body(this, buf, start, take);
                }
                start += take;
                remaining -= take;
            }
            return true;
        }

        /** Decodes a chunked body, echoing its data as chunks or dropping it; false if the connection ended. */
        private boolean chunkedBody(boolean echo) throws IOException {
            if (chunked == null) {
                chunked = new ChunkedDecoder();
            }
            chunked.start(settings.maxBodyBytes(), max);
            echoChunks = echo;
            while (chunked.active()) {
                if (start == end && !more()) {
                    return false;
                }
                start = chunked.consume(buf, start, end, this);
            }
            if (chunked.error() != 0) {
                errors.increment();
                if (echo) {
                    // the echo's chunked response lacks its last chunk: a reset tells the client it is incomplete
                    writer.flush(this);
                    c.abort();
                } else {
                    linger();
                }
                return false;
            }
            if (echo) {
                writer.chunk(this, buf, 0, 0);
            }
            return true;
        }

        /** Chunk data of the current body (ChunkedDecoder's sink): echoed as chunks, or dropped. */
        @Override
        public void data(byte[] a, int off, int len) {
            if (echoChunks && len > 0) {
                writer.chunk(this, a, off, len);
            }
        }

        /** Inside a body: waits for more within the idle timeout; false at its end, the peer's EOF or close. */
        private boolean more() throws IOException {
            flushResponses();
            int n = fill(settings.idleTimeoutNanos());
            return n > 0;
        }

        /**
         * Reads what comes into {@code buf} after {@code end}, waiting at most {@code nanos}; the bytes from
         * {@code start} move to the front first if the room at the end is gone.
         *
         * @return bytes read, -1 at the peer's EOF, or {@link #TIMED_OUT}
         */
        private int fill(long nanos) throws IOException {
            if (start == end) {
                start = 0;
                end = 0;
            } else if (end == buf.length) {
                System.arraycopy(buf, start, buf, 0, end - start);
                end -= start;
                start = 0;
            }
            if (nanos <= 0) {
                return TIMED_OUT;
            }
            c.readTimeout(Duration.ofNanos(nanos));
            try {
                int n = c.read(buf, end, buf.length - end);
                if (n > 0) {
                    end += n;
                }
                return n;
            } catch (ConnectionTimeoutException e) {
                if (e.kind() == ConnectionTimeoutException.Kind.READ) {
                    return TIMED_OUT;
                }
                throw e;
            }
        }

        /** A head over the limit: 414 if its request line alone does not fit in it (nginx's rule), else 431. */
        private int tooLarge(int from, int to) {
            while (from + 1 < to && buf[from] == '\r' && buf[from + 1] == '\n') {
                from += 2;
            }
            return Router.indexOf(buf, (byte) '\n', from, Math.min(to, from + max)) < 0 ? 414 : 431;
        }

        /** Answers {@code status} with {@code Connection: close} and closes after it (a lingering close). */
        private void fail(int status, boolean headOnly, boolean hasRequest) throws IOException {
            errors.increment();
            writer.error(this, status, headOnly, null, ResponseWriter.CLOSE);
            log(hasRequest);
            linger();
        }

        /**
         * Sends what is built, half-closes, and discards input until the peer's FIN or the linger time (closing with
         * unread input would make the kernel send a reset that can destroy the response before the client reads
         * it); then waits, within the idle timeout, for the kernel to take the rest (else resets).
         */
        private void linger() throws IOException {
            flushResponses();
            c.shutdownOutput();
            long deadline = System.nanoTime() + settings.lingerNanos();
            start = 0;
            end = 0;
            try {
                while (fill(deadline - System.nanoTime()) >= 0) {
                    start = end; // discarded
                }
                c.flush();
            } catch (ConnectionTimeoutException e) {
                c.abort(); // the client keeps the last response unread
            }
        }

        private void flushResponses() {
            writer.flush(this);
            AccessLog log = settings.accessLog();
            if (log != null) {
                log.flush();
            }
        }

        /** One access-log line for the response just built (when --access-log is on). */
        private void log(boolean hasRequest) {
            AccessLog log = settings.accessLog();
            if (log == null) {
                return;
            }
            Request r = request;
            String line = hasRequest && r.lineEnd > r.lineStart
                    ? new String(buf, r.lineStart, r.lineEnd - r.lineStart, StandardCharsets.ISO_8859_1) : null;
            if (remoteHost == null) {
                remoteHost = c.remoteAddress() instanceof InetSocketAddress i
                        ? i.getAddress().getHostAddress() : "-";
            }
            log.log(remoteHost, line, writer.lastStatus, writer.lastLength);
        }

        // ---- ResponseWriter.Sink: responses go to the blocking view (a write waits while the client reads slowly)

        @Override
        public void write(ByteBuffer bytes) {
            try {
                c.write(bytes);
            } catch (IOException e) {
                throw new UncheckedIOException(e); // out of ResponseWriter, rethrown by serve
            }
        }

        @Override
        public boolean isOpen() {
            return c.isOpen();
        }

        @Override
        public void sendFile(Path path, long position, long count) throws IOException {
            c.sendFile(path, position, count);
        }

        @Override
        public void abort() {
            c.abort();
        }
    }
}
