package org.epoll4j.examples.http;

import org.epoll4j.Timeout;
import org.epoll4j.net.Connection;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.RejectedExecutionException;

/**
 * One connection's protocol state: the partial request head it keeps between reads (grown only as bytes arrive,
 * never past the header limit), the body still to read, and the one timer that enforces the header deadline, the
 * idle timeout and the lingering close; the sink its responses go to. Loop-thread only.
 */
final class ConnectionState implements ResponseWriter.Sink {
    /** Waiting for (the rest of) a request head; deadline: {@link #since} + header timeout. */
    static final int HEADER = 0;
    /** Between requests; closed when a whole idle period passes without progress. */
    static final int IDLE = 1;
    /** Reading a request body; same rule as IDLE. */
    static final int BODY = 2;
    /** The last response is out and FIN sent; input is discarded until the peer's FIN or the linger time. */
    static final int DRAINING = 3;
    /** Closing on the server's initiative (timeouts): input is discarded, nothing more is written. */
    static final int CLOSING = 4;

    private static final byte[] EMPTY = new byte[0];
    private static final int FIRST_CAPACITY = 512;

    final Connection connection;
    private final HttpHandler handler;
    private final HttpSettings settings;
    private final Runnable onTimer = this::onTimer;

    byte[] pending = EMPTY;
    int pendingLength;
    int phase = HEADER;
    long since;
    long bodyRemaining;
    boolean echoBody;
    boolean closeAfterBody;
    /** A request completed in the current batch: a head left partial after it starts its own deadline. */
    boolean completedInBatch;
    /** A chunked body is being read ({@link #chunked} decodes it). */
    boolean inChunked;
    /** The connection's chunked-body decoder, made on its first chunked request. */
    ChunkedDecoder chunked;
    /** When the last read arrived (System.nanoTime): the idle timeout counts from here. */
    long lastActive;
    /** {@link Connection#bytesWritten()} after the last read's responses: output beyond it is later activity. */
    long writtenAtActive;
    private String remoteHost;

    private Timeout timer;
    private long timerAt;
    private long seenRead = -1;
    private long seenWritten = -1;

    ConnectionState(HttpHandler handler, Connection connection, HttpSettings settings) {
        this.handler = handler;
        this.connection = connection;
        this.settings = settings;
    }

    /** Starts the first request's header deadline. */
    void start() {
        since = System.nanoTime();
        lastActive = since;
        schedule(since + settings.headerTimeoutNanos());
    }

    /** Keeps {@code len} more bytes of a partial head; the caller keeps the total within the header limit. */
    void append(byte[] src, int off, int len) {
        int need = pendingLength + len;
        if (need > pending.length) {
            int cap = Math.max(FIRST_CAPACITY, Integer.highestOneBit(need - 1) << 1);
            cap = Math.min(cap, Math.max(need, settings.maxHeaderBytes()));
            pending = Arrays.copyOf(pending, cap);
            handler.noteHeaderBuffer(cap);
        }
        System.arraycopy(src, off, pending, pendingLength, len);
        pendingLength = need;
    }

    /** Updates the phase after one read's requests were handled; the fast path sets no timer. */
    void afterBatch() {
        if (phase >= DRAINING) {
            return;
        }
        if (bodyRemaining > 0 || inChunked) {
            phase = BODY;
            schedule(lastActive + settings.idleTimeoutNanos());
        } else if (pendingLength > 0) {
            if (phase != HEADER || completedInBatch) {
                phase = HEADER;
                since = System.nanoTime();
                schedule(since + settings.headerTimeoutNanos());
            }
        } else {
            phase = IDLE;
            schedule(lastActive + settings.idleTimeoutNanos()); // returns at once when an earlier timer is set
        }
        completedInBatch = false;
    }

    /** Starts decoding a chunked request body. */
    void startChunked(long maxBody, int maxTrailer) {
        if (chunked == null) {
            chunked = new ChunkedDecoder();
        }
        chunked.start(maxBody, maxTrailer);
        inChunked = true;
    }

    /** The client's address for the access log (computed once). */
    String remoteHost() {
        if (remoteHost == null) {
            java.net.SocketAddress a = connection.remoteAddress();
            remoteHost = a instanceof java.net.InetSocketAddress i ? i.getAddress().getHostAddress() : "-";
        }
        return remoteHost;
    }

    /** Enters the lingering close: the caller flushed the last response. */
    void drain() {
        phase = DRAINING;
        pendingLength = 0;
        bodyRemaining = 0;
        since = System.nanoTime();
        connection.shutdownOutput();
        schedule(since + settings.lingerNanos());
    }

    /** The connection closed: drops the timer. */
    void closed() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
    }

    /** Makes the timer fire by {@code deadline} (System.nanoTime); keeps an earlier one. */
    private void schedule(long deadline) {
        if (timer != null) {
            if (timerAt - deadline <= 0) {
                return;
            }
            timer.cancel();
        }
        timerAt = deadline;
        try {
            timer = connection.reactor().schedule(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())),
                    onTimer);
        } catch (RejectedExecutionException closing) {
            timer = null; // the reactor is shutting down and closes the connection itself
        }
    }

    private void onTimer() {
        timer = null;
        if (!connection.isOpen() || phase == CLOSING) {
            return;
        }
        long now = System.nanoTime();
        switch (phase) {
            case HEADER:
                if (connection.isReadingPaused()) {
                    since = now; // we stopped reading (the client does not read its responses): not its fault
                } else if (now - (since + settings.headerTimeoutNanos()) >= 0) {
                    handler.headerTimedOut(this);
                    return;
                }
                schedule(since + settings.headerTimeoutNanos());
                return;
            case DRAINING:
                if (connection.queuedBytes() > 0 && progressed()) {
                    schedule(now + settings.idleTimeoutNanos()); // still sending the last response
                } else if (now - (since + settings.lingerNanos()) >= 0 || connection.queuedBytes() > 0) {
                    handler.lingerEnded(this);
                } else {
                    schedule(since + settings.lingerNanos());
                }
                return;
            default:
                // Idle means: no read since lastActive, and no output moving since then. Output that moved after
                // the last read (a large file still draining) counts as activity at this moment: coarse, but only
                // while a response is being sent. Otherwise the deadline is exactly lastActive + idle timeout.
                long w = connection.bytesWritten();
                if (w != writtenAtActive) {
                    writtenAtActive = w;
                    lastActive = now;
                }
                long deadline = lastActive + settings.idleTimeoutNanos();
                if (now - deadline >= 0) {
                    handler.idleTimedOut(this);
                } else {
                    schedule(deadline);
                }
        }
    }

    private boolean progressed() {
        long r = connection.bytesRead();
        long w = connection.bytesWritten();
        boolean moved = r != seenRead || w != seenWritten;
        seenRead = r;
        seenWritten = w;
        return moved;
    }

    @Override
    public void write(ByteBuffer bytes) {
        connection.write(bytes);
    }

    @Override
    public boolean isOpen() {
        return connection.isOpen();
    }

    @Override
    public void sendFile(Path path, long position, long count) throws IOException {
        connection.sendFile(path, position, count);
    }

    @Override
    public void cork() {
        connection.cork();
    }

    @Override
    public void uncork() {
        connection.uncork();
    }

    @Override
    public void abort() {
        connection.abort();
    }

    /** The capacity of the partial-head buffer (tests: it must stay within the header limit). */
    int headerBufferCapacity() {
        return pending.length;
    }
}
