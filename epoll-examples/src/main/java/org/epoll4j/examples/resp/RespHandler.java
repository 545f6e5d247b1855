package org.epoll4j.examples.resp;

import org.epoll4j.net.ClosedConnectionException;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Redis protocol on one reactor's connections. Every complete request of a read is parsed and run under one
 * acquisition of the keyspace lock, and their replies leave in one {@link Connection#write}: a pipelined batch costs
 * one read and one send. Only a request's incomplete tail is copied out of the reactor's scratch buffer.
 */
final class RespHandler implements ConnectionHandler {
    /** Reply bytes past which a batch's replies are handed to the connection before the batch ends. */
    static final int FLUSH_AT = 64 * 1024;

    private final Keyspace keyspace;
    private final ExpirySweeper sweeper;
    private final AtomicLong buffered;
    private final long queryBufferLimit;
    private final Commands commands;
    private final Reply reply = new Reply();
    private byte[] scratch = new byte[64 * 1024];
    private long connections;
    private long protocolErrors;
    private long lockWaits;
    private long maxQueued;

    RespHandler(Keyspace keyspace, ExpirySweeper sweeper, AtomicLong buffered, long queryBufferLimit) {
        this.keyspace = keyspace;
        this.sweeper = sweeper;
        this.buffered = buffered;
        this.queryBufferLimit = queryBufferLimit;
        this.commands = new Commands(keyspace);
    }

    @Override
    public void onOpen(Connection connection) {
        connections++;
        connection.attach(new Session(buffered));
        sweeper.opened(connection.reactor());
    }

    @Override
    public void onData(Connection connection, ByteBuffer data) {
        Session s = (Session) connection.attachment();
        if (s.done) {
            return;
        }
        if (s.pending() == 0) {
            int n = data.remaining();
            if (scratch.length < n) {
                scratch = new byte[n];
            }
            data.get(scratch, 0, n);
            process(connection, s, scratch, n);
        } else {
            s.append(data);
            process(connection, s, s.buffer(), s.pending());
        }
    }

    /**
     * Runs every complete request in {@code a[0, end)} (a request's first byte at 0) and keeps the incomplete rest.
     * Stops early, keeping complete requests for later, once the client has more replies queued than the high
     * watermark: a client that pipelines requests for large values without reading them cannot make the server
     * queue without bound.
     */
    private void process(Connection connection, Session s, byte[] a, int end) {
        int start = 0;
        boolean close = false;
        boolean backlogged = false;
        RequestParser parser = s.parser;
        reply.begin(connection);
        try {
            if (!keyspace.lock.tryLock()) {
                lockWaits++;
                keyspace.lock.lock();
            }
            try {
                long now = Keyspace.now();
                while (true) {
                    int status = parser.parse(a, start, end);
                    if (status == RequestParser.NEED_MORE) {
                        break;
                    }
                    if (status == RequestParser.ERROR) {
                        protocolErrors++;
                        reply.error(parser.error());
                        close = true;
                        break;
                    }
                    start += parser.consumed();
                    if (parser.args().argc > 0 && commands.execute(parser.args(), reply, now)) {
                        close = true; // QUIT
                        break;
                    }
                    if (reply.size() >= FLUSH_AT) {
                        reply.flush();
                    }
                    if (!connection.isWritable()) {
                        backlogged = true;
                        break;
                    }
                }
            } finally {
                keyspace.lock.unlock();
            }
            if (!close && end - start > queryBufferLimit) {
                protocolErrors++;
                reply.error("ERR Protocol error: request larger than the query buffer limit of "
                        + queryBufferLimit + " bytes");
                close = true;
            }
            if (close) {
                s.done = true;
                s.release();
                reply.flush();
                connection.close(); // after the reply: close() sends what is queued first
                return;
            }
            s.keep(a, start, end);
            reply.flush();
        } catch (ClosedConnectionException gone) {
            s.release(); // a large reply's write failed and closed the connection: nothing left to answer
            return;
        }
        maxQueued = Math.max(maxQueued, connection.queuedBytes());
        if (backlogged || !connection.isWritable()) {
            connection.pauseReading(); // the client does not read its replies: stop taking its requests
        }
    }

    @Override
    public void onWritabilityChanged(Connection connection, boolean writable) {
        if (!writable) {
            return;
        }
        Session s = (Session) connection.attachment();
        if (!s.done && s.pending() > 0 && !s.parser.inRequest()) {
            process(connection, s, s.buffer(), s.pending()); // requests kept back while the client was behind
        }
        if (!s.done && connection.isWritable()) {
            connection.resumeReading();
        }
    }

    @Override
    public void onClose(Connection connection, Throwable cause) {
        Object s = connection.attachment();
        if (s instanceof Session) {
            ((Session) s).release();
        }
        sweeper.closed();
    }

    /** Connections accepted (plain counter: read after the reactor's thread ended). */
    long connections() {
        return connections;
    }

    /** Requests run. */
    long commands() {
        return commands.executed();
    }

    /** Connection.write calls made. */
    long writes() {
        return reply.writes();
    }

    /** Batches that found the keyspace lock taken by another reactor. */
    long lockWaits() {
        return lockWaits;
    }

    /** The most reply bytes any connection had queued after a batch (tests: bounded by the watermark). */
    long maxQueued() {
        return maxQueued;
    }

    /** Connections closed for malformed input. */
    long protocolErrors() {
        return protocolErrors;
    }
}
