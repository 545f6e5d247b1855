package org.epoll4j.net;

import org.epoll4j.Timeout;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * The TLS {@link Transport}: drives one connection's {@link SSLEngine} on the reactor thread. Ciphertext read from
 * the socket is unwrapped and the plaintext handed to the handler; plaintext written by the handler is wrapped and
 * written into the connection's {@link Outbound} queue, the only way ciphertext leaves. The handshake, post-handshake messages (TLS 1.3 tickets, key updates) and close_notify all go
 * through the same two loops, so there is no separate handshake path to get out of step.
 *
 * <p>Buffers: an idle connection holds none (its heap is the engine's state and this object). {@code netIn} is
 * borrowed from the reactor's pool only while a partial record waits for its rest (a read that ends on a record
 * boundary is unwrapped straight from the reactor's shared read buffer) and given back when it empties; plaintext
 * goes to the reactor's shared TLS buffer; records are wrapped into the reactor's shared ciphertext buffer (up to
 * four per send), which the outbound queue copies what the socket does not take from. Held plaintext is borrowed
 * likewise and given back once wrapped.
 */
final class TlsTransport implements Transport {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** Records wrapped into netOut before it is handed to the socket: one send per ~64 KiB of plaintext. */
    private static final int RECORDS_PER_SEND = 4;

    private final Connection conn;
    private final Outbound out;
    private final SSLEngine engine;
    private final TlsConfig config;
    private final NetContext ctx;
    /**
     * The engine encrypts in native code (Conscrypt): its ciphertext goes into a direct buffer and files are read into
     * direct ones, which it uses in place; a heap buffer would cost a JNI copy each way.
     */
    private final boolean directBuffers;
    /** Write mode: position = bytes held (a partial record). */
    private ByteBuffer netIn;
    private int appSize;
    private boolean handshakeDone;
    private boolean taskRunning;
    /** Volatile for Connection.isCorked() on other threads; the loop is the only writer. */
    private volatile boolean corked;
    private boolean inboundDone;
    private boolean closeNotifyQueued;
    private Timeout timer;
    /** Set once the handshake is done, when a client's renegotiation is to be refused (see RenegotiationGuard). */
    private boolean refuseRenegotiation;
    /** A renegotiation was refused: the engine's failure is reported as that. */
    private boolean renegotiationRefused;
    /** The engine's failure on the peer's bytes (or the handshake timeout), to tell it from a handler's exception. */
    private Throwable peerFailure;

    TlsTransport(Connection conn, Outbound out, TlsConfig config, NetContext ctx) {
        this.conn = conn;
        this.out = out;
        this.config = config;
        this.ctx = ctx;
        this.engine = config.newEngine(conn.remoteAddress());
        this.directBuffers = EngineQuirks.prefersDirectBuffers(engine);
        this.appSize = engine.getSession().getApplicationBufferSize();
    }

    // ------------------------------------------------------------------ handshake

    /** The TCP connection is up: starts the handshake (a client sends its ClientHello now). */
    @Override
    public void start() throws Exception {
        if (!config.handshakeTimeout().isZero()) {
            timer = conn.reactor().schedule(config.handshakeTimeout(), () -> {
                timer = null;
                if (!handshakeDone) {
                    peerFailure = new SSLHandshakeException("TLS handshake with " + conn.remoteAddress()
                            + " not finished after " + config.handshakeTimeout().toMillis() + " ms");
                    conn.fail(peerFailure);
                }
            });
        }
        engine.beginHandshake();
        process(EMPTY);
    }

    private void finished() throws Exception {
        if (handshakeDone) {
            return;
        }
        handshakeDone = true;
        refuseRenegotiation = RenegotiationGuard.applies(config, engine);
        cancelTimer();
        conn.established();
        if (conn.isOpen()) {
            pump();
        }
    }

    @Override
    public boolean established() {
        return handshakeDone;
    }

    /** Whether {@code t} is the engine's failure on what the peer sent (or the handshake timeout). */
    @Override
    public boolean isPeerFailure(Throwable t) {
        return t != null && t == peerFailure;
    }

    // ------------------------------------------------------------------ inbound

    /**
     * Ciphertext arrived (or, with an empty buffer, a delegated task finished): unwraps what it can. Whole records
     * are unwrapped straight from {@code src}; a partial record is kept in netIn and completed from the next bytes,
     * so netIn stays one record long unless reading stops (pause, delegated task) with whole records unread.
     */
    @Override
    public void received(ByteBuffer src) throws Exception {
        try {
            while (true) {
                if (netIn == null) {
                    if (src.isDirect()) {
                        processCopy(src);
                    } else {
                        process(src);
                    }
                    return;
                }
                int n = Math.min(src.remaining(), netIn.remaining());
                int limit = src.limit();
                src.limit(src.position() + n);
                netIn.put(src);
                src.limit(limit);
                netIn.flip();
                try {
                    process(netIn);
                } finally {
                    netIn.compact();
                    if (netIn.position() == 0) {
                        ctx.releaseTlsBuffer(netIn); // no partial record left: hold no buffer
                        netIn = null;
                    }
                }
                if (!src.hasRemaining() || stopped()) {
                    return;
                }
                if (netIn != null && !netIn.hasRemaining()) {
                    ensureNetIn(netIn.capacity() * 2); // a record longer than netIn: the session's sizes grew
                }
            }
        } catch (SSLException e) {
            sendAlert();
            if (renegotiationRefused) {
                peerFailure = RenegotiationGuard.refused(conn.remoteAddress(), e); // what the peer did
                throw (SSLException) peerFailure;
            }
            throw e;
        } finally {
            if (src.hasRemaining() && conn.isOpen()) {
                ensureNetIn((netIn == null ? 0 : netIn.position()) + src.remaining()); // a partial record, or
                // records left unread
                netIn.put(src);
            }
        }
    }

    /**
     * Unwraps the whole records of {@code src} (the reactor's direct read buffer) from a heap copy, moving
     * {@code src}'s position past what was consumed. The JDK's AES-GCM copies direct input into a heap buffer it
     * allocates for each record; one copy into the reactor's shared heap buffer costs the same and allocates nothing.
     */
    private void processCopy(ByteBuffer src) throws Exception {
        int start = src.position();
        int n = src.remaining();
        ByteBuffer heap = ctx.tlsNetIn(n).clear();
        heap.put(0, src, start, n).limit(n);
        try {
            process(heap);
        } finally {
            src.position(start + heap.position());
        }
    }

    /** Whether unwrapping stopped for another reason than running out of bytes. */
    private boolean stopped() {
        return taskRunning || inboundDone || !conn.isOpen() || !conn.wantsData();
    }

    /** Whether a partial record (or unread records, while paused) waits in netIn. */
    @Override
    public boolean hasBuffered() {
        return netIn != null && netIn.position() > 0;
    }

    private void process(ByteBuffer in) throws Exception {
        while (conn.isOpen() && !taskRunning) {
            HandshakeStatus hs = engine.getHandshakeStatus();
            if (hs == HandshakeStatus.NEED_TASK) {
                runTasks();
                continue;
            }
            if (hs == HandshakeStatus.NEED_WRAP) {
                if (wrapHandshake() == 0 && engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
                    return; // no progress possible (outbound closed): never spin the loop
                }
                continue;
            }
            if (!handshakeDone && hs == HandshakeStatus.NOT_HANDSHAKING) {
                finished();
                continue;
            }
            if (inboundDone || !in.hasRemaining() || !conn.wantsData()) {
                return;
            }
            if (refuseRenegotiation && RenegotiationGuard.isHandshakeRecord(in)) {
                refuseRenegotiation();
                continue;
            }
            ByteBuffer plain = ctx.tlsPlain(appSize).clear();
            SSLEngineResult r;
            try {
                r = engine.unwrap(in, plain);
            } catch (SSLException e) {
                peerFailure = e; // what the peer sent; not the handler's doing
                throw e;
            }
            switch (r.getStatus()) {
                case BUFFER_UNDERFLOW:
                    return; // a partial record: onNetData keeps it (in a buffer big enough for a whole one)
                case BUFFER_OVERFLOW:
                    appSize = Math.max(appSize * 2, engine.getSession().getApplicationBufferSize());
                    continue;
                case CLOSED:
                    if (!engine.isInboundDone()) {
                        // Not the peer's end: Conscrypt's engine answers CLOSED to every unwrap once our own
                        // close_notify is out (shutdownOutput(): its state, not the peer's), plaintext and all. The
                        // record was the peer's data (TLS 1.3 half-close): delivered below as for OK.
                        break;
                    }
                    if (plain.position() > 0 && conn.isOpen()) {
                        conn.deliver(plain.flip()); // what the same unwrap decrypted comes before the end
                    }
                    inboundDone = true;
                    if (conn.isOpen()) {
                        conn.peerEnded();
                    }
                    continue; // TLS 1.2 answers with its own close_notify (NEED_WRAP)
                default:
                    break;
            }
            if (r.getHandshakeStatus() == HandshakeStatus.FINISHED) {
                finished();
            } else if (r.bytesConsumed() == 0 && r.bytesProduced() == 0 && r.getHandshakeStatus() == hs) {
                return; // no progress: wait for more bytes rather than spin
            }
            if (plain.position() > 0 && conn.isOpen()) {
                conn.deliver(plain.flip());
            }
        }
    }

    /**
     * A client's renegotiation ClientHello arrived: the engine is made to fail that handshake with a fatal alert
     * (which a client reports as an error), or, where it cannot be, the connection ends with close_notify.
     */
    private void refuseRenegotiation() throws Exception {
        refuseRenegotiation = false;
        renegotiationRefused = true;
        if (!RenegotiationGuard.failNextHandshake(engine)) {
            engine.closeOutbound();
            wrapHandshake();
            peerFailure = RenegotiationGuard.refused(conn.remoteAddress(), null);
            throw (SSLException) peerFailure;
        }
    }

    /** Runs the engine's delegated tasks: inline without an executor, else there with reading paused. */
    private void runTasks() throws Exception {
        Executor executor = config.taskExecutor();
        if (executor == null) {
            Runnable task;
            while ((task = engine.getDelegatedTask()) != null) {
                task.run();
            }
            return;
        }
        taskRunning = true;
        conn.pauseReading(ReadPause.TLS_TASK);
        try {
            executor.execute(() -> {
                Throwable failure = null;
                try {
                    Runnable task;
                    while ((task = engine.getDelegatedTask()) != null) {
                        task.run();
                    }
                } catch (Throwable t) {
                    failure = t;
                }
                Throwable f = failure;
                try {
                    conn.reactor().execute(() -> tasksDone(f));
                } catch (RejectedExecutionException closing) {
                    // the reactor's close ends the connection
                }
            });
        } catch (RejectedExecutionException e) {
            taskRunning = false;
            throw new SSLException("TLS delegated task refused by " + executor, e);
        }
    }

    private void tasksDone(Throwable failure) {
        taskRunning = false;
        if (!conn.isOpen()) {
            return;
        }
        if (failure != null) {
            peerFailure = failure; // a task checks what the peer sent (its certificate, its key share)
            conn.fail(failure);
            return;
        }
        try {
            received(EMPTY); // what the task's result lets the engine do now (send, unwrap held records)
            if (conn.isOpen() && !taskRunning) {
                pump(); // plaintext written while the task ran
            }
        } catch (Throwable t) {
            conn.fail(t);
            return;
        }
        if (conn.isOpen() && !taskRunning) {
            conn.resumeReading(ReadPause.TLS_TASK);
        }
    }

    @Override
    public void deliverBuffered() throws Exception {
        received(EMPTY);
    }

    /** The peer's FIN came: a clean end only after its close_notify (the failure is the peer's doing). */
    @Override
    public Throwable endOfStream() {
        if (inboundDone) {
            return null;
        }
        peerFailure = eofCause();
        return peerFailure;
    }

    private Exception eofCause() {
        if (!handshakeDone) {
            return new SSLHandshakeException("peer " + conn.remoteAddress() + " closed the connection during the TLS"
                    + " handshake");
        }
        return new TlsTruncationException("peer " + conn.remoteAddress() + " closed the connection without TLS "
                + "close_notify (possible truncation)");
    }

    // ------------------------------------------------------------------ outbound

    /*
     * Plaintext is wrapped only while the socket takes what is wrapped: once the outbound queue holds ciphertext,
     * further plaintext (and sendFile regions) wait here, unencrypted, and are wrapped a batch at a time as the
     * queue drains. So the queue holds at most about one batch of ciphertext, and what the watermarks see is
     * plaintext (plus that batch's record overhead). Corking and the handshake hold plaintext here too; uncork wraps
     * it together, in as few records as fit.
     */

    /** A file region sent over TLS: read, wrapped and sent a batch at a time. */
    private static final class FileSource {
        final java.nio.channels.FileChannel channel;
        final boolean owned;
        long position;
        long remaining;

        FileSource(java.nio.channels.FileChannel channel, boolean owned, long position, long count) {
            this.channel = channel;
            this.owned = owned;
            this.position = position;
            this.remaining = count;
        }
    }

    /** Plaintext buffers (write mode) and file regions, in write order. */
    private final java.util.ArrayDeque<Object> pending = new java.util.ArrayDeque<>(2);
    /** Plaintext and file bytes in {@link #pending}; volatile for queuedBytes() on other threads. */
    private volatile long held;
    private ByteBuffer fileBuf;
    private boolean pumpScheduled;
    /**
     * The held buffer pump is wrapping from (flipped to read mode): a write re-entering through a callback (the
     * high watermark crossed while the batch was queued) starts a new buffer instead of appending to it.
     */
    private ByteBuffer wrapping;
    private final Runnable pumpAgain = this::pumpAgain;
    private boolean closeRequested;

    /** Plaintext from the handler: wrapped now while the socket takes it, else held. */
    @Override
    public void write(ByteBuffer src) throws SSLException {
        if (canWrapNow() && pending.isEmpty()) {
            wrapWhileTaken(src);
        }
        if (src.hasRemaining() && conn.isOpen()) {
            hold(src);
        }
    }

    /** One unit: wrapped together into as few records as fit. */
    @Override
    public void writeAll(ByteBuffer[] srcs) throws SSLException {
        boolean wasCorked = corked;
        corked = true;
        for (ByteBuffer b : srcs) {
            write(b);
        }
        if (!wasCorked) {
            uncork();
        }
    }

    /** TLS cannot use sendfile(2): files are read, encrypted and sent in bounded batches. */
    @Override
    public FileRef openFile(java.nio.file.Path path) throws java.io.IOException {
        return new FileRef(-1, java.nio.channels.FileChannel.open(path, java.nio.file.StandardOpenOption.READ), true);
    }

    /** Queues a file region behind everything written so far; owned channels are closed when done. */
    @Override
    public void addFile(FileRef file, long position, long count) throws SSLException {
        pending.add(new FileSource(file.channel(), file.owned(), position, count));
        held += count;
        out.heldChanged();
        pump();
    }

    private boolean canWrapNow() {
        // not while a delegated task runs: the engine answers every wrap with NEED_TASK, consuming nothing
        return !corked && handshakeDone && !taskRunning && !closeNotifyQueued && conn.isOpen()
                && out.isEmpty();
    }

    private void hold(ByteBuffer src) {
        Object tail = pending.peekLast();
        ByteBuffer into;
        if (tail instanceof ByteBuffer b && b != wrapping) {
            into = b;
        } else {
            into = ctx.takeTlsBuffer(src.remaining()); // borrowed until wrapped (pump gives it back)
            pending.add(into);
        }
        if (into.remaining() < src.remaining()) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(into.capacity() * 2, into.position() + src.remaining()));
            bigger.put(into.flip());
            ctx.releaseTlsBuffer(into);
            pending.pollLast();
            pending.add(bigger);
            into = bigger;
        }
        int n = src.remaining();
        into.put(src);
        held += n;
        out.heldChanged();
    }

    /** Wraps held plaintext and file regions while the socket takes them; then close_notify if close() asked. */
    void pump() throws SSLException {
        int budget = conn.config().writeBudget();
        try {
            while (canWrapNow() && !pending.isEmpty()) {
                if (budget-- == 0) {
                    // a fast reader could keep the loop here for a whole file: yield like a flush does
                    if (!pumpScheduled) {
                        pumpScheduled = true;
                        conn.later(pumpAgain);
                    }
                    break;
                }
                Object head = pending.peek();
                if (head instanceof ByteBuffer b) {
                    b.flip();
                    int before = b.remaining();
                    wrapping = b; // a handler writing from a callback inside wrapBatch must not append to it
                    boolean progress;
                    try {
                        progress = wrapBatch(b);
                    } finally {
                        wrapping = null;
                    }
                    held -= before - b.remaining();
                    b.compact();
                    if (b.position() == 0) {
                        pending.poll();
                        ctx.releaseTlsBuffer(b); // a big one (a large write held) goes to the GC
                    }
                    if (!progress) {
                        break; // the engine took nothing and made nothing: wait for what it waits for
                    }
                } else {
                    FileSource f = (FileSource) head;
                    if (directBuffers) {
                        ByteBuffer batch = ctx.takeTlsFileBuffer();
                        try {
                            readFileBatch(f, batch);
                            wrapFileBatch(batch);
                        } finally {
                            ctx.releaseTlsFileBuffer(batch);
                        }
                        continue;
                    }
                    if (fileBuf == null) {
                        fileBuf = ByteBuffer.allocate(RECORDS_PER_SEND * 16 * 1024);
                    }
                    ByteBuffer batch = fileBuf;
                    readFileBatch(f, batch);
                    if (f.remaining == 0) {
                        fileBuf = null; // 64 KiB: not kept once the file is sent
                    }
                    wrapFileBatch(batch);
                }
            }
            if (closeRequested && !closeNotifyQueued && pending.isEmpty() && !corked && conn.isOpen()) {
                closeNotifyQueued = true;
                engine.closeOutbound();
                wrapHandshake();
            }
        } catch (SSLException e) {
            throw e;
        } catch (Exception e) {
            throw new SSLException("TLS write of " + conn + " failed: " + e, e);
        }
        out.heldChanged();
        if (closeNotifyQueued && pending.isEmpty() && conn.isOpen() && out.isEmpty()) {
            conn.outputDrained();
        }
    }

    /**
     * Reads the next batch of {@code f} into {@code batch} (cleared first), counting it off what is held; a file read
     * to its end leaves the queue and is closed. For a native engine (see {@link #directBuffers}) the batch is a
     * direct buffer lent for the batch: the file is read and encrypted in place.
     */
    private void readFileBatch(FileSource f, ByteBuffer batch) throws java.io.IOException {
        batch.clear().limit((int) Math.min(batch.capacity(), f.remaining));
        int n = f.remaining == 0 ? 0 : f.channel.read(batch, f.position);
        if (n < 0) {
            throw new java.io.EOFException("sendFile over TLS: file ended " + f.remaining + " bytes early at position "
                    + f.position);
        }
        f.position += n;
        f.remaining -= n;
        held -= n;
        if (f.remaining == 0) {
            pending.poll();
            closeFile(f);
        }
    }

    /** Wraps a file batch; what the engine does not take now is copied aside, ahead of the file's rest. */
    private void wrapFileBatch(ByteBuffer batch) throws SSLException {
        batch.flip();
        while (batch.hasRemaining() && conn.isOpen()) {
            if (!wrapBatch(batch)) { // the engine stalled: keep the rest ahead of the file's rest
                ByteBuffer rest = ByteBuffer.allocate(batch.remaining()).put(batch);
                pending.addFirst(rest);
                held += rest.position();
                break;
            }
        }
    }

    private void pumpAgain() {
        pumpScheduled = false;
        try {
            pump();
        } catch (Throwable t) {
            conn.fail(t);
        }
    }

    /** Held plaintext and file bytes not yet wrapped. */
    @Override
    public long held() {
        return held;
    }

    @Override
    public void refill() throws SSLException {
        pump();
    }

    /** Whether everything was wrapped and, once close was asked for, close_notify too. */
    @Override
    public boolean allQueued() {
        return pending.isEmpty() && (!closeRequested || closeNotifyQueued || !handshakeDone);
    }

    @Override
    public void cork() {
        corked = true;
    }

    @Override
    public void uncork() throws SSLException {
        if (corked) {
            corked = false;
            pump();
        }
    }

    @Override
    public boolean isCorked() {
        return corked;
    }

    private void wrapWhileTaken(ByteBuffer src) throws SSLException {
        while (src.hasRemaining() && canWrapNow() && wrapBatch(src)) {
            // until the socket stops taking it, or the engine stops taking plaintext
        }
    }

    /**
     * Wraps up to {@link #RECORDS_PER_SEND} records of {@code src} and hands them to the socket in one write; false
     * if the engine consumed and produced nothing (it waits for a task or the peer: looping on it would spin).
     */
    private boolean wrapBatch(ByteBuffer src) throws SSLException {
        int packet = engine.getSession().getPacketBufferSize();
        ByteBuffer netOut = (directBuffers ? ctx.tlsNetOutDirect(packet * RECORDS_PER_SEND)
                : ctx.tlsNetOut(packet * RECORDS_PER_SEND)).clear();
        boolean progress = false;
        while (src.hasRemaining() && netOut.remaining() >= packet) {
            SSLEngineResult r = engine.wrap(src, netOut);
            if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                throw new SSLException("TLS output of " + conn + " is closed" + (engine.isInboundDone()
                        ? ": the engine closed it when the peer's close_notify arrived (TLS 1.2, or a provider without"
                        + " the TLS 1.3 half-close that way, such as Conscrypt): nothing can be sent after it" : ""));
            }
            if (r.bytesConsumed() == 0 && r.bytesProduced() == 0) {
                break; // nothing consumed, nothing produced: never ask again in this loop
            }
            progress = true;
            if (r.getStatus() != SSLEngineResult.Status.OK) {
                break; // overflow: send what we have, then go on with an empty netOut
            }
        }
        if (netOut.position() > 0) {
            send(netOut.flip());
        }
        if (conn.isOpen() && engine.getHandshakeStatus() != HandshakeStatus.NOT_HANDSHAKING) {
            try {
                process(EMPTY); // a key update started by this wrap
            } catch (SSLException e) {
                throw e;
            } catch (Exception e) {
                throw new SSLException(e);
            }
        }
        return progress;
    }

    /** Sends what the engine wants to send without application data (handshake, alerts, close_notify). */
    private int wrapHandshake() throws Exception {
        ByteBuffer netOut = ctx.tlsNetOut(engine.getSession().getPacketBufferSize()).clear();
        boolean finishedNow = false;
        while (true) {
            SSLEngineResult r;
            try {
                r = engine.wrap(EMPTY, netOut);
            } catch (SSLException e) {
                peerFailure = e; // the handshake's answer to what the peer sent
                throw e;
            }
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                if (netOut.position() > 0) {
                    break;
                }
                netOut = ctx.tlsNetOut(Math.max(netOut.capacity() * 2, engine.getSession().getPacketBufferSize()))
                        .clear();
                continue;
            }
            if (r.getHandshakeStatus() == HandshakeStatus.FINISHED) {
                finishedNow = true;
            }
            if (r.getStatus() == SSLEngineResult.Status.CLOSED || r.getHandshakeStatus() != HandshakeStatus.NEED_WRAP
                    || r.bytesProduced() == 0) {
                break;
            }
        }
        int produced = netOut.position();
        if (produced > 0) {
            send(netOut.flip());
        }
        if (finishedNow && conn.isOpen()) {
            finished();
        }
        return produced;
    }

    /** Best effort: the engine failed and has an alert to tell the peer why (sent straight, if the socket takes it). */
    private void sendAlert() {
        try {
            // not only on NEED_WRAP: Conscrypt's engine holds the alert without reporting NEED_WRAP
            if (conn.isOpen()) {
                ByteBuffer netOut = ctx.tlsNetOut(engine.getSession().getPacketBufferSize()).clear();
                engine.wrap(EMPTY, netOut);
                if (netOut.position() > 0) {
                    send(netOut.flip());
                }
            }
        } catch (Exception ignored) {
            // the connection is failing with the original error
        }
    }

    /**
     * Queues close_notify behind everything written so far (close() and shutdownOutput()); uncorks. During the
     * handshake there is nothing of the application's to end: the connection half-closes without it.
     */
    @Override
    public void endOutput() throws SSLException {
        corked = false;
        if (!handshakeDone) {
            return;
        }
        closeRequested = true;
        pump();
    }

    /** A graceful close waits this long for the peer's close_notify (or EOF) after sending its own. */
    @Override
    public java.time.Duration lingerTimeout(ConnectionConfig connectionConfig) {
        return config.closeNotifyTimeout();
    }

    @Override
    public void closed() {
        cancelTimer();
        engine.closeOutbound();
        // Both ends closed and the engine's output taken: an engine with native state (Conscrypt: an SSL and a pipe)
        // frees it now, not at GC. What the wraps produce (close_notify) goes nowhere: the socket is closing.
        try {
            ByteBuffer discard = ctx.tlsNetOut(engine.getSession().getPacketBufferSize());
            for (int i = 0; i < 4 && engine.wrap(EMPTY, discard.clear()).bytesProduced() > 0; i++) {
                // drained in a few records at most
            }
        } catch (SSLException | RuntimeException ignored) {
            // nothing more to take
        }
        try {
            engine.closeInbound();
        } catch (SSLException notified) {
            // the JDK's engine: "closing inbound before receiving the peer's close_notify"; true, and moot now
        }
        for (Object o : pending) {
            if (o instanceof FileSource f) {
                closeFile(f);
            } else {
                ctx.releaseTlsBuffer((ByteBuffer) o);
            }
        }
        pending.clear();
        if (netIn != null) {
            ctx.releaseTlsBuffer(netIn);
            netIn = null;
        }
        fileBuf = null;
        held = 0;
    }

    private static void closeFile(FileSource f) {
        if (f.owned) {
            try {
                f.channel.close();
            } catch (java.io.IOException ignored) {
                // read-only: nothing to lose
            }
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
    }

    private void ensureNetIn(int size) {
        if (netIn == null) {
            netIn = ctx.takeTlsBuffer(Math.max(size, engine.getSession().getPacketBufferSize()));
        } else if (netIn.capacity() < size) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(size, netIn.capacity() * 2));
            bigger.put(netIn.flip());
            ctx.releaseTlsBuffer(netIn);
            netIn = bigger;
        }
    }

    @Override
    public javax.net.ssl.SSLSession session() {
        return engine.getSession();
    }

    @Override
    public String applicationProtocol() {
        String p = engine.getApplicationProtocol();
        // the JDK's engine says "" once a handshake without ALPN agreement is done; Conscrypt's says null
        return p == null && handshakeDone ? "" : p;
    }

    /** Ciphertext (handshake, records, alerts) into the outbound queue: the one way encrypted bytes leave. */
    private void send(ByteBuffer cipher) {
        if (conn.isOpen()) {
            out.write(cipher);
        }
    }
}
