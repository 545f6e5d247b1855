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

    private final Store store;
    private final AtomicLong buffered;
    private final long queryBufferLimit;
    private final Commands commands;
    private final Reply reply = new Reply();
    private final Call call;
    private byte[] scratch = new byte[64 * 1024];
    private long connections;
    private long protocolErrors;
    private long lockWaits;
    private long maxQueued;

    RespHandler(Store store, AtomicLong buffered, long queryBufferLimit) {
        this.store = store;
        this.buffered = buffered;
        this.queryBufferLimit = queryBufferLimit;
        this.commands = new Commands(store);
        this.call = new Call(store);
    }

    @Override
    public void onOpen(Connection connection) {
        connections++;
        Session s = new Session(buffered, store.clientIds.incrementAndGet(), connection);
        s.handler = this;
        connection.attach(s);
        store.lock.lock();
        try {
            s.authenticated = store.config.requirepass.isEmpty();
            store.clients.put(s.id, s);
            store.connectionsReceived++;
        } finally {
            store.lock.unlock();
        }
    }

    @Override
    public void onData(Connection connection, ByteBuffer data) {
        Session s = (Session) connection.attachment();
        if (s.done) {
            return;
        }
        if (s.waiting != null) {
            // blocked in BLPOP: keep what comes for after the wait (reading goes on, so a close is noticed)
            s.append(data);
            if (s.pending() > queryBufferLimit) {
                s.done = true;
                s.release();
                connection.close();
            }
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
        reply.begin(connection, s.resp3);
        Call x = call;
        try {
            if (!store.lock.tryLock()) {
                lockWaits++;
                store.lock.lock();
            }
            try {
                x.now = Keyspace.now();
                x.s = s;
                x.r = reply;
                x.db = store.dbs[s.db];
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
                    if (parser.args().argc > 0) {
                        x.a = parser.args();
                        int mode = s.replyMode;
                        int mark = reply.size();
                        int result = commands.execute(x);
                        if (x.push) {
                            if (mode == 3 && s.replyMode == 3) {
                                s.replyMode = 0;
                            }
                        } else if (mode == 3) { // CLIENT REPLY SKIP: this reply is dropped
                            reply.truncate(mark);
                            if (s.replyMode == 3) {
                                s.replyMode = 0;
                            }
                        } else if (s.replyMode == 1) { // CLIENT REPLY OFF
                            reply.truncate(mark);
                        } else if (s.replyMode == 2) { // SKIP has no reply itself, and drops the next one
                            reply.truncate(mark);
                            s.replyMode = 3;
                        }
                        if (result == Call.CLOSE) {
                            close = true; // QUIT
                            break;
                        }
                        if (result == Call.BLOCKED) {
                            break; // BLPOP waits: the rest of the input waits with it (see onData)
                        }
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
                store.lock.unlock();
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
        if (s.waiting == null) {
            runKept(connection, s);
        }
    }

    /** Runs requests kept back (the client was behind, or blocked) and reads again if nothing holds it back. */
    private void runKept(Connection connection, Session s) {
        if (!s.done && s.pending() > 0 && !s.parser.inRequest()) {
            process(connection, s, s.buffer(), s.pending());
        }
        if (!s.done && s.waiting == null && connection.isWritable() && connection.isOpen()) {
            connection.resumeReading();
        }
    }

    /**
     * On this handler's reactor: the BLPOP that {@code s} waited in ended (served by a push, or timed out) with
     * {@code reply}; its kept requests run next.
     */
    void resume(Session s, byte[] reply) {
        Connection connection = s.connection;
        if (!connection.isOpen() || s.done) {
            return;
        }
        try {
            connection.write(reply);
        } catch (ClosedConnectionException gone) {
            return;
        }
        runKept(connection, s);
    }

    @Override
    public void onClose(Connection connection, Throwable cause) {
        Object o = connection.attachment();
        if (o instanceof Session) {
            Session s = (Session) o;
            s.release();
            store.lock.lock();
            try {
                store.clients.remove(s.id);
                store.pubsub.dropAll(s);
                if (s.waiting != null) {
                    store.blocking.cancel(s.waiting);
                }
                TxCommands.unwatch(s, store);
            } finally {
                store.lock.unlock();
            }
        }
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
